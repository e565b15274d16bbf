"""The VXP client's headers, answers and retries, against vectors worked out by hand and a
scripted HTTP server on a free local port (the stand-in VXP is tested in tests/exchange)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest

from axis_connector.client import AxisError, AxisUnavailable
from axis_connector.vxp import (
    VxpAgencyQD20,
    VxpClient,
    VxpError,
    VxpHubClient,
    VxpUnavailable,
    code_mapping,
    package_route,
    sdk_hash_file,
    sdk_timestamp,
    signed_headers,
)
from axis_connector.vxp.signing import hash_header
from tests.support.scripted_http import Script, ok, scripted_server

# -- header construction: vectors worked out by hand ---------------------------------------------


def test_hash_file_writes_each_byte_without_zero_padding() -> None:
    # sha256(b"abc") = ba7816bf 8f01cfea ... b00361a3 ... f20015ad: 01, 03 and 00 lose their 0
    assert hashlib.sha256(b"abc").hexdigest() == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sdk_hash_file(b"abc") == "ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad"
    # a body with CRLF whose digest holds the bytes 08, 0a and 00: "8", "a" and "0"
    body = b"<edXML>17</edXML>\r\n"
    assert hashlib.sha256(body).hexdigest() == \
        "9e2bae2de26c0828cbc44a430aaeb0a921eb0072d5ce4aae48de479ca838ef98"
    assert sdk_hash_file(body) == "9e2bae2de26c828cbc44a43aaeb0a921eb072d5ce4aae48de479ca838ef98"
    # no byte below 0x10: the plain hex digest
    body = b"<edXML/>\r\n"
    assert sdk_hash_file(body) == hashlib.sha256(body).hexdigest()


def test_timestamp_is_ddmmyyyy_t_hhmmss_plus_milliseconds_in_vietnam_time() -> None:
    moment = dt.datetime(2026, 12, 3, 17, 5, 9, 42_999, tzinfo=dt.UTC)  # 00:05:09.042 on the 4th in VN
    assert sdk_timestamp(moment) == "04122026T000509+0042"
    assert sdk_timestamp(dt.datetime(2026, 1, 2, 3, 4, 5, 987_000, tzinfo=dt.UTC)) == "02012026T100405+0987"


def test_hash_header_is_the_rfc_4231_hmac_sha256() -> None:
    # RFC 4231, test case 2
    assert hash_header("Jefe", "what do ya want for nothing?") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_signed_headers_of_a_send() -> None:
    moment = dt.datetime(2026, 12, 3, 7, 30, 0, 5_000, tzinfo=dt.UTC)
    headers = signed_headers("s3cret", "sys-01", {"from": "000.00.00.G22", "servicetype": "eDoc",
                                                  "messagetype": "edoc", "hash-file": "abc",
                                                  "to": '["000.00.00.H12"]'},
                             content_type="application/octet-stream", now=moment)
    expected_sign = ('{"XroadVnpt-from":"000.00.00.G22","XroadVnpt-servicetype":"eDoc",'
                     '"XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"abc",'
                     '"XroadVnpt-to":"[\\"000.00.00.H12\\"]","XroadVnpt-systemid":"sys-01",'
                     '"XroadVnpt-timestamp":"03122026T143000+0005","XroadVnpt-version":"3.0.201608",'
                     '"XroadVnpt-Content-Type":"application/octet-stream"}')
    assert headers["XroadVnpt-sign-header"] == expected_sign
    assert headers["XroadVnpt-sign-header-key"] == \
        "from;servicetype;messagetype;hash-file;to;systemid;timestamp;version;Content-Type"
    assert headers["XroadVnpt-hash-header"] == hmac.new(b"s3cret", expected_sign.encode(),
                                                        hashlib.sha256).hexdigest()
    assert headers["Content-Type"] == headers["XroadVnpt-Content-Type"] == "application/octet-stream"
    assert headers["XroadVnpt-to"] == '["000.00.00.H12"]' and headers["XroadVnpt-version"] == "3.0.201608"
    # every XroadVnpt header but the three of authentication is in sign-header, with its value
    signed = json.loads(headers["XroadVnpt-sign-header"])
    sent = {k: v for k, v in headers.items() if k.startswith("XroadVnpt-")
            and k not in ("XroadVnpt-sign-header", "XroadVnpt-sign-header-key", "XroadVnpt-hash-header")}
    assert signed == sent
    assert "s3cret" not in json.dumps(headers)


def test_a_parameter_cannot_forge_the_authentication_headers() -> None:
    with pytest.raises(ValueError):
        signed_headers("k", "sys", {"hash-header": "x"}, content_type="application/json")


def test_code_mapping_both_ways() -> None:
    agencies = [VxpAgencyQD20("1", "000.00.00.G22", "Văn phòng Chính phủ", "", "G22"),
                VxpAgencyQD20("2", "000.00.00.H12", "UBND tỉnh Cà Mau", "", "H12.01"),
                VxpAgencyQD20("3", "000.00.21.H12", "UBND huyện U Minh", "", "")]
    new_to_old, old_to_new = code_mapping(agencies)
    assert new_to_old == {"000.00.00.G22": "G22", "000.00.00.H12": "H12.01"}
    assert old_to_new == {"G22": "000.00.00.G22", "H12.01": "000.00.00.H12"}


def test_package_route_reads_the_header_only() -> None:
    ns = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
    doc = (f'<?xml version="1.0"?><edXML:edXML xmlns:edXML="{ns}"><edXML:edXMLEnvelope><edXML:edXMLHeader>'
           '<edXML:MessageHeader><edXML:From><edXML:OrganId>000.00.00.G22</edXML:OrganId></edXML:From>'
           '<edXML:To><edXML:OrganId>000.00.00.H12</edXML:OrganId></edXML:To>'
           '<edXML:To><edXML:OrganId> 000.00.21.H12 </edXML:OrganId></edXML:To>'
           '<edXML:ResponseFor><edXML:OrganId>X</edXML:OrganId></edXML:ResponseFor>'
           '</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope>'
           '<broken attachment never parsed <<<').encode()
    assert package_route(doc) == ("000.00.00.G22", ("000.00.00.H12", "000.00.21.H12"))
    status = (f'<edXML xmlns="{ns}"><edXMLEnvelope><edXMLHeader><MessageHeader>'
              '<From><OrganId>000.00.00.H12</OrganId></From>'
              '<ResponseFor><OrganId>000.00.00.G22</OrganId><DocumentId>d</DocumentId></ResponseFor>'
              '<StatusCode>01</StatusCode></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>').encode()
    assert package_route(status) == ("000.00.00.H12", ("000.00.00.G22",))
    entity = (b'<!DOCTYPE x [<!ENTITY e "000.00.00.G09">]><edXML><edXMLEnvelope><edXMLHeader><MessageHeader>'
              b'<From><OrganId>&e;</OrganId></From></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>')
    with pytest.raises(ValueError):  # the entity is not expanded: no sender at all
        package_route(entity)


# -- answers and retries over real HTTP ------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with scripted_server() as (url, script):
        yield url, script


def _ok(**extra: object) -> tuple[int, bytes, float]:
    return ok(**extra)


def test_send_edoc_posts_the_body_with_crlf_and_its_quirky_hash(server) -> None:
    url, script = server
    script.answers[:] = [_ok(DocId="vxp-1")]
    client = VxpClient(url, "sys-01", "k")
    assert client.send_edoc(b"<edXML>17</edXML>", sender="000.00.00.G22", to=["000.00.00.H12"]) == "vxp-1"
    first = script.requests[0]
    method, path, headers, body = first.method, first.path, first.headers, first.body
    assert (method, path, body) == ("POST", "/vxp/sendEdoc", b"<edXML>17</edXML>\r\n")
    assert headers["XroadVnpt-hash-file"] == "9e2bae2de26c828cbc44a43aaeb0a921eb072d5ce4aae48de479ca838ef98"
    assert headers["XroadVnpt-from"] == "000.00.00.G22" and headers["XroadVnpt-to"] == '["000.00.00.H12"]'
    assert headers["XroadVnpt-messagetype"] == "edoc" and headers["XroadVnpt-servicetype"] == "eDoc"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["XroadVnpt-hash-header"] == hash_header("k", headers["XroadVnpt-sign-header"])


def test_a_refusal_keeps_the_axis_own_error_text_whatever_the_http_status(server) -> None:
    url, script = server
    client = VxpClient(url, "sys-01", "k")
    script.answers[:] = [(200, json.dumps({"status": "FAIL", "ErrorCode": "-102",
                                        "ErrorDesc": "Đơn vị nhận không tồn tại"}).encode(), 0),
                      (403, b'{"status":"OK","ErrorCode":"0","data":[]}', 0)]
    with pytest.raises(VxpError) as caught:
        client.send_edoc(b"<x/>", sender="A")
    assert isinstance(caught.value, AxisError)
    assert (caught.value.code, caught.value.message) == ("-102", "Đơn vị nhận không tồn tại")
    assert client.get_agencies_list() == []  # HTTP 403 with status OK: the JSON decides


@pytest.mark.parametrize("answer", [(200, b"<html>Gateway</html>", 0), (200, b"[1, 2]", 0),
                                    (502, b'{"status":"FAIL","ErrorCode":"-1","ErrorDesc":"upstream"}', 0)])
def test_non_json_and_5xx_are_transport_failures(server, answer) -> None:
    url, script = server
    script.answers[:] = [answer]
    with pytest.raises(VxpUnavailable) as caught:
        VxpClient(url, "sys-01", "k").send_edoc(b"<x/>", sender="A")
    assert isinstance(caught.value, AxisUnavailable)
    assert len(script.requests) == 1  # sendEdoc is never retried


def test_post_retried_after_a_dropped_connection_but_not_send_edoc(server) -> None:
    url, script = server
    client = VxpClient(url, "sys-01", "k", attempts=3)
    script.answers[:] = ["drop", "drop", _ok(count=4)]
    assert client.count_received("status") == 4
    assert [r.path for r in script.requests] == ["/vxp/countReceiveStatus"] * 3
    for seen in script.requests:  # each attempt fully signed (anew: a fresh timestamp)
        assert seen.vxp("hash-header") == hash_header("k", seen.vxp("sign-header"))
        assert json.loads(seen.vxp("sign-header"))["XroadVnpt-timestamp"] == seen.vxp("timestamp")
    script.requests.clear()
    script.answers[:] = ["drop", "drop", "drop"]
    with pytest.raises(VxpUnavailable):
        client.count_received()
    assert len(script.requests) == 3
    script.requests.clear()
    script.answers[:] = ["drop", _ok(DocId="x")]
    with pytest.raises(VxpUnavailable):
        client.send_edoc(b"<x/>", sender="A")
    assert len(script.requests) == 1


def test_timeout_is_not_retried(server) -> None:
    url, script = server
    client = VxpClient(url, "sys-01", "k", connect_timeout=1, read_timeout=0.3)
    script.answers[:] = [(*_ok()[:2], 2.0), _ok()]
    started = time.monotonic()
    with pytest.raises(VxpUnavailable):
        client.update_status("d1", "done")
    assert time.monotonic() - started < 1.8  # gave up at the timeout, did not wait the 2 s
    assert len(script.requests) == 1  # and did not try again


def test_refused_connection_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(VxpUnavailable):
        VxpClient(f"http://127.0.0.1:{port}", "sys", "k", attempts=2).get_agencies_list()


def test_every_operation_sends_its_parameters(server) -> None:
    url, script = server
    client = VxpClient(url, "sys-01", "k")
    package = b"<edXML/>"
    item = {"docId": "d1", "from": "A", "to": "B;C", "serviceType": "eDoc", "messageType": "edoc",
            "created_time": "2026/12/03 10:00:00", "updated_time": None, "status": "initial",
            "status_desc": ""}
    script.answers[:] = [
        _ok(data=[item]), _ok(data=base64.encodebytes(package).decode()),
        (200, package, 0), _ok(), _ok(data=[{"senderDocId": "s", "toCode": "B", "receiveStatus": "done"}]),
        _ok(count="2"),
        _ok(data=[{"id": 1, "pid": 0, "code": "A", "name": "Cơ quan A", "mail": "a@x", "oldCode": "A0"}]),
        _ok(data=[{"id": 1, "code": "A", "name": "Cơ quan A", "mail": "", "code102": "A0"}]),
        _ok(data=[{"id": 1, "pid": 0, "code": "A", "name": "A", "mail": "", "version": 3,
                   "centerCode": "C", "deleted": "false", "modifyDate": "2026-12-01T08:00:00",
                   "isAgency": True}]),
        _ok(), _ok()]
    [received] = client.get_received_edoc_list("edoc")
    assert received.to == ("B", "C") and received.created_time == dt.datetime(
        2026, 12, 3, 10, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert client.get_edoc("d1") == package
    assert client.download_edoc("d1") == package
    client.update_status("d1", "fail")
    [sent] = client.get_sent_edoc_list(doc_id="s")
    assert (sent.sender_doc_id, sent.to_code, sent.receive_status) == ("s", "B", "done")
    assert client.count_received() == 2
    [agency] = client.get_agencies_list()
    assert (agency.id, agency.code, agency.old_code) == ("1", "A", "A0")
    [qd20] = client.get_agencies_list_qd20(level=2)
    assert qd20.code102 == "A0"
    [unit] = client.get_synchronize_unit()
    assert unit.is_agency and not unit.deleted and unit.version == "3"
    client.register_agency("A", "Cơ quan Á", pcode="P", mail="a@x")
    client.delete_agency("A")
    seen = [(r.method, r.path.removeprefix("/vxp/"),
             {k.removeprefix("XroadVnpt-"): v for k, v in r.headers.items() if k.startswith("XroadVnpt-")},
             r.body) for r in script.requests]
    ops = [(m, op) for m, op, _, _ in seen]
    assert ops == [("POST", "getReceivedEdocList"), ("POST", "getEdoc"), ("GET", "downloadEdoc"),
                   ("POST", "updateStatus"), ("POST", "getSentEdocList"), ("POST", "countReceiveEdoc"),
                   ("POST", "getAgenciesList"), ("POST", "getAgenciesListQD20"),
                   ("POST", "getSynchronizeUnit"), ("POST", "registerAgency"), ("POST", "deleteAgency")]
    params = [h for _, _, h, _ in seen]
    assert params[0]["messagetype"] == "edoc" and params[0]["servicetype"] == "eDoc"
    assert params[1]["docId"] == params[2]["docId"] == "d1" and seen[1][3] == b"{}"
    assert (params[3]["docId"], params[3]["status"]) == ("d1", "fail")
    assert params[4]["docId"] == "s"
    assert params[7]["level"] == "2"
    assert json.loads(seen[9][3]) == {"id": "", "pcode": "P", "code": "A", "name": "Cơ quan Á",
                                      "mail": "a@x", "mobile": "", "fax": ""}
    assert params[10]["AgencyCode"] == "A"
    for _, _, h, _ in seen:
        assert h["systemid"] == "sys-01" and h["version"] == "3.0.201608"
        assert h["hash-header"] == hash_header("k", h["sign-header"])
        assert h["sign-header-key"].split(";") == [k.removeprefix("XroadVnpt-")
                                                   for k in json.loads(h["sign-header"])]


def test_get_edoc_that_is_not_base64_is_a_bad_package(server) -> None:
    url, script = server
    script.answers[:] = [_ok(data="@@ not base64 @@")]
    with pytest.raises(VxpError) as caught:
        VxpClient(url, "sys", "k").get_edoc("d1")
    assert caught.value.code == "bad_package"


def test_adapter_acknowledges_done_once_any_copy_was_stored(server) -> None:
    from axis_connector.client import StatusUpdate

    url, script = server
    hub = VxpHubClient(VxpClient(url, "sys", "k"))
    script.answers[:] = [_ok(), _ok(), (200, json.dumps({"status": "FAIL", "ErrorCode": "9",
                                                           "ErrorDesc": "đã xử lý"}).encode(), 0)]
    results = hub.update_statuses([StatusUpdate("m1", "delivered", organ_ids=("A",)),
                                   StatusUpdate("m1", "failed", "lỗi", ("B",)),
                                   StatusUpdate("m2", "failed", "hỏng", ("A",)),
                                   StatusUpdate("m3", "delivered")])
    acks = [(r.vxp("docId"), r.vxp("status")) for r in script.requests]
    assert acks == [("m1", "done"), ("m2", "fail"), ("m3", "done")]
    assert results[:3] == [(), (), ()] and isinstance(results[3], AxisError)
    assert results[3].message == "đã xử lý"


def test_an_answer_over_the_cap_is_refused_while_read(server) -> None:
    url, script = server
    client = VxpClient(url, "sys", "k", max_answer_bytes=1000)
    script.answers[:] = [_ok(data=base64.b64encode(b"x" * 2000).decode()), _ok(count=1)]
    with pytest.raises(VxpError) as caught:
        client.get_edoc("big")
    assert caught.value.code == "bad_package" and "1000" in caught.value.message
    assert client.count_received() == 1  # the connection cut short is not reused
