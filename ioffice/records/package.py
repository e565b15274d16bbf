"""The electronic dossier package (Appendix VI, III.4.g and section III of Part II): a closed
dossier as one ZIP, and its import into another installation with every hash and signature
checked.

Layout of the ZIP::

    ho-so.xml                  the dossier's metadata (FileCode: OrganId, FileCatalog,
                               FileNotation; title, retention, keeper, dates, pages)
    muc-luc.xlsx               the table of contents (Appendix V form IV)
    van-ban/001/dac-ta.xml     each document's or file's metadata (Part II section III fields:
                               DocOrdinal, TypeName, CodeNumber, CodeNotation, IssuedDate,
                               OrganName, Subject, Language, PageAmount, Description)
    van-ban/001/<file>.pdf     its files as stored: signed PDFs byte for byte, signatures intact
    manifest.json              every other file with its SHA-256 and size

Import refuses a package whose manifest is missing or unreadable, a file listed but absent, a
file present but not listed, a file whose SHA-256 differs, an XML file that does not parse or
contradicts the manifest's counts, a PDF whose signature is no longer intact. Signatures that are
intact but chain to no anchor this installation trusts are counted and shown, not refused (the
other installation's CA may not be imported here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Role, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record, record_read
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE, fold
from ioffice.errors import Gone, NotFound
from ioffice.incoming.models import DocumentFile, IncomingDocument
from ioffice.outgoing.models import OutgoingDocument
from ioffice.records import export
from ioffice.records.models import DossierStatus, ImportedDocument, ImportedPackage, ItemKind
from ioffice.records.service import RecordsError, get_dossier, table_of_contents
from ioffice.storage import BlobStore
from signing import TrustStore, validate_pdf

__all__ = ["PackageReport", "export_package", "get_imported", "import_package", "imported_file",
           "search_imported", "verify_package"]

FORMAT = "ioffice-ho-so-dien-tu/1"
MAX_PACKAGE_BYTES = 500 * 1024 * 1024
MAX_FILES = 5000
_VN = dt.timezone(dt.timedelta(hours=7))
_SAFE_NAME = re.compile(r"[^\w.\-]+")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          load_dtd=False)


def _xml(root: str, fields: list[tuple[str, object]]) -> bytes:
    el = etree.Element(root)
    for name, value in fields:
        if isinstance(value, list):
            group = etree.SubElement(el, name)
            for sub, sub_value in value:
                etree.SubElement(group, sub).text = "" if sub_value is None else str(sub_value)
        else:
            etree.SubElement(el, name).text = "" if value is None else str(value)
    return etree.tostring(el, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _file_name(name: str, index: int) -> str:
    stem = _SAFE_NAME.sub("-", name.replace("/", "-")).strip("-.") or f"tep-{index}"
    return stem[-120:]


def export_package(session: Session, blobs: BlobStore, actor: Actor, dossier_id: int) -> bytes:
    """The closed dossier as one ZIP (see the module's docstring); audited."""
    dossier = get_dossier(session, actor, dossier_id)
    if dossier.status in (DossierStatus.PLANNED, DossierStatus.OPEN):
        raise RecordsError(f"Hồ sơ {dossier.symbol} chưa kết thúc; chỉ xuất gói hồ sơ điện tử "
                           "được hồ sơ đã kết thúc.")
    if dossier.status is DossierStatus.DESTROYED:
        raise RecordsError(f"Hồ sơ {dossier.symbol} đã bị tiêu hủy; không còn tài liệu để xuất.")
    agency = session.get(Agency, dossier.agency_id)
    keeper = session.get(User, dossier.keeper_id)
    toc = table_of_contents(session, dossier, agency.name)
    files: dict[str, bytes] = {}
    code = [("OrganId", agency.code), ("FileCatalog", dossier.file_list.year),
            ("FileNotation", dossier.symbol)]
    files["ho-so.xml"] = _xml("FileInfo", [
        ("FileCode", code), ("Title", dossier.title),
        ("Maintenance", "Vĩnh viễn" if dossier.retention_years is None
         else dossier.retention_years),
        ("Creator", keeper.full_name), ("StartDate", dossier.start_date),
        ("EndDate", dossier.end_date), ("PageAmount", dossier.page_count),
        ("DocTotal", len(toc)), ("Language", "Tiếng Việt"), ("Description", dossier.note)])
    files["muc-luc.xlsx"] = export.toc_xlsx(dossier.symbol, dossier.file_list.year,
                                            dossier.title, agency.name, toc)
    for row in toc:
        item, folder = row.item, f"van-ban/{row.index:03d}"
        doc_files: list[tuple[str, str]] = []
        if item.kind is ItemKind.INCOMING:
            doc = session.get(IncomingDocument, item.incoming_id)
            doc_files = [(f.filename, f.sha256) for f in session.scalars(
                select(DocumentFile).where(DocumentFile.document_id == doc.id)
                .order_by(DocumentFile.position, DocumentFile.id))]
            number, notation, date, organ = doc.number, doc.notation, doc.document_date, \
                doc.issuer_name
        elif item.kind is ItemKind.OUTGOING:
            doc = session.get(OutgoingDocument, item.outgoing_id)
            doc_files = [(f"{doc.number_notation or 'van-ban'}.pdf", doc.current_sha256)]
            number, notation, date, organ = doc.number_text, doc.notation, \
                doc.promulgation_date, agency.name
        else:
            doc = None
            doc_files = [(item.filename, item.sha256)]
            number, notation, date, organ = "", "", None, agency.name
        kind = DOC_TYPES_BY_CODE.get(doc.doc_type) if doc is not None else None
        names = []
        for i, (name, sha256) in enumerate(doc_files, start=1):
            stored = _file_name(name, i)
            while f"{folder}/{stored}" in files or stored == "dac-ta.xml":
                stored = f"{i}-{stored}"
            files[f"{folder}/{stored}"] = blobs.read_bytes(sha256)
            names.append(("File", stored))
        files[f"{folder}/dac-ta.xml"] = _xml("DocInfo", [
            ("FileCode", code), ("DocOrdinal", row.index), ("Kind", item.kind.value),
            ("TypeName", kind.name if kind else ("Tài liệu" if doc is None else doc.doc_type)),
            ("CodeNumber", number), ("CodeNotation", notation), ("IssuedDate", date),
            ("OrganName", organ), ("Subject", doc.subject if doc is not None else item.title),
            ("Language", "Tiếng Việt"), ("PageAmount", item.pages or ""),
            ("Description", ""), ("Files", names)])
    manifest = {"format": FORMAT, "organ_id": agency.code, "year": dossier.file_list.year,
                "symbol": dossier.symbol, "documents": len(toc),
                "files": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                           "size": len(data)} for path, data in sorted(files.items())]}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        for path, data in sorted(files.items()):
            zf.writestr(path, data)
    record_read(session, actor.ctx, "records:dossier:export-package", subject_type="dossier",
           subject_id=dossier.id, details={"symbol": dossier.symbol, "documents": len(toc),
                                           "files": len(files)})
    return out.getvalue()


@dataclass(frozen=True)
class PackageReport:
    organ_id: str
    year: int
    symbol: str
    title: str
    retention_years: int | None
    documents: int
    signatures: int
    untrusted: int


def _refuse(text: str) -> RecordsError:
    return RecordsError(f"Gói hồ sơ không hợp lệ, chưa được nhập: {text}")


def _parse(name: str, data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _refuse(f"tệp «{name}» không phải XML đọc được ({exc.msg}).") from None


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path)
    return (found.text or "").strip() if found is not None else ""


def verify_package(data: bytes, trust: TrustStore) -> PackageReport:
    """Check a package as :func:`export_package` makes it; :class:`RecordsError` naming the
    first fault otherwise."""
    return _verify(data, trust)[0]


def _verify(data: bytes, trust: TrustStore
            ) -> tuple[PackageReport, etree._Element, dict[str, bytes],
                       list[tuple[str, etree._Element]]]:
    if len(data) > MAX_PACKAGE_BYTES:
        raise _refuse("gói lớn hơn 500 MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except zipfile.BadZipFile:
        raise _refuse("tệp không phải tệp ZIP.") from None
    if len(names) > MAX_FILES:
        raise _refuse(f"gói có hơn {MAX_FILES} tệp.")
    if sum(i.file_size for i in zf.infolist()) > 4 * MAX_PACKAGE_BYTES:
        raise _refuse("nội dung giải nén của gói lớn hơn 2 GB.")
    if "manifest.json" not in names:
        raise _refuse("thiếu bảng kê «manifest.json».")
    try:
        manifest = json.loads(zf.read("manifest.json"))
        listed = {f["path"]: f for f in manifest["files"]}
        if manifest.get("format") != FORMAT:
            raise ValueError(manifest.get("format"))
    except (ValueError, KeyError, TypeError):
        raise _refuse("bảng kê «manifest.json» không đọc được hoặc không đúng định dạng.") from None
    for path in listed:
        if path not in names:
            raise _refuse(f"thiếu tệp «{path}» có trong bảng kê.")
    for path in names:
        if path != "manifest.json" and path not in listed:
            raise _refuse(f"tệp «{path}» không có trong bảng kê.")
    contents: dict[str, bytes] = {}
    for path, entry in listed.items():
        try:
            content = zf.read(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise _refuse(f"tệp «{path}» hỏng ({exc}).") from None
        if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            raise _refuse(f"tệp «{path}» đã bị thay đổi: mã SHA-256 không khớp bảng kê.")
        contents[path] = content
    if "ho-so.xml" not in contents:
        raise _refuse("thiếu tệp dữ liệu đặc tả hồ sơ «ho-so.xml».")
    info = _parse("ho-so.xml", contents["ho-so.xml"])
    symbol, year_text = _text(info, "FileCode/FileNotation"), _text(info, "FileCode/FileCatalog")
    organ_id, total = _text(info, "FileCode/OrganId"), _text(info, "DocTotal")
    if (symbol != manifest.get("symbol") or year_text != str(manifest.get("year"))
            or organ_id != manifest.get("organ_id")):
        raise _refuse("mã hồ sơ trong «ho-so.xml» khác với bảng kê.")
    folders = sorted({p.split("/")[1] for p in contents if p.startswith("van-ban/")})
    if total != str(len(folders)) or total != str(manifest.get("documents")):
        raise _refuse(f"«ho-so.xml» ghi {total or 'không rõ'} văn bản, gói có {len(folders)}.")
    signatures = untrusted = 0
    metas: list[tuple[str, etree._Element]] = []
    for folder in folders:
        meta_path = f"van-ban/{folder}/dac-ta.xml"
        if meta_path not in contents:
            raise _refuse(f"thiếu dữ liệu đặc tả «{meta_path}».")
        meta = _parse(meta_path, contents[meta_path])
        if _text(meta, "FileCode/FileNotation") != symbol or _text(meta, "DocOrdinal") != \
                str(int(folder)):
            raise _refuse(f"«{meta_path}» không thuộc hồ sơ {symbol} hoặc sai số thứ tự.")
        metas.append((folder, meta))
        for f in meta.findall("Files/File"):
            path = f"van-ban/{folder}/{(f.text or '').strip()}"
            if path not in contents:
                raise _refuse(f"«{meta_path}» kê tệp «{path}» không có trong gói.")
            if path.lower().endswith(".pdf") and b"/ByteRange" in contents[path]:
                report = validate_pdf(contents[path], trust)
                for s in report.signatures:
                    if not s.intact:
                        raise _refuse(f"chữ ký số trong «{path}» không còn nguyên vẹn (tệp đã "
                                      "bị sửa sau khi ký).")
                    signatures += 1
                    untrusted += not s.trusted
    maintenance = _text(info, "Maintenance")
    return PackageReport(organ_id, int(year_text) if year_text.isdigit() else 0, symbol,
                         _text(info, "Title"), int(maintenance) if maintenance.isdigit() else None,
                         len(folders), signatures, untrusted), info, contents, metas


def _local(at: dt.datetime) -> dt.datetime:
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(_VN)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def import_package(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                   filename: str, data: bytes) -> ImportedPackage:
    """The archive takes in a package from another installation: verified, kept as it came,
    and restored as a read-only archived dossier (its metadata, table of contents, each
    document's metadata and files in blob storage byte for byte). No register entry is made:
    it is an archive holding, not a document received. The same dossier (agency code, year,
    symbol) imported twice is refused."""
    actor.check(Op.RECEIVE_RECORDS)
    if not data:
        raise RecordsError("Hãy chọn tệp gói hồ sơ (.zip).")
    report, info, contents, metas = _verify(data, trust)
    earlier = session.scalar(select(ImportedPackage).where(
        ImportedPackage.agency_id == actor.agency_id,
        ImportedPackage.organ_id == report.organ_id[:35], ImportedPackage.year == report.year,
        ImportedPackage.symbol == report.symbol[:40]).limit(1))
    if earlier is not None:
        raise RecordsError(
            f"Hồ sơ {earlier.symbol} năm {earlier.year} của cơ quan {earlier.organ_id} đã được "
            f"nhập lúc {_local(earlier.imported_at):%H:%M ngày %d/%m/%Y}; "
            "không nhập lại cùng một hồ sơ.")
    pages = _text(info, "PageAmount")
    row = ImportedPackage(agency_id=actor.agency_id, organ_id=report.organ_id[:35],
                          year=report.year, symbol=report.symbol[:40], title=report.title[:1000],
                          retention_years=report.retention_years, documents=report.documents,
                          signatures=report.signatures, untrusted=report.untrusted,
                          sha256=blobs.put_bytes(data).sha256, filename=filename[-255:],
                          imported_by_id=actor.user_id, imported_at=dt.datetime.now(dt.UTC),
                          keeper_name=_text(info, "Creator")[:255],
                          start_date=_date(_text(info, "StartDate")),
                          end_date=_date(_text(info, "EndDate")),
                          page_count=int(pages) if pages.isdigit() else None,
                          description=_text(info, "Description"),
                          toc_sha256=blobs.put_bytes(contents["muc-luc.xlsx"]).sha256
                          if "muc-luc.xlsx" in contents else "",
                          title_folded=fold(f"{report.symbol} {report.title}"))
    for folder, meta in metas:
        files = []
        for f in meta.findall("Files/File"):
            name = (f.text or "").strip()
            content = contents[f"van-ban/{folder}/{name}"]
            files.append({"name": name, "sha256": blobs.put_bytes(content).sha256,
                          "size": len(content)})
        row.items.append(ImportedDocument(
            agency_id=actor.agency_id, ordinal=int(folder), kind=_text(meta, "Kind")[:16],
            type_name=_text(meta, "TypeName")[:255], number=_text(meta, "CodeNumber")[:64],
            notation=_text(meta, "CodeNotation")[:255],
            issued_date=_text(meta, "IssuedDate")[:32],
            organ_name=_text(meta, "OrganName")[:500], subject=_text(meta, "Subject"),
            language=_text(meta, "Language")[:64], pages=_text(meta, "PageAmount")[:16],
            description=_text(meta, "Description"), files=files))
    session.add(row)
    session.flush()
    record(session, actor.ctx, "records:package:import", subject_type="imported_package",
           subject_id=row.id, details={"symbol": row.symbol, "organ_id": row.organ_id,
                                       "documents": row.documents, "signatures": row.signatures,
                                       "untrusted": row.untrusted, "sha256": row.sha256,
                                       "files": sum(len(d.files) for d in row.items)})
    return row


def _may_read(actor: Actor) -> bool:
    """The archive (who imports) and the agency's leaders read restored dossiers."""
    return actor.may(Op.RECEIVE_RECORDS) or actor.has(Role.LEADER)


def may_read_imported(actor: Actor) -> bool:
    return _may_read(actor)


def imported(session: Session, actor: Actor, *, after: int | None = None,
             limit: int | None = None) -> list[ImportedPackage]:
    """The restored dossiers of the actor's agency, newest first (``limit`` of them below the
    id ``after``: paging by key); none for who may not read them."""
    if not _may_read(actor):
        return []
    stmt = select(ImportedPackage).where(ImportedPackage.agency_id == actor.agency_id)
    if after is not None:
        stmt = stmt.where(ImportedPackage.id < after)
    return list(session.scalars(stmt.order_by(ImportedPackage.id.desc()).limit(limit)))


def get_imported(session: Session, actor: Actor, package_id: int) -> ImportedPackage:
    """A restored dossier of the actor's agency, if the actor may read it; NotFound otherwise
    (another agency's looks exactly like a missing one)."""
    row = session.get(ImportedPackage, package_id)
    if row is None or row.agency_id != actor.agency_id or not _may_read(actor):
        raise NotFound("Không tìm thấy hồ sơ đã nhập này.")
    return row


def imported_file(session: Session, blobs: BlobStore, actor: Actor, package_id: int,
                  ordinal: int, index: int) -> tuple[str, bytes]:
    """One file of a restored dossier's document as it came in the package; audited."""
    row = get_imported(session, actor, package_id)
    doc = next((d for d in row.items if d.ordinal == ordinal), None)
    if doc is None or not 1 <= index <= len(doc.files):
        raise NotFound("Không tìm thấy tệp này trong hồ sơ đã nhập.")
    entry = doc.files[index - 1]
    from ioffice.records.retention import restored_destroyed_message

    gone = restored_destroyed_message(session, row)
    if gone is not None:
        raise Gone(gone)
    data = blobs.read_bytes(entry["sha256"])
    record_read(session, actor.ctx, "records:package:file", subject_type="imported_package",
                subject_id=row.id, details={"ordinal": ordinal, "file": entry["name"],
                                            "sha256": entry["sha256"]})
    return entry["name"], data


def search_imported(session: Session, actor: Actor, query: str, limit: int = 50
                    ) -> list[ImportedPackage]:
    """Restored dossiers whose symbol or title hold every word of ``query`` (as
    ``search_dossiers``); none for who may not read them."""
    words = [w for w in fold(query).split() if w][:12]
    if not words or not _may_read(actor):
        return []
    stmt = select(ImportedPackage).where(ImportedPackage.agency_id == actor.agency_id)
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(ImportedPackage.title_folded.like(f"%{escaped}%", escape="\\"))
    return list(session.scalars(stmt.order_by(ImportedPackage.id.desc()).limit(limit)))
