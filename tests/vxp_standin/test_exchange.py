"""Documents and statuses through the stand-in, over HTTP, as two systems would exchange them."""

from __future__ import annotations

import base64
import json

from axis_connector.edxml import StatusCode, build_package
from tests.axis_connector.conftest import make_document, make_status

from .conftest import CA_MAU, SO_TTTT, VPCP, Server


def test_send_then_receive_get_download_and_acknowledge(server: Server) -> None:
    package = build_package(make_document())  # To: VPCP and SO_TTTT, no `to` header
    sent = server.ok("sendEdoc", "sys-camau", {"from": CA_MAU, "servicetype": "eDoc", "messagetype": "edoc"},
                     body=package + b"\r\n", content_type="application/octet-stream",
                     hash_body=package + b"\r\n")
    assert sent["DocId"] and sent["ErrorDesc"] == ""

    listed = server.ok("getReceivedEdocList", "sys-vpcp", {"servicetype": "eDoc", "messagetype": "edoc"},
                       body=b"")["data"]
    assert len(listed) == 1
    item = listed[0]
    assert {k: item[k] for k in ("from", "to", "serviceType", "messageType", "status")} == {
        "from": CA_MAU, "to": VPCP, "serviceType": "eDoc", "messageType": "edoc", "status": "pending"}
    assert set(item) == {"docId", "from", "to", "serviceType", "messageType", "created_time", "updated_time",
                         "status", "status_desc"}
    assert item["docId"] != sent["DocId"]  # the receiver's id, not the sender's
    # the other recipient has its own delivery; the sender's system sees nothing to receive
    assert [i["to"] for i in server.ok("getReceivedEdocList", "sys-sotttt", {"messagetype": "edoc"},
                                       body=b"")["data"]] == [SO_TTTT]
    assert server.ok("getReceivedEdocList", "sys-camau", {"messagetype": "edoc"}, body=b"")["data"] == []
    counted = server.ok("countReceiveEdoc", "sys-vpcp", {"servicetype": "eDoc", "messagetype": "edoc"})
    assert counted["count"] == 1

    got = server.ok("getEdoc", "sys-vpcp", {"docId": item["docId"]})
    assert base64.b64decode(got["data"]) == package  # as sent, without the SDK's CRLF
    downloaded = server.call("downloadEdoc", "sys-vpcp", {"docId": item["docId"]}, method="GET")
    assert downloaded.status == 200 and downloaded.body == package
    assert downloaded.headers["Content-Type"] == "application/octet-stream"

    # another system cannot fetch it
    other = server.call("getEdoc", "sys-sotttt", {"docId": item["docId"]}).json
    assert (other["status"], other["ErrorCode"]) == ("FAIL", "140")

    server.ok("updateStatus", "sys-vpcp", {"docId": item["docId"], "status": "done"})
    server.ok("updateStatus", "sys-vpcp", {"docId": item["docId"], "status": "done"})  # an SDK retry
    assert server.ok("getReceivedEdocList", "sys-vpcp", {"messagetype": "edoc"}, body=b"")["data"] == []
    assert server.ok("countReceiveEdoc", "sys-vpcp", {"messagetype": "edoc"})["count"] == 0
    changed = server.call("updateStatus", "sys-vpcp", {"docId": item["docId"], "status": "fail"}).json
    assert (changed["status"], changed["ErrorCode"]) == ("FAIL", "120")

    rows = server.ok("getSentEdocList", "sys-camau", {"servicetype": "eDoc", "messagetype": "edoc",
                                                      "docId": sent["DocId"]}, body=b"")["data"]
    by_recipient = {r["toCode"]: r for r in rows}
    assert set(by_recipient) == {VPCP, SO_TTTT}
    assert by_recipient[VPCP]["receiveStatus"] == "done" and by_recipient[VPCP]["receivedTime"]
    assert by_recipient[VPCP]["receiverDocId"] == item["docId"]
    assert by_recipient[SO_TTTT]["receiveStatus"] == "pending" and by_recipient[SO_TTTT]["receivedTime"] == ""
    row = by_recipient[VPCP]
    assert (row["senderDocId"], row["fromCode"], row["notation"], row["sendStatus"]) == (
        sent["DocId"], CA_MAU, "1234/UBND-VP", "sent")
    assert row["title"] == make_document().subject
    # the recipient's system has sent nothing
    assert server.ok("getSentEdocList", "sys-vpcp", {"messagetype": "edoc"}, body=b"")["data"] == []


def test_to_header_chooses_the_recipients(server: Server) -> None:
    package = build_package(make_document())
    assert server.send("sys-camau", package, CA_MAU, to=[SO_TTTT]).json["status"] == "OK"
    assert server.ok("countReceiveEdoc", "sys-sotttt", {"messagetype": "edoc"})["count"] == 1
    assert server.ok("countReceiveEdoc", "sys-vpcp", {"messagetype": "edoc"})["count"] == 0


def test_status_flows_back_to_the_sender(server: Server) -> None:
    package = build_package(make_document())
    doc_id = server.send("sys-camau", package, CA_MAU).json["DocId"]
    item = server.ok("getReceivedEdocList", "sys-vpcp", {"messagetype": "edoc"}, body=b"")["data"][0]
    server.ok("updateStatus", "sys-vpcp", {"docId": item["docId"], "status": "done"})

    # no `to` header: a status goes to its ResponseFor/OrganId
    status = build_package(make_status(StatusCode.REJECTED))
    answer = server.send("sys-vpcp", status, VPCP, messagetype="status").json
    assert answer["status"] == "OK", answer

    assert server.ok("countReceiveStatus", "sys-camau", {"servicetype": "eDoc", "messagetype": "status"}
                     )["count"] == 1
    assert server.ok("countReceiveEdoc", "sys-camau", {"messagetype": "edoc"})["count"] == 0
    listed = server.ok("getReceivedEdocList", "sys-camau", {"servicetype": "eDoc", "messagetype": "status"},
                       body=b"")["data"]
    assert [(i["from"], i["to"], i["messageType"]) for i in listed] == [(VPCP, CA_MAU, "status")]
    got = server.ok("getEdoc", "sys-camau", {"docId": listed[0]["docId"]})
    assert base64.b64decode(got["data"]) == status
    server.ok("updateStatus", "sys-camau", {"docId": listed[0]["docId"], "status": "done"})
    assert server.ok("countReceiveStatus", "sys-camau", {"messagetype": "status"})["count"] == 0

    rows = {r["toCode"]: r for r in server.ok("getSentEdocList", "sys-camau",
                                               {"messagetype": "edoc", "docId": doc_id}, body=b"")["data"]}
    assert (rows[VPCP]["receiveStatus"], rows[VPCP]["receiveStatusDesc"]) == ("02", "Lý do: thiếu chữ ký")
    assert rows[SO_TTTT]["receiveStatus"] == "pending"  # no status from it yet
    sent_statuses = server.ok("getSentEdocList", "sys-vpcp", {"messagetype": "status"}, body=b"")["data"]
    assert [(r["fromCode"], r["toCode"], r["receiveStatus"]) for r in sent_statuses] == [
        (VPCP, CA_MAU, "done")]


def test_status_without_description_gets_the_standard_text(server: Server) -> None:
    server.send("sys-camau", build_package(make_document()), CA_MAU)
    server.send("sys-sotttt", build_package(make_status(StatusCode.REGISTERED, sender=_so_tttt())), SO_TTTT,
                messagetype="status")
    rows = {r["toCode"]: r for r in server.ok("getSentEdocList", "sys-camau", {"messagetype": "edoc"},
                                               body=b"")["data"]}
    assert (rows[SO_TTTT]["receiveStatus"], rows[SO_TTTT]["receiveStatusDesc"]) == (
        "03", "Đã tiếp nhận, vào sổ văn bản đến")
    assert rows[VPCP]["receiveStatus"] == "pending"


def _so_tttt():
    from tests.axis_connector.conftest import SO_TTTT as ORG

    return ORG


def test_unprefixed_root_as_the_real_axis_carries_it(server: Server) -> None:
    package = build_package(make_document()).replace(b"edXML:", b"").replace(
        b' xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"', b"", 1)
    assert b"<edXML xmlns=" in package
    answer = server.send("sys-camau", package, CA_MAU).json
    assert answer["status"] == "OK", answer
    assert server.ok("countReceiveEdoc", "sys-vpcp", {"messagetype": "edoc"})["count"] == 1


def test_json_answers_keep_vietnamese_readable(server: Server) -> None:
    answer = server.call("getEdoc", "sys-vpcp", {"docId": "nope"})
    assert "không có văn bản".encode() in answer.body
    assert json.loads(answer.body)["ErrorDesc"].startswith("không có văn bản")
