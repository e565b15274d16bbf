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
