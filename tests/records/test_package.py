"""The electronic dossier package: a closed dossier exported as one ZIP (signed PDFs intact,
metadata per document and per dossier, a manifest of SHA-256s, the table of contents) and
imported by the archive with every hash and signature checked; each kind of tampering refused."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from ioffice.records import package
from ioffice.records import service as records
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from signing import TrustStore
from tests.outgoing.conftest import LEADER as OUT_LEADER
from tests.outgoing.conftest import PIN as OUT_PIN
from tests.outgoing.conftest import approve_all, new_draft
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, TODAY, make_year
from tests.support.factories import actor, register


@pytest.fixture
def exported(db: Session, blobs: BlobStore, trust: TrustStore, pki) -> bytes:
    """01.TCCB closed with a registered incoming document and a PIN-signed outgoing one."""
    from ioffice.agencies.models import Agency, User
    from ioffice.keys import service as keys
    from ioffice.outgoing import signatures

    leader = actor(db, OUT_LEADER)
    keys.issue_pin_key(db, pki, leader.ctx, db.get(User, leader.user_id),
                       db.get(Agency, leader.agency_id), OUT_PIN, key_type="ec")
    doc = approve_all(db, new_draft(db, blobs))
    signatures.sign_with_pin(db, blobs, trust, leader, doc.id, OUT_PIN)
    doc.number_text, doc.notation, doc.number_notation = "45", "BC-UBND", "45/BC-UBND"
    doc.promulgation_date = TODAY
    year = make_year(db)
    keeper = actor(db, KEEPER)
    records.open_dossier(db, keeper, year.dossier.id, "2026-02-01", TODAY)
    incoming = register(db, blobs, actor(db, CLERK), subject="Về việc tuyển dụng")
    records.add_document(db, keeper, year.dossier.id, "incoming", incoming.id)
    records.add_document(db, keeper, year.dossier.id, "outgoing", doc.id)
    _refused = pytest.raises(RecordsError)
    with _refused as info:
        package.export_package(db, blobs, keeper, year.dossier.id)
    assert "chưa kết thúc; chỉ xuất gói hồ sơ điện tử được hồ sơ đã kết thúc" in info.value.message
    records.close_dossier(db, keeper, year.dossier.id, "2026-11-30", "5", TODAY)
    return package.export_package(db, blobs, keeper, year.dossier.id)


def _rezip(data: bytes, *, drop: str = "", change: dict[str, bytes] | None = None,
           fix_manifest: bool = False) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    files = {n: src.read(n) for n in src.namelist() if n != drop}
    files.update(change or {})
    if fix_manifest:
        manifest = json.loads(files["manifest.json"])
        for f in manifest["files"]:
            if f["path"] in files:
                f["sha256"] = hashlib.sha256(files[f["path"]]).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, content in files.items():
            zf.writestr(n, content)
    return out.getvalue()


def test_the_package_holds_the_documents_their_metadata_and_a_manifest(
        db: Session, blobs: BlobStore, trust: TrustStore, exported: bytes) -> None:
    zf = zipfile.ZipFile(io.BytesIO(exported))
    names = set(zf.namelist())
    assert {"manifest.json", "ho-so.xml", "muc-luc.xlsx", "van-ban/001/dac-ta.xml",
            "van-ban/002/dac-ta.xml", "van-ban/002/45-BC-UBND.pdf"} <= names
    info = etree.fromstring(zf.read("ho-so.xml"))
    assert info.findtext("FileCode/FileNotation") == "01.TCCB"
    assert info.findtext("FileCode/OrganId") == "000.00.00.H12"
    assert info.findtext("Maintenance") == "Vĩnh viễn" and info.findtext("DocTotal") == "2"
    meta = etree.fromstring(zf.read("van-ban/002/dac-ta.xml"))
    assert meta.findtext("CodeNumber") == "45" and meta.findtext("CodeNotation") == "BC-UBND"
    assert meta.findtext("TypeName") == "Báo cáo"
    report = package.verify_package(exported, trust)
    assert (report.symbol, report.year, report.documents) == ("01.TCCB", 2026, 2)
    assert report.signatures == 1 and report.untrusted == 0
    row = package.import_package(db, blobs, trust, actor(db, ARCHIVIST), "goi.zip", exported)
    assert row.symbol == "01.TCCB" and blobs.read_bytes(row.sha256) == exported
    with pytest.raises(Exception) as info_:
        package.import_package(db, blobs, trust, actor(db, KEEPER), "goi.zip", exported)
    assert getattr(info_.value, "status_code", None) == 403


@pytest.mark.parametrize("case,words", [
    ("changed-pdf", "«van-ban/002/45-BC-UBND.pdf» đã bị thay đổi: mã SHA-256 không khớp"),
    ("changed-pdf-and-manifest", "chữ ký số trong «van-ban/002/45-BC-UBND.pdf» không còn "
                                 "nguyên vẹn"),
    ("removed-file", "thiếu tệp «van-ban/001/dac-ta.xml» có trong bảng kê"),
    ("added-file", "tệp «thua.txt» không có trong bảng kê"),
    ("edited-xml", "«ho-so.xml» đã bị thay đổi: mã SHA-256 không khớp"),
    ("edited-xml-and-manifest", "mã hồ sơ trong «ho-so.xml» khác với bảng kê"),
    ("broken-xml", "không phải XML đọc được"),
    ("no-manifest", "thiếu bảng kê «manifest.json»"),
    ("not-a-zip", "tệp không phải tệp ZIP"),
])
def test_a_tampered_package_is_refused(trust: TrustStore, exported: bytes, case: str,
                                       words: str) -> None:
    src = zipfile.ZipFile(io.BytesIO(exported))
    pdf = src.read("van-ban/002/45-BC-UBND.pdf")
    # the signed content changed in place, same length (a digit of the text)
    start = pdf.index(b"/Contents")
    body = pdf.replace(b"Tj", b"TJ", 1) if b"Tj" in pdf[:start] else pdf[:100] + b"%" + pdf[101:]
    xml = src.read("ho-so.xml").replace(b"01.TCCB", b"09.TCCB")
    data = {
        "changed-pdf": lambda: _rezip(exported, change={"van-ban/002/45-BC-UBND.pdf": body}),
        "changed-pdf-and-manifest": lambda: _rezip(
            exported, change={"van-ban/002/45-BC-UBND.pdf": body}, fix_manifest=True),
        "removed-file": lambda: _rezip(exported, drop="van-ban/001/dac-ta.xml"),
        "added-file": lambda: _rezip(exported, change={"thua.txt": b"x"}),
        "edited-xml": lambda: _rezip(exported, change={"ho-so.xml": xml}),
        "edited-xml-and-manifest": lambda: _rezip(exported, change={"ho-so.xml": xml},
                                                  fix_manifest=True),
        "broken-xml": lambda: _rezip(exported, change={"ho-so.xml": b"<FileInfo>"},
                                     fix_manifest=True),
        "no-manifest": lambda: _rezip(exported, drop="manifest.json"),
        "not-a-zip": lambda: b"PK not really",
    }[case]()
    with pytest.raises(RecordsError) as info:
        package.verify_package(data, trust)
    assert info.value.message.startswith("Gói hồ sơ không hợp lệ, chưa được nhập: ")
    assert words in info.value.message, info.value.message


def test_the_import_restores_a_read_only_archived_dossier(
        db: Session, blobs: BlobStore, trust: TrustStore, exported: bytes) -> None:
    from sqlalchemy import func, select

    from ioffice.audit.models import AuditEvent
    from ioffice.errors import NotFound
    from ioffice.incoming.models import IncomingDocument
    from ioffice.maintenance import referenced_blobs
    from ioffice.records.models import ImportedPackage
    from signing import validate_pdf

    incoming = db.scalar(select(func.count()).select_from(IncomingDocument))
    row = package.import_package(db, blobs, trust, actor(db, ARCHIVIST), "goi.zip", exported)
    assert (row.page_count, row.retention_years) == (5, None)
    assert row.keeper_name and row.start_date.isoformat() == "2026-02-01"
    assert row.end_date.isoformat() == "2026-11-30"
    zf = zipfile.ZipFile(io.BytesIO(exported))
    assert blobs.read_bytes(row.toc_sha256) == zf.read("muc-luc.xlsx")
    assert [d.ordinal for d in row.items] == [1, 2]
    first, second = row.items
    assert first.kind == "incoming" and first.subject == "Về việc tuyển dụng"
    assert (second.number, second.notation, second.type_name) == ("45", "BC-UBND", "Báo cáo")
    assert second.issued_date == TODAY.isoformat() and second.organ_name
    # every file byte for byte, its signature still intact
    name, data = package.imported_file(db, blobs, actor(db, ARCHIVIST), row.id, 2, 1)
    assert name == "45-BC-UBND.pdf" and data == zf.read("van-ban/002/45-BC-UBND.pdf")
    assert [s.intact for s in validate_pdf(data, trust).signatures] == [True]
    assert db.scalar(select(AuditEvent).where(AuditEvent.tag == "records:package:file"))
    # not a received document: no register entry
    assert db.scalar(select(func.count()).select_from(IncomingDocument)) == incoming
    # blob cleanup keeps the restored files
    kept = referenced_blobs(db)
    assert {f["sha256"] for d in row.items for f in d.files} | {row.toc_sha256} <= kept
    # the leaders read it and find it; the keeper does not; another agency gets 404
    assert package.get_imported(db, actor(db, "lanhdao.camau"), row.id) is row
    assert package.search_imported(db, actor(db, "lanhdao.camau"), "tuyen dung") == [row]
    assert package.search_imported(db, actor(db, KEEPER), "tuyen dung") == []
    for who in (KEEPER, "lanhdao.uminh"):
        with pytest.raises(NotFound):
            package.get_imported(db, actor(db, who), row.id)
        with pytest.raises(NotFound):
            package.imported_file(db, blobs, actor(db, who), row.id, 2, 1)
    with pytest.raises(NotFound):
        package.imported_file(db, blobs, actor(db, ARCHIVIST), row.id, 2, 9)
    # the same dossier twice: refused, naming the first import
    with pytest.raises(RecordsError) as info:
        package.import_package(db, blobs, trust, actor(db, ARCHIVIST), "lai.zip", exported)
    assert info.value.message.startswith(
        "Hồ sơ 01.TCCB năm 2026 của cơ quan 000.00.00.H12 đã được nhập lúc ")
    assert info.value.message.endswith("; không nhập lại cùng một hồ sơ.")
    assert db.scalar(select(func.count()).select_from(ImportedPackage)) == 1
