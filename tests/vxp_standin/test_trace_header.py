"""``ADD_TRACE_HEADER``: the stand-in adds a TraceHeader of its own (Timestamp, no OrganId) to the
document packages it delivers, as the real axis does; our envelope signature still verifies,
because ``verify_package`` takes trailing trace headers off before checking."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from lxml import etree

from axis_connector.edxml import StatusCode, build_package, sign_package, verify_package
from axis_connector.edxml.safe_xml import parse_xml
from tests.axis_connector.conftest import CA_MAU as CA_MAU_ORG
from tests.axis_connector.conftest import make_document, make_status
from tests.axis_connector.pki import Identity, make_agency, make_ca

from .conftest import CA_MAU, VPCP, Server

NS = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"


@pytest.fixture(scope="module")
def pki() -> tuple[Identity, Identity]:
    ca = make_ca("Test CA for the VXP stand-in")
    return ca, make_agency(ca, CA_MAU_ORG.organ_id, CA_MAU_ORG.organ_name)


def _received(server: Server, system_id: str, messagetype: str = "edoc") -> tuple[bytes, bytes]:
    item = server.ok("getReceivedEdocList", system_id, {"messagetype": messagetype}, body=b"")["data"][0]
    got = base64.b64decode(server.ok("getEdoc", system_id, {"docId": item["docId"]})["data"])
    downloaded = server.call("downloadEdoc", system_id, {"docId": item["docId"]}, method="GET").body
    return got, downloaded


def _trace(package: bytes) -> list[etree._Element]:
    path = f"{NS}edXMLEnvelope/{NS}edXMLHeader/{NS}TraceHeaderList/{NS}TraceHeader"
    return parse_xml(package).findall(path)


def test_axis_trace_header_added_and_signature_still_verifies(serve, pki) -> None:
    ca, seal = pki
    server = serve(ADD_TRACE_HEADER=True)
    signed = sign_package(build_package(make_document()), seal.key, [seal.certificate])
    assert server.send("sys-camau", signed, CA_MAU).json["status"] == "OK"
    got, downloaded = _received(server, "sys-vpcp")
    assert got != signed
    trace = _trace(got)
    assert len(trace) == len(_trace(signed)) + 1
    added = trace[-1]
    assert [etree.QName(c).localname for c in added] == ["Timestamp"]  # no OrganId
    stamped = dt.datetime.strptime(added[0].text, "%Y/%m/%d %H:%M:%S")
    now_vn = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7))).replace(tzinfo=None)
    assert abs(now_vn - stamped) < dt.timedelta(minutes=1)
    # the Signature stays the last child of edXMLHeader, after TraceHeaderList
    header = parse_xml(got).find(f"{NS}edXMLEnvelope/{NS}edXMLHeader")
    assert [etree.QName(c).localname for c in header][-2:] == ["TraceHeaderList", "Signature"]
    result = verify_package(got, [ca.certificate])
    assert result.trace_headers_after_signing == 1 and result.sender_organ_id == CA_MAU
    assert len(_trace(downloaded)) == len(trace)
    verify_package(downloaded, [ca.certificate])


def test_trace_header_list_created_when_missing(serve) -> None:
    server = serve(ADD_TRACE_HEADER=True)
    assert server.send("sys-camau", build_package(make_document(trace=())), CA_MAU).json["status"] == "OK"
    got, _ = _received(server, "sys-vpcp")
    header = parse_xml(got).find(f"{NS}edXMLEnvelope/{NS}edXMLHeader")
    assert [etree.QName(c).localname for c in header][:2] == ["MessageHeader", "TraceHeaderList"]
    assert len(_trace(got)) == 1


def test_status_packages_and_the_default_are_delivered_as_sent(serve, pki) -> None:
    _, seal = pki
    plain = serve()  # ADD_TRACE_HEADER defaults to off
    signed = sign_package(build_package(make_document()), seal.key, [seal.certificate])
    plain.send("sys-camau", signed, CA_MAU)
    assert _received(plain, "sys-vpcp") == (signed, signed)

    traced = serve(ADD_TRACE_HEADER=True)
    status = build_package(make_status(StatusCode.ARRIVED))
    assert traced.send("sys-vpcp", status, VPCP, messagetype="status").json["status"] == "OK"
    assert _received(traced, "sys-camau", "status") == (status, status)
