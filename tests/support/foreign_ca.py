"""A certification authority that is not ours (a stand-in for a public CA of another provider):
root, intermediate and a leaf, made with ``cryptography``, and PDFs signed with pyHanko by the
leaf, carrying the CAs' CRLs in their DSS (PAdES B-LT) as a real provider's signing tool does.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

ROOT_NAME = "Foreign Root CA G2"
INTERMEDIATE_NAME = "Công ty Chứng thực Ngoài Sub CA"
SIGNER_NAME = "Lê Thị Ngoại"


def _name(cn: str, org: str = "Công ty Chứng thực Ngoài") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_cert(subject: x509.Name, key, issuer: x509.Name, issuer_key, *, ca: bool,
              not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
              path_length: int | None = None, eku: bool = False) -> x509.Certificate:
    now = _now()
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        if eku:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_crl(issuer: x509.Certificate, key) -> x509.CertificateRevocationList:
    now = _now()
    return (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
            .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der(cert))


@dataclass
class ForeignCa:
    root: x509.Certificate
    root_key: object
    intermediate: x509.Certificate
    intermediate_key: object
    leaf: x509.Certificate
    leaf_key: object

    @classmethod
    def create(cls) -> ForeignCa:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root = make_cert(_name(ROOT_NAME), root_key, _name(ROOT_NAME), root_key, ca=True)
        inter_key = ec.generate_private_key(ec.SECP256R1())
        inter = make_cert(_name(INTERMEDIATE_NAME), inter_key, root.subject, root_key, ca=True,
                          path_length=0)
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = make_cert(_name(SIGNER_NAME, "Sở Ngoại vụ tỉnh Bạc Liêu"), leaf_key,
                         inter.subject, inter_key, ca=False)
        return cls(root, root_key, inter, inter_key, leaf, leaf_key)

    def sign(self, pdf: bytes) -> bytes:
        """``pdf`` signed by the leaf, PAdES B-LT: the intermediate in the CMS, both CRLs in
        the document's DSS (pyHanko as documented, nothing of ours)."""
        key_der = self.leaf_key.private_bytes(serialization.Encoding.DER,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        signer = signers.SimpleSigner(
            signing_cert=_asn1(self.leaf), signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([_asn1(self.intermediate),
                                                             _asn1(self.root)]))
        crls = [asn1_crl.CertificateList.load(
            make_crl(ca, k).public_bytes(serialization.Encoding.DER))
            for ca, k in ((self.root, self.root_key), (self.intermediate, self.intermediate_key))]
        vc = ValidationContext(trust_roots=[_asn1(self.root)],
                               other_certs=[_asn1(self.intermediate)], crls=crls,
                               allow_fetching=False, revocation_mode="require")
        meta = signers.PdfSignatureMetadata(
            field_name="ChuKyNgoai", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
            embed_validation_info=True, validation_context=vc)
        out = io.BytesIO()
        signers.PdfSigner(meta, signer).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
        return out.getvalue()
