"""Command line: ``python -m signing {make-pki,issue,revoke,sign,validate,demo-pdf} ...``.

The PKI passphrase comes from ``$SIGNING_PKI_PASSPHRASE`` or is asked for on the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .appearance import AgencyStamp, AttachmentStamp, Box, PersonalStamp
from .demo import make_demo_pdf
from .errors import SigningError
from .pki import CertificateKind, Pki
from .sign import sign_pdf
from .trust import TrustStore
from .validate import validate_pdf

__all__ = ["main"]


def _passphrase(confirm: bool = False) -> str:
    env = os.environ.get("SIGNING_PKI_PASSPHRASE")
    if env:
        return env
    pw = getpass.getpass("Mật khẩu PKI: ")
    if confirm and getpass.getpass("Nhập lại: ") != pw:
        raise SigningError("Hai lần nhập mật khẩu không khớp.")
    return pw


def _box(text: str) -> Box:
    page, x1, y1, x2, y2 = (float(v) for v in text.split(","))
    return Box(int(page), x1, y1, x2, y2)


_PUBLIC_URL_HELP = ("base URL serving /pki/crl, /pki/ocsp, /pki/ca (the app's "
                    "IOFFICE_PUBLIC_URL), named in the certificates issued")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m signing", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-pki", help="create the simulated PKI into a directory")
    m.add_argument("dir")
    m.add_argument("--public-url", help=_PUBLIC_URL_HELP)
    i = sub.add_parser("issue", help="issue an agency seal or personal certificate")
    i.add_argument("dir")
    i.add_argument("--kind", choices=[k.value for k in CertificateKind], required=True)
    i.add_argument("--agency-id", required=True)
    i.add_argument("--agency-name", required=True)
    i.add_argument("--name", default="", help="full name (personal)")
    i.add_argument("--position", default="", help="position title (personal)")
    i.add_argument("--key-type", choices=["rsa", "ec"], default="rsa")
    i.add_argument("--csr", help="issue for this CSR (PEM) instead of generating a key")
    i.add_argument("--out", help="where to write the certificate issued for a CSR")
    i.add_argument("--public-url", help=_PUBLIC_URL_HELP)
    r = sub.add_parser("revoke", help="revoke a certificate by serial (hex)")
    r.add_argument("dir")
    r.add_argument("serial")
    s = sub.add_parser("sign", help="sign a PDF with a key held in the PKI directory")
    s.add_argument("dir")
    s.add_argument("serial")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--level", choices=["B-B", "B-T", "B-LT"], default="B-B")
    s.add_argument("--personal", metavar="PAGE,X1,Y1,X2,Y2", help="personal signature box")
    s.add_argument("--position", default="")
    s.add_argument("--name", default="")
    s.add_argument("--seal-over", metavar="PAGE,X1,Y1,X2,Y2",
                   help="agency seal over this personal signature box")
    s.add_argument("--attachment", action="store_true", help="agency signature, top right")
    s.add_argument("--agency-name", default="")
    s.add_argument("--notation", default="")
    v = sub.add_parser("validate", help="validate the signatures of a PDF")
    v.add_argument("dir")
    v.add_argument("input")
    d = sub.add_parser("demo-pdf", help="write a 2-page demo PDF in Vietnamese")
    d.add_argument("output")
    return p


def _run(args: argparse.Namespace) -> int:
    if args.cmd == "make-pki":
        Pki.create(args.dir, _passphrase(confirm=True), public_url=args.public_url)
        print(f"Đã tạo PKI tại {args.dir}")
        return 0
    if args.cmd == "demo-pdf":
        Path(args.output).write_bytes(make_demo_pdf())
        return 0
    if args.cmd == "validate":
        report = validate_pdf(Path(args.input).read_bytes(), TrustStore.load(args.dir))
        for sig in report.signatures:
            print(f"- {sig.field_name}: {sig.signer_name} ({sig.agency_id}) "
                  f"serial={sig.certificate_serial} time={sig.signing_time} "
                  f"{sig.verdict.value}: {sig.explanation}")
        print(report.explanation)
        return 0 if report.valid else 1
    pki = Pki.open(args.dir, _passphrase(), getattr(args, "public_url", None))
    if args.cmd == "issue":
        if args.csr:
            cert = pki.issue_from_csr(
                Path(args.csr).read_bytes(), kind=args.kind, agency_id=args.agency_id,
                agency_name=args.agency_name, full_name=args.name, position=args.position,
            )
            if args.out:
                Path(args.out).write_bytes(cert.dump())
            print(f"{int(cert.serial_number):x}")
        elif args.kind == "seal":
            print(f"{pki.issue_seal(args.agency_id, args.agency_name, key_type=args.key_type).serial:x}")
        else:
            cred = pki.issue_personal(args.name, args.position, args.agency_id,
                                      args.agency_name, key_type=args.key_type)
            print(f"{cred.serial:x}")
        return 0
    if args.cmd == "revoke":
        pki.revoke(int(args.serial, 16))
        print("Đã thu hồi.")
        return 0
    stamp = None
    if args.personal:
        stamp = PersonalStamp(_box(args.personal), args.position, args.name)
    elif args.seal_over:
        stamp = AgencyStamp(_box(args.seal_over), args.notation)
    elif args.attachment:
        stamp = AttachmentStamp(args.agency_name, args.notation)
    signed = sign_pdf(
        Path(args.input).read_bytes(), pki.credential(int(args.serial, 16)),
        trust=pki.trust_store(), stamp=stamp, level=args.level,
        timestamper=pki.timestamper() if args.level != "B-B" else None,
    )
    Path(args.output).write_bytes(signed or b"")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import install_speedups

    install_speedups()  # this process's own: validating is what they speed up
    try:
        return _run(args)
    except SigningError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
