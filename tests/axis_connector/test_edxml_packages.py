"""Building and parsing edXML packages: round trips, the wire shape, liberal input, precise refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from lxml import etree

from axis_connector.edxml import (
    NAMESPACE,
    VIETNAM_TZ,
    BusinessDocType,
    DocumentPackage,
    EdxmlError,
    Organization,
    Priority,
    StatusCode,
    StatusPackage,
    TraceHeader,
    build_document_package,
    build_package,
    build_status_package,
    parse_document_package,
    parse_package,
    parse_status_package,
    validate_schema,
)

from .conftest import CA_MAU, DOC_ID, make_document, make_status

MH = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader"


@pytest.mark.parametrize("doc_type", list(BusinessDocType))
def test_document_package_round_trips(doc_type: BusinessDocType) -> None:
    package = make_document(doc_type)
    data = build_document_package(package)
    assert parse_package(data) == package
    validate_schema(data)


@pytest.mark.parametrize("status", list(StatusCode))
def test_status_package_round_trips(status: StatusCode) -> None:
    package = make_status(status)
    data = build_status_package(package)
    parsed = parse_status_package(data)
    assert parsed == package
    assert parsed.status.value == status.value
    validate_schema(data)


def test_minimal_packages_round_trip_and_validate() -> None:
    document = make_document(
        signer=None,
        due_date=None,
        steering_type=None,
        to_places=(),
        trace=(),
        attachments=(),
        other=dataclasses.replace(
            make_document().other, promulgation_amount=None, page_amount=None, direction=None, appendixes=()
        ),
    )
    status = make_status(
        staff=make_status().staff,
        recipients=(CA_MAU,),
        trace=(TraceHeader("000.00.00.G22", dt.datetime(2024, 5, 2, 14, 6, tzinfo=VIETNAM_TZ)),),
    )
    for package in (document, status):
        data = build_package(package)
        validate_schema(data)
        assert parse_package(data) == package


def test_every_element_is_edxml_prefixed_and_root_declares_default_namespace() -> None:
    data = build_document_package(make_document())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXML ')
    head = data[: data.index(b">", 40)].decode()
    assert f'xmlns:edXML="{NAMESPACE}"' in head and f'xmlns="{NAMESPACE}"' in head
    tags = re.findall(rb"</?([A-Za-z:]+)[ >/]", data)
    assert tags and all(tag.startswith(b"edXML:") for tag in tags)
    assert b"<edXML:Bussiness>" in data and b"<edXML:BussinessDocType>0<" in data
    assert b"<edXML:PromulgationDate>2024/05/02<" in data
    assert b"<edXML:Timestamp>2024/05/02 08:30:05<" in data
    assert b'<edXML:edXMLManifest version="1.0">' in data


def test_attachments_are_base64_outside_the_envelope() -> None:
    data = build_document_package(make_document())
    root = etree.fromstring(data)
    ns = {"e": NAMESPACE}
    assert [etree.QName(c).localname for c in root] == ["edXMLEnvelope", "AttachmentEncoded"]
    assert root.xpath("//e:Reference/e:ContentId/text()", namespaces=ns) == ["cid:1", "cid:2"]
    encoded = root.xpath(
        "//e:Attachment[e:ContentId='cid:1']/e:ContentTransferEncoded/text()", namespaces=ns
    )[0]
    assert re.fullmatch(r"[A-Za-z0-9+/]+=*", encoded)


def test_timestamps_are_written_in_vietnam_time() -> None:
    utc = dt.datetime(2024, 5, 2, 1, 0, 0, tzinfo=dt.UTC)
    data = build_status_package(make_status(timestamp=utc))
    assert b"<edXML:Timestamp>2024/05/02 08:00:00</edXML:Timestamp>" in data
    assert parse_status_package(data).timestamp == utc


def test_kind_specific_parsers_refuse_the_other_kind() -> None:
    with pytest.raises(EdxmlError) as info:
        parse_document_package(build_status_package(make_status()))
    assert info.value.code == "wrong_message_type"
    with pytest.raises(EdxmlError) as info:
        parse_status_package(build_document_package(make_document()))
    assert info.value.code == "wrong_message_type"


# --- Liberal input -------------------------------------------------------------------------------


def _unprefixed(data: bytes, namespace: str = NAMESPACE) -> bytes:
    text = data.decode()
    text = text.replace("edXML:", "").replace(f'xmlns:edXML="{NAMESPACE}" ', "")
    return text.replace(f'xmlns="{NAMESPACE}"', f'xmlns="{namespace}"').encode()


def test_unprefixed_and_legacy_namespace_input_is_accepted() -> None:
    package = make_document(BusinessDocType.REPLACE)
    data = build_document_package(package)
    assert b"edXML:" not in _unprefixed(data)
    assert parse_package(_unprefixed(data)) == package
    assert parse_package(_unprefixed(data, "http://www.e-doc.vn/Schema/")) == package


def test_junk_bom_whitespace_and_any_order_are_accepted() -> None:
    package = make_status(StatusCode.REJECTED)
    data = build_status_package(package).decode()
    data = data.replace(
        "<edXML:OrganId>000.00.00.G22</edXML:OrganId>", "<edXML:OrganId>\n   000.00.00.G22  </edXML:OrganId>"
    )
    data = data.replace(
        "<edXML:StatusCode>02</edXML:StatusCode>", "<edXML:StatusCode> 02 </edXML:StatusCode>"
    )
    # Timestamp moved before StatusCode: order is not significant to the parser.
    stamp = re.search(r"<edXML:Timestamp>.*?</edXML:Timestamp>", data).group(0)
    data = data.replace(stamp, "").replace("<edXML:StatusCode>", stamp + "<edXML:StatusCode>")
    raw = b"\r\n--boundary junk\x00\xff\r\n" + "\ufeff".encode() + data.encode()
    assert parse_package(raw) == package


def test_missing_optional_elements_and_unknown_extensions() -> None:
    data = build_document_package(make_document(attachments=()))
    root = etree.fromstring(data)
    ns = {"e": NAMESPACE}
    for xpath in (
        "//e:SignerInfo",
        "//e:DueDate",
        "//e:OtherInfo",
        "//e:ToPlaces",
        "//e:Bussiness",
        "//e:From/e:Fax",
        "//e:Content",
    ):
        node = root.xpath(xpath, namespaces=ns)[0]
        node.getparent().remove(node)
    etree.SubElement(
        root.xpath("//e:MessageHeader", namespaces=ns)[0], f"{{{NAMESPACE}}}VendorExtension"
    ).text = "x"
    parsed = parse_document_package(etree.tostring(root))
    assert parsed.signer is None and parsed.due_date is None and parsed.to_places == ()
    assert parsed.other.priority is Priority.NORMAL
    assert parsed.business.doc_type is BusinessDocType.NEW and parsed.business.document_id == DOC_ID
    assert parsed.sender.fax == "" and parsed.sender.organ_id == CA_MAU.organ_id


def test_opaque_document_id_and_35_character_organ_id() -> None:
    long_id = "X" * 35
    package = make_document(
        document_id="6f1c1f3e-2b53-4c0b-9d5e-0c7f1f0b9a11",
        recipients=(Organization(long_id, "Hệ thống kết nối"),),
    )
    assert parse_package(build_document_package(package)) == package


def test_line_wrapped_base64_is_accepted() -> None:
    package = make_document()
    data = build_document_package(package).decode()
    encoded = re.search(r"<edXML:ContentTransferEncoded>(.*?)</", data).group(1)
    wrapped = "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert parse_package(data.replace(encoded, wrapped, 1).encode()) == package


# --- Strict refusals, each with its exact path ---------------------------------------------------


def _refusal(data: bytes) -> EdxmlError:
    with pytest.raises(EdxmlError) as info:
        parse_package(data)
    return info.value


def _edit(data: bytes, old: str, new: str) -> bytes:
    text = data.decode()
    assert old in text
    return text.replace(old, new, 1).encode()


DOC = build_document_package(make_document(BusinessDocType.UPDATE))
STATUS = build_status_package(make_status())


@pytest.mark.parametrize(
    ("data", "code", "path"),
    [
        (
            _edit(DOC, "<edXML:PromulgationDate>2024/05/02<", "<edXML:PromulgationDate>2024-05-02<"),
            "invalid_date",
            MH + "/PromulgationInfo/PromulgationDate",
        ),
        (
            _edit(DOC, "<edXML:DueDate>2024/05/30<", "<edXML:DueDate>2024/02/30<"),
            "invalid_date",
            MH + "/DueDate",
        ),
        (
            # 20/04/2024 is read (rule date-day-first); a two-digit year never is
            _edit(DOC, "<edXML:PromulgationDate>2024/04/20<", "<edXML:PromulgationDate>20/04/24<"),
            "invalid_date",
            MH + "/ResponseFor[1]/PromulgationDate",
        ),
        (_edit(DOC, "<edXML:Priority>3<", "<edXML:Priority>7<"), "invalid_code", MH + "/OtherInfo/Priority"),
        (
            _edit(DOC, "<edXML:BussinessDocType>2<", "<edXML:BussinessDocType>9<"),
            "invalid_code",
            "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/Bussiness/BussinessDocType",
        ),
        (
            _edit(DOC, "<edXML:Paper>1<", "<edXML:Paper>yes<"),
            "invalid_number",
            "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/Bussiness/Paper",
        ),
        (
            _edit(DOC, "<edXML:Timestamp>2024/05/02 08:30:05<", "<edXML:Timestamp>2024/05/02 25:30:05<"),
            "invalid_timestamp",
            "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/TraceHeader[1]/Timestamp",
        ),
        (
            _edit(DOC, "<edXML:OrganId>000.00.13.H12<", "<edXML:OrganId>" + "9" * 36 + "<"),
            "invalid_organ_id",
            MH + "/To[2]/OrganId",
        ),
        (
            _edit(
                DOC,
                "<edXML:OrganId>000.00.00.H12</edXML:OrganId><edXML:OrganizationInCharge>",
                "<edXML:OrganId> </edXML:OrganId><edXML:OrganizationInCharge>",
            ),
            "missing_value",
            MH + "/From/OrganId",
        ),
        (
            _edit(DOC, "<edXML:Subject>", "<edXML:Subject>x</edXML:Subject><edXML:Subject>"),
            "duplicate_element",
            MH + "/Subject",
        ),
        (re.sub(rb"<edXML:Code>.*?</edXML:Code>", b"", DOC, count=1), "missing_element", MH + "/Code"),
        (
            # a revocation names its target only there (an update may do without: rule
            # target-without-response-for)
            re.sub(rb"<edXML:ResponseFor>.*?</edXML:ResponseFor>", b"",
                   build_document_package(make_document(BusinessDocType.REVOKE))),
            "missing_element",
            MH + "/ResponseFor",
        ),
        (re.sub(rb"<edXML:To>.*?</edXML:To>", b"", DOC), "missing_element", MH + "/To"),
        (_edit(DOC, "<edXML:Type>1<", "<edXML:Type>-1<"), "invalid_number", MH + "/DocumentType/Type"),
        (
            _edit(DOC, "<edXML:CodeNumber>1234<", "<edXML:CodeNumber><edXML:x/>1234<"),
            "unexpected_children",
            MH + "/Code/CodeNumber",
        ),
        (_edit(STATUS, "<edXML:StatusCode>03<", "<edXML:StatusCode>07<"), "invalid_code", MH + "/StatusCode"),
        (_edit(STATUS, "<edXML:StatusCode>03<", "<edXML:StatusCode>3<"), "invalid_code", MH + "/StatusCode"),
        (
            _edit(STATUS, "<edXML:Timestamp>2024/05/02 14:05:00<", "<edXML:Timestamp>2024/05/02T14:05:00<"),
            "invalid_timestamp",
            MH + "/Timestamp",
        ),
        (
            re.sub(rb"<edXML:ResponseFor>.*?</edXML:ResponseFor>", b"", STATUS),
            "missing_element",
            MH + "/ResponseFor",
        ),
        (
            _edit(
                DOC,
                "<edXML:ContentId>cid:2</edXML:ContentId><edXML:AttachmentName>",
                "<edXML:ContentId>cid:9</edXML:ContentId><edXML:AttachmentName>",
            ),
            "attachment_missing",
            "/edXML/edXMLEnvelope/edXMLBody/edXMLManifest/Reference[2]/ContentId",
        ),
        (
            _edit(DOC, "<edXML:ContentTransferEncoded>", "<edXML:ContentTransferEncoded>!!"),
            "invalid_base64",
            "/edXML/AttachmentEncoded/Attachment[1]/ContentTransferEncoded",
        ),
        (DOC.replace(b"edXMLEnvelope>", b"Envelope>"), "missing_element", "/edXML/edXMLEnvelope"),
        (
            DOC.replace(b"edXML:edXML ", b"edXML:Package ").replace(b"</edXML:edXML>", b"</edXML:Package>"),
            "wrong_root",
            "/Package",
        ),
        (
            _edit(DOC, "<edXML:Subject>", '<edXML:Subject xmlns:o="urn:other"><o:x/>'),
            "unknown_namespace",
            MH + "/Subject/x",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("/") else None,
)
def test_refusals_name_the_element_and_the_problem(data: bytes, code: str, path: str) -> None:
    error = _refusal(data)
    assert (error.code, error.path) == (code, path)
    assert str(error).startswith(path + ": ")


def test_status_rejection_without_reason_is_refused() -> None:
    with pytest.raises(EdxmlError) as info:
        build_status_package(make_status(StatusCode.REJECTED, description=""))
    assert (info.value.code, info.value.path) == ("missing_value", MH + "/Description")
    data = _edit(
        build_status_package(make_status(StatusCode.REJECTED)),
        "<edXML:Description>Lý do: thiếu chữ ký</edXML:Description>",
        "<edXML:Description> </edXML:Description>",
    )
    assert _refusal(data).path == MH + "/Description"


@pytest.mark.parametrize(
    ("package", "code", "path"),
    [
        (make_document(recipients=()), "missing_element", MH + "/To"),
        (make_document(BusinessDocType.REVOKE, response_for=()), "missing_element", MH + "/ResponseFor"),
        (
            make_document(
                BusinessDocType.REPLACE,
                business=dataclasses.replace(
                    make_document(BusinessDocType.REPLACE).business, replacements=()
                ),
            ),
            "missing_element",
            "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/Bussiness/ReplacementInfoList",
        ),
        (make_document(sender=Organization("0" * 36)), "invalid_organ_id", MH + "/From/OrganId"),
        (make_document(subject="bad \x01 char"), "invalid_character", MH + "/Subject"),
        (
            make_document(attachments=make_document().attachments[:1] * 2),
            "duplicate_content_id",
            "/edXML/AttachmentEncoded/Attachment[2]/ContentId",
        ),
    ],
)
def test_build_refuses_invalid_packages(
    package: DocumentPackage | StatusPackage, code: str, path: str
) -> None:
    with pytest.raises(EdxmlError) as info:
        build_package(package)
    assert (info.value.code, info.value.path) == (code, path)
