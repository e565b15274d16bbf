"""Sample packages and a test PKI for the edXML tests (no database, no network)."""

from __future__ import annotations

import datetime as dt

import pytest

from axis_connector.edxml import (
    VIETNAM_TZ,
    Attachment,
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentPackage,
    DocumentType,
    Organization,
    OtherInfo,
    Priority,
    PromulgationInfo,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPackage,
    TraceHeader,
)
from axis_connector.edxml.safe_xml import DEFAULT_LIMITS, ParseLimits

from .pki import Identity, make_agency, make_ca


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--edxml-stream-all", action="store_true", default=False,
        help="parse every package through files (ParseLimits.stream_above=0): the edXML tests then "
             "check that the streaming path reads, verifies and refuses as the in-memory one does",
    )


@pytest.fixture(autouse=True, scope="session")
def _edxml_stream_all(request: pytest.FixtureRequest):
    if not request.config.getoption("--edxml-stream-all", default=False):
        yield
        return
    defaults = ParseLimits.__init__.__defaults__
    object.__setattr__(DEFAULT_LIMITS, "stream_above", 0)
    ParseLimits.__init__.__defaults__ = (*defaults[:-1], 0)  # stream_above is the last field
    yield
    ParseLimits.__init__.__defaults__ = defaults
    object.__setattr__(DEFAULT_LIMITS, "stream_above", 4 * 1024 * 1024)

CA_MAU = Organization(
    organ_id="000.00.00.H12",
    organ_name="UBND tỉnh Cà Mau",
    organization_in_charge="Chính phủ",
    address="Số 2 Hùng Vương, Phường 5, TP. Cà Mau",
    email="ubnd@camau.gov.vn",
    telephone="0290 3831 234",
    fax="0290 3831 235",
    website="https://camau.gov.vn",
)
VPCP = Organization(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ")
SO_TTTT = Organization(organ_id="000.00.13.H12", organ_name="Sở Thông tin và Truyền thông tỉnh Cà Mau")
DOC_ID = "000.00.00.H12,2024/05/02,1234/UBND-VP"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 800 + b"\n%%EOF\n"  # ~200 KB, every byte value


def make_document(doc_type: BusinessDocType = BusinessDocType.NEW, **changes) -> DocumentPackage:
    affected = ResponseFor(
        organ_id="000.00.00.H12",
        code="1200/UBND-VP",
        promulgation_date=dt.date(2024, 4, 20),
        document_id="000.00.00.H12,2024/04/20,1200/UBND-VP",
    )
    fields = {
        "sender": CA_MAU,
        "recipients": (VPCP, SO_TTTT),
        "document_id": DOC_ID,
        "code": Code(number="1234", notation="UBND-VP"),
        "promulgation": PromulgationInfo(place="Cà Mau", date=dt.date(2024, 5, 2)),
        "document_type": DocumentType(type=1, type_detail=2, type_name="Công văn"),
        "subject": 'Về việc triển khai trục liên thông văn bản <quốc gia> & "địa phương"',
        "content": "Nội dung dòng 1\nDòng 2\ttab",
        "signer": SignerInfo(competence="TM. ỦY BAN NHÂN DÂN", position="Chủ tịch", full_name="Nguyễn Văn A"),
        "due_date": dt.date(2024, 5, 30),
        "other": OtherInfo(
            priority=Priority.FLASH,
            sphere_of_promulgation="Toàn quốc",
            typer_notation="VP",
            promulgation_amount=5,
            page_amount=3,
            direction=True,
            appendixes=("Phụ lục I", "Phụ lục II"),
        ),
        "response_for": () if doc_type is BusinessDocType.NEW else (affected,),
        "steering_type": 1,
        "to_places": ("Như trên", "Lưu: VT"),
        "trace": (TraceHeader("000.00.00.H12", dt.datetime(2024, 5, 2, 8, 30, 5, tzinfo=VIETNAM_TZ)),),
        "business": Business(
            document_id=DOC_ID,
            doc_type=doc_type,
            reason="" if doc_type is BusinessDocType.NEW else "Sai sót nội dung",
            paper=True,
            document_info=BusinessDocumentInfo(True, False, ("000.00.00.G22",))
            if doc_type is BusinessDocType.UPDATE
            else None,
            replacements=(ReplacementInfo(affected.document_id, ("000.00.00.G22", "000.00.13.H12")),)
            if doc_type is BusinessDocType.REPLACE
            else (),
            staff=StaffInfo(
                department="Văn phòng", staff="Trần Thị B", email="b@camau.gov.vn", mobile="0912345678"
            ),
        ),
        "attachments": (
            Attachment("cid:1", "1234-UBND-VP.pdf", "application/pdf", PDF, "Văn bản chính"),
            Attachment("cid:2", "phu-luc.txt", "text/plain", "Phụ lục\n".encode(), ""),
        ),
    }
    fields.update(changes)
    return DocumentPackage(**fields)


def make_status(status: StatusCode = StatusCode.REGISTERED, **changes) -> StatusPackage:
    fields = {
        "sender": VPCP,
        "response_for": ResponseFor("000.00.00.H12", "1234/UBND-VP", dt.date(2024, 5, 2), DOC_ID),
        "status": status,
        "timestamp": dt.datetime(2024, 5, 2, 14, 5, 0, tzinfo=VIETNAM_TZ),
        "staff": StaffInfo(
            department="Phòng Hành chính", staff="Lê Văn C", email="c@chinhphu.vn", mobile="0987"
        ),
        "description": "Lý do: thiếu chữ ký"
        if status in (StatusCode.REJECTED, StatusCode.TAKE_BACK_REQUESTED)
        else "",
    }
    fields.update(changes)
    return StatusPackage(**fields)


@pytest.fixture(scope="session")
def root_ca() -> Identity:
    return make_ca("Test Root CA for edXML")


@pytest.fixture(scope="session")
def rogue_ca() -> Identity:
    return make_ca("Rogue CA")


@pytest.fixture(scope="session")
def ca_mau_seal(root_ca: Identity) -> Identity:
    return make_agency(root_ca, "000.00.00.H12", "UBND tỉnh Cà Mau")


@pytest.fixture(scope="session")
def vpcp_seal(root_ca: Identity) -> Identity:
    return make_agency(root_ca, "000.00.00.G22", "Văn phòng Chính phủ")
