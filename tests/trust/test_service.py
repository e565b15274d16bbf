"""Importing trust anchors: what is accepted, what is refused (each bad input with its
Vietnamese message), duplicates, removal, audit events, the anchor set's version."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.errors import NotFound
from ioffice.trust import service as trust
from ioffice.trust.models import TrustAnchor
from tests.support.foreign_ca import ForeignCa, _name, der, make_cert, pem

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


@pytest.fixture(scope="module")
def ca() -> ForeignCa:
    return ForeignCa.create()


def _count(db: Session) -> int:
    return db.scalar(select(func.count(TrustAnchor.id)))


def _events(db: Session, tag: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == tag)
                           .order_by(AuditEvent.id)))


def _refused(db: Session, data: bytes, *fragments: str) -> str:
    before = _count(db)
    with pytest.raises(trust.TrustAnchorError) as info:
        trust.import_certificates(db, CTX, data)
    for fragment in fragments:
        assert fragment in info.value.message
    assert _count(db) == before
    return info.value.message


def test_a_pem_bundle_imports_the_root_and_the_intermediate_with_their_facts(db, ca) -> None:
    result = trust.import_certificates(db, CTX, pem(ca.root, ca.intermediate), filename="b.pem")
    assert [a.is_root for a in result.added] == [True, False]
    root, inter = result.added
    assert root.subject.startswith("CN=Foreign Root CA G2") and root.issuer == root.subject
    assert inter.subject.startswith("CN=Công ty Chứng thực Ngoài Sub CA")
    assert inter.issuer == root.subject
    assert root.fingerprint == trust.fingerprint(ca.root) and len(root.fingerprint) == 64
    assert root.not_after == ca.root.not_valid_after_utc
    assert root.der == der(ca.root)
    assert "Đã nhập 2 chứng thư" in result.message and "(gốc)" in result.message
    events = _events(db, trust.IMPORTED)
    assert [e.details["fingerprint"] for e in events[-2:]] == [root.fingerprint, inter.fingerprint]
    assert events[-1].details["filename"] == "b.pem"
    assert [a.id for a in trust.list_anchors(db)] == [root.id, inter.id]  # roots first


def test_der_is_accepted(db, ca) -> None:
    result = trust.import_certificates(db, CTX, der(ca.root))
    assert [a.is_root for a in result.added] == [True]


def test_a_duplicate_is_reported_and_nothing_doubled(db, ca) -> None:
    trust.import_certificates(db, CTX, pem(ca.root))
    events = len(_events(db, trust.IMPORTED))
    again = trust.import_certificates(db, CTX, der(ca.root))
    assert again.added == () and len(again.duplicates) == 1
    assert "đã có trong danh sách từ trước, không nhập lại" in again.message
    assert _count(db) == 1 and len(_events(db, trust.IMPORTED)) == events
    # a bundle with the known root and a new intermediate: only the intermediate is added
    mixed = trust.import_certificates(db, CTX, pem(ca.root, ca.intermediate, ca.intermediate))
    assert [a.is_root for a in mixed.added] == [False] and len(mixed.duplicates) == 1
    assert _count(db) == 2


def test_garbage_between_pem_blocks_is_ignored_as_in_a_commented_bundle(db, ca) -> None:
    data = (b"# Foreign Root CA G2\nSubject: ...\n" + pem(ca.root) + b"\x00\xff garbage \n"
            + b"random text\n" + pem(ca.intermediate) + b"trailing")
    assert len(trust.import_certificates(db, CTX, data).added) == 2


def test_not_a_certificate_is_refused(db) -> None:
    _refused(db, b"%PDF-1.7 not a certificate at all", "không phải chứng thư số")
    _refused(db, b"", "Tệp rỗng")


def test_a_damaged_pem_block_is_refused(db, ca) -> None:
    good = pem(ca.root).decode()
    body = good.splitlines()
    body[3] = "!!!!" + body[3][4:]
    _refused(db, ("\n".join(body) + "\n").encode(), "Khối chứng thư thứ 1", "bị hỏng")
    _refused(db, pem(ca.root) + b"-----BEGIN CERTIFICATE-----\nMIIB\n",
             "không có dòng -----END-----")


def test_a_private_key_in_the_file_is_refused(db, ca) -> None:
    key = ca.leaf_key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    _refused(db, pem(ca.root) + key, "Khối thứ 2", "PRIVATE KEY", "không bao giờ tải khóa bí mật")


def test_a_leaf_certificate_is_refused_even_in_a_bundle(db, ca) -> None:
    message = _refused(db, pem(ca.leaf), "Lê Thị Ngoại", "người dùng cuối", "CA=TRUE")
    assert "không nhập gì từ tệp này" in message
    _refused(db, pem(ca.root, ca.leaf), "người dùng cuối")  # all or nothing


def test_an_expired_ca_certificate_is_refused(db) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    old = make_cert(_name("Old Root"), key, _name("Old Root"), key, ca=True,
                    not_before=now - dt.timedelta(days=3650), not_after=now - dt.timedelta(days=1))
    _refused(db, pem(old), "Old Root", "đã hết hạn ngày", f"{old.not_valid_after_utc:%d/%m/%Y}")


def test_a_self_signed_certificate_whose_signature_does_not_verify_is_refused(db) -> None:
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    forged = make_cert(_name("Forged Root"), key, _name("Forged Root"), other, ca=True)
    _refused(db, pem(forged), "Forged Root", "chữ ký trên chứng thư không khớp")


def test_a_huge_file_is_refused_before_parsing(db, ca) -> None:
    data = pem(ca.root) + b"#" * trust.MAX_FILE_BYTES
    _refused(db, data, "Tệp quá lớn", "không quá 1024 KB")


def test_too_many_certificates_in_one_file(db, ca) -> None:
    _refused(db, pem(ca.root) * (trust.MAX_CERTIFICATES + 1), "hơn 100 chứng thư")


def test_removal_is_audited_and_changes_the_version(db, ca) -> None:
    assert trust.anchor_set(db) == trust.EMPTY
    root = trust.import_certificates(db, CTX, pem(ca.root)).added[0]
    first = trust.anchor_set(db)
    assert first.version and first.roots == (der(ca.root),) and first.intermediates == ()
    trust.import_certificates(db, CTX, pem(ca.intermediate))
    second = trust.anchor_set(db)
    assert second.version != first.version and second.intermediates == (der(ca.intermediate),)
    trust.remove(db, CTX, root.id)
    event = _events(db, trust.REMOVED)[-1]
    assert event.details == {"fingerprint": root.fingerprint, "subject": root.subject,
                             "root": True}
    third = trust.anchor_set(db)
    assert third.roots == () and third.version not in (first.version, second.version)
    with pytest.raises(NotFound):
        trust.remove(db, CTX, root.id)


def test_find_by_id_or_fingerprint_prefix(db, ca) -> None:
    root = trust.import_certificates(db, CTX, pem(ca.root)).added[0]
    assert trust.find(db, str(root.id)) is root
    colons = ":".join(root.fingerprint[i:i + 2] for i in range(0, 16, 2)).upper()
    assert trust.find(db, colons) is root
    assert trust.find(db, root.fingerprint[:7]) is None  # too short to be safe
    assert trust.find(db, "zz" * 8) is None
