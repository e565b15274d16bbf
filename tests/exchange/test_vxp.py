"""Agencies behind the national axis's own wire protocol (VXP): the exchange worker's real code
path, over real HTTP, to the stand-in VXP (``axis_connector.vxp_standin``) or, for the failures
a real server is not made to produce, to a scripted one.

Văn phòng Chính phủ and xã Khánh An are each a system of their own on the stand-in (two hubs of
``protocol: vxp`` on the same URL): a document goes from one to the other, and its statuses,
as edXML status packages, come back the same way.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from axis_connector.vxp import VxpClient, VxpError
from axis_connector.vxp_standin import create_app as create_standin
from axis_connector.vxp_standin import prepare as prepare_standin
from ioffice.audit import AuditContext
from ioffice.exchange import dispatch, exchange, install_listeners, recipient_statuses
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox
from ioffice.exchange.runtime import Exchange
from ioffice.exchange.sending import WorkReport, send_pending
from ioffice.exchange.worker import refresh_directory, run_once
from ioffice.incoming.models import DocumentStatus, IncomingDocument
from signing import Pki
from tests.support.scripted_http import fail, ok, scripted_server

from .conftest import agency, outgoing
from .test_flow import register

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")
VPCP, KHANH_AN, U_MINH = "000.00.00.G22", "000.01.21.H12", "000.00.21.H12"


@dataclass
class VxpDeployment:
    app: Flask
    rt: Exchange
    pki: Pki
    url: str
    secrets: dict[str, str]

    def pump(self, rounds: int = 20) -> WorkReport:
        total = WorkReport()
        for _ in range(rounds):
            report = run_once(self.rt)
            for name in ("sent", "retried", "dead", "received", "statuses", "refused"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.sent + report.received + report.statuses + report.refused + report.dead == 0:
                break
        return total


def _vxp_hub(name: str, url: str, system_id: str, secret: str, agencies: list[str],
             **extra: Any) -> dict[str, Any]:
    return {"name": name, "protocol": "vxp", "url": url, "system_id": system_id, "secret": secret,
            "agencies": agencies, **extra}


@pytest.fixture
def vxp(app: Flask, db: Session, pki: Pki, tmp_path: Path) -> Iterator[VxpDeployment]:
    install_listeners()
    keys = {s: secrets.token_urlsafe(24) for s in ("ioffice-vpcp", "ioffice-khanhan")}
    standin = create_standin({
        "TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'vxp.db'}", "SYSTEMS": keys,
        "ADD_TRACE_HEADER": True,  # as the real axis: every delivery carries its trace header
        "AGENCIES": {"ioffice-vpcp": [{"code": VPCP, "name": "Văn phòng Chính phủ", "old_code": "G22"}],
                     "ioffice-khanhan": [{"code": KHANH_AN, "name": "Ủy ban nhân dân xã Khánh An",
                                          "pcode": U_MINH}]}})
    prepare_standin(standin)
    server = make_server("127.0.0.1", 0, standin, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["EXCHANGE_HUBS"] = [
        _vxp_hub("vxp-vpcp", url, "ioffice-vpcp", keys["ioffice-vpcp"], [VPCP]),
        _vxp_hub("vxp-khanhan", url, "ioffice-khanhan", keys["ioffice-khanhan"], [KHANH_AN])]
    app.config["EXCHANGE_BACKOFF_SECONDS"] = 0
    rt = exchange(app)
    refresh_directory(rt)
    yield VxpDeployment(app, rt, pki, url, keys)
    server.shutdown()
    thread.join(5)
    server.server_close()
    standin.extensions["vxp_standin"].db.dispose()


def _received(db: Session, code: str, document_identifier: str) -> list[IncomingDocument]:
    return list(db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, code).id,
        IncomingDocument.document_identifier == document_identifier)))


def test_a_document_through_the_vxp_and_its_statuses_back(db: Session, vxp: VxpDeployment) -> None:
    edoc = outgoing(db, vxp, sender=VPCP, recipients=(KHANH_AN,))
    [row] = dispatch(db, CTX, edoc)
    db.commit()
    report = vxp.pump()
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "sent" and row.hub == "vxp-vpcp", row.last_error
    assert row.message_id  # the VXP's DocId
    assert report.received == 1 and report.statuses >= 1

    [doc] = _received(db, KHANH_AN, edoc.document_identifier)
    assert doc.status is DocumentStatus.AWAITING_REGISTRATION and doc.issuer_code == VPCP
    assert doc.subject == edoc.subject
    [f] = doc.files
    assert f.signature_verdict == "valid", f.signature_summary
    inbox = db.scalars(select(ExchangeInbox).where(ExchangeInbox.incoming_document_id == doc.id)).one()
    assert (inbox.hub, inbox.state) == ("vxp-khanhan", "delivered")

    # status 01 went out as an edXML status package over the VXP and came back to VPCP
    statuses = {s.organ_id: s for s in recipient_statuses(db, agency(db, VPCP).id, edoc.document_identifier)}
    assert statuses[KHANH_AN].code == "01"
    status_in = db.scalars(select(ExchangeInbox).where(
        ExchangeInbox.messagetype == "status", ExchangeInbox.document_identifier == edoc.document_identifier)
    ).all()
    assert {(i.hub, i.state, i.status_code) for i in status_in} == {("vxp-vpcp", "status", "01")}

    register(db, "vanthu.khanhan", doc)
    db.commit()
    vxp.pump()
    db.expire_all()
    statuses = {s.organ_id: s for s in recipient_statuses(db, agency(db, VPCP).id, edoc.document_identifier)}
    assert statuses[KHANH_AN].code == "03", statuses[KHANH_AN]

    # every item pulled was acknowledged: nothing waits on the axis for either system
    for system in ("ioffice-vpcp", "ioffice-khanhan"):
        client = VxpClient(vxp.url, system, vxp.secrets[system])
        assert client.get_received_edoc_list("edoc") == [] and client.get_received_edoc_list("status") == []
    sent = VxpClient(vxp.url, "ioffice-vpcp", vxp.secrets["ioffice-vpcp"]).get_sent_edoc_list()
    assert [(s.from_code, s.to_code) for s in sent] == [(VPCP, KHANH_AN)]


def test_a_resend_after_a_lost_answer_registers_the_document_once(db: Session, vxp: VxpDeployment) -> None:
    edoc = outgoing(db, vxp, sender=VPCP, recipients=(KHANH_AN,))
    [row] = dispatch(db, CTX, edoc)
    db.commit()
    send_pending(vxp.rt, WorkReport())
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "sent"
    # the answer "lost": the outbox sends the same package again
    row.state, row.message_id = "pending", None
    db.commit()
    vxp.pump()
    db.expire_all()
    assert len(_received(db, KHANH_AN, edoc.document_identifier)) == 1
    states = sorted(i.state for i in db.scalars(select(ExchangeInbox).where(
        ExchangeInbox.messagetype == "edoc", ExchangeInbox.document_identifier == edoc.document_identifier)))
    assert states in (["delivered"], ["delivered", "duplicate"])  # whether the axis deduped or not


def test_a_refusal_is_dead_lettered_with_the_axis_own_text_on_the_clerks_page(
        db: Session, vxp: VxpDeployment, login_as) -> None:
    # U Minh is one of ours but not on the VXP: the stand-in refuses the recipient
    [row] = dispatch(db, CTX, outgoing(db, vxp, sender=VPCP, recipients=(U_MINH,)))
    db.commit()
    vxp.pump()
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "dead" and row.attempts == 1, row.last_error
    # the axis's own ErrorDesc (it names the recipient) and ErrorCode, as it answered them
    assert row.last_error.startswith("Trục liên thông từ chối: ") and U_MINH in row.last_error
    assert row.last_error.endswith("]")
    html = login_as("vanthu.vpcp").get("/lien-thong/").get_data(as_text=True)
    from markupsafe import escape

    assert str(escape(row.last_error)) in html


def test_a_mismatched_hash_file_is_refused_by_the_axis(vxp: VxpDeployment) -> None:
    client = VxpClient(vxp.url, "ioffice-vpcp", vxp.secrets["ioffice-vpcp"])
    body = b"<edXML/>\r\n"
    response = client.request("sendEdoc", {"from": VPCP, "servicetype": "eDoc", "messagetype": "edoc",
                                            "hash-file": "0" * 64, "to": f'["{KHANH_AN}"]'},
                              body, content_type="application/octet-stream", retry=False)
    with pytest.raises(VxpError) as caught:
        client._answer("sendEdoc", response)
    assert caught.value.message  # the axis's own reason
    assert client.get_received_edoc_list() == []


# -- failures a real server is not made to produce: a scripted VXP --------------------------------


@pytest.fixture
def scripted(app: Flask, db: Session, pki: Pki) -> Iterator[tuple[VxpDeployment, Any]]:
    install_listeners()
    with scripted_server() as (url, script):
        app.config["EXCHANGE_HUBS"] = [_vxp_hub("vxp", url, "ioffice-vxp", "k", [VPCP, KHANH_AN],
                                                read_timeout=2.0, connect_timeout=2)]
        app.config["EXCHANGE_BACKOFF_SECONDS"] = 0
        yield VxpDeployment(app, exchange(app), pki, url, {}), script


@pytest.mark.parametrize("answer, state, text", [
    ((200, b"<html><body>502 Bad Gateway</body></html>", 0), "pending", "không phải JSON"),
    ((503, '{"status":"FAIL","ErrorCode":"-500","ErrorDesc":"Trục đang bảo trì"}'.encode(), 0),
     "pending", "Trục đang bảo trì"),
    # the read timeout (2 s) leaves the other answers room on a loaded machine (0.5 s did not)
    ((200, b'{"status":"OK","DocId":"late"}', 4.0), "pending", "Read timed out"),
    (fail("-102", "Đơn vị nhận 000.01.21.H12 chưa kết nối trục"), "dead",
     "Trục liên thông từ chối: Đơn vị nhận 000.01.21.H12 chưa kết nối trục [-102]"),
])
def test_a_send_the_axis_answers_badly_is_retried_or_dead_lettered(
        db: Session, scripted, answer, state: str, text: str, login_as) -> None:
    deployment, script = scripted
    [row] = dispatch(db, CTX, outgoing(db, deployment, sender=VPCP, recipients=(KHANH_AN,)))
    db.commit()
    script.answers.append(answer)
    send_pending(deployment.rt, WorkReport(), max_rounds=1)
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert script.operations() == ["sendEdoc"]  # one attempt: sendEdoc is never retried in the client
    assert (row.state, row.attempts) == (state, 1) and text in row.last_error, row.last_error
    html = login_as("vanthu.vpcp").get("/lien-thong/").get_data(as_text=True)
    assert text.replace('"', "&#34;") in html or text in html


def _item(doc_id: str, messagetype: str = "edoc", to: str = KHANH_AN) -> dict[str, Any]:
    return {"docId": doc_id, "from": "000.00.99.H12", "to": to, "serviceType": "eDoc",
            "messageType": messagetype, "created_time": "2026/12/03 09:00:00", "status": "initial"}


@pytest.mark.parametrize("data, reason", [
    (base64.b64encode(b"<edXML><edXMLEnvelope><broken").decode(), "Gói tin không hợp lệ"),
    ("%%% không phải base64 %%%", "không phải base64"),
])
def test_a_pulled_package_that_will_not_parse_is_acknowledged_fail_once(
        db: Session, scripted, data: str, reason: str) -> None:
    deployment, script = scripted

    def answer(seen) -> tuple[int, bytes, float]:
        operation = seen.path.rsplit("/", 1)[-1]
        if operation == "getReceivedEdocList":  # a server that keeps listing it
            return ok(data=[_item("bad-1")] if seen.vxp("messagetype") == "edoc" else [])
        if operation == "getEdoc":
            return ok(data=data)
        return ok()

    script.default = answer
    for _ in range(2):
        run_once(deployment.rt)
    acks = [(r.vxp("docId"), r.vxp("status")) for r in script.requests
            if r.path.endswith("/updateStatus")]
    assert acks == [("bad-1", "fail"), ("bad-1", "fail")]
    assert script.operations().count("getEdoc") == 1  # refused once, never fetched again
    [inbox] = db.scalars(select(ExchangeInbox).where(ExchangeInbox.message_id == "bad-1")).all()
    assert inbox.state == "failed" and reason in inbox.error and inbox.recipient_organ_id == KHANH_AN


def test_a_status_goes_back_by_the_hub_its_document_came_by(db: Session, vxp: VxpDeployment) -> None:
    """Khánh An's own hub (by its code) is another one, first in the list and down; the document
    came by the VXP, so its statuses go back by the VXP (a hub accepts a status only for a
    document it delivered)."""
    from ioffice.exchange.config import HubConfig

    elsewhere = HubConfig("elsewhere", "http://127.0.0.1:9", "x", "x", (KHANH_AN,))
    vxp.rt.hubs = (elsewhere, *vxp.rt.hubs)
    assert vxp.rt.hub_for(KHANH_AN).name == "elsewhere"
    edoc = outgoing(db, vxp, sender=VPCP, recipients=(KHANH_AN,))
    dispatch(db, CTX, edoc)
    db.commit()
    vxp.pump()
    db.expire_all()
    [status_row] = db.scalars(select(ExchangeOutbox).where(ExchangeOutbox.kind == "status")).all()
    assert (status_row.state, status_row.hub) == ("sent", "vxp-khanhan"), status_row.last_error
    statuses = {s.organ_id: s for s in recipient_statuses(db, agency(db, VPCP).id, edoc.document_identifier)}
    assert statuses[KHANH_AN].code == "01"


def test_an_item_listed_without_recipients_is_routed_by_its_package(db: Session, scripted) -> None:
    """The list's ``to`` empty: the package is fetched once, its To read, and receipt goes on
    (here refusing it: it is not signed) for that recipient."""
    deployment, script = scripted
    ns = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
    package = (f'<edXML xmlns="{ns}"><edXMLEnvelope><edXMLHeader><MessageHeader>'
               f'<From><OrganId>000.00.99.H12</OrganId></From><To><OrganId>{KHANH_AN}</OrganId></To>'
               '</MessageHeader></edXMLHeader></edXMLEnvelope></edXML>').encode()

    def answer(seen) -> tuple[int, bytes, float]:
        operation = seen.path.rsplit("/", 1)[-1]
        if operation == "getReceivedEdocList":
            return ok(data=[_item("no-to", to="")] if seen.vxp("messagetype") == "edoc" else [])
        if operation == "getEdoc":
            return ok(data=base64.b64encode(package).decode())
        return ok()

    script.default = answer
    run_once(deployment.rt)
    assert script.operations().count("getEdoc") == 1
    [inbox] = db.scalars(select(ExchangeInbox).where(ExchangeInbox.message_id == "no-to")).all()
    assert inbox.recipient_organ_id == KHANH_AN and inbox.state == "failed" and inbox.error
    assert [(r.vxp("docId"), r.vxp("status")) for r in script.requests
            if r.path.endswith("/updateStatus")] == [("no-to", "fail")]


def test_hub_protocol_config_builds_the_right_client() -> None:
    from axis_connector.client import AxisClient
    from axis_connector.vxp import VxpHubClient
    from ioffice.exchange.config import parse_hubs
    from ioffice.exchange.runtime import make_client

    ours, vxp_hub = parse_hubs([
        {"url": "http://hub", "system_id": "a", "secret": "s"},
        {"name": "vxp", "protocol": "VXP", "url": "https://vxp/api/", "system_id": "b", "secret": "t",
         "agencies": "000.00.00.G22", "connect_timeout": 3, "read_timeout": 45, "attempts": 4}])
    assert (ours.protocol, vxp_hub.protocol, vxp_hub.agencies) == ("ioffice", "vxp", ("000.00.00.G22",))
    assert isinstance(make_client(ours, 30.0), AxisClient)
    client = make_client(vxp_hub, 30.0)
    assert isinstance(client, VxpHubClient) and client.base_url == "https://vxp/api"
    timeout = client.vxp.timeout
    assert (timeout.connect_timeout, timeout.read_timeout, client.vxp.attempts) == (3, 45, 4)
    [plain] = parse_hubs([{"protocol": "vxp", "url": "u", "system_id": "b", "secret": "t"}])
    timeout = make_client(plain, 12.0).vxp.timeout
    assert (timeout.connect_timeout, timeout.read_timeout) == (12.0, 12.0)
    for bad in ({"protocol": "soap"}, {"protocol": "vxp", "read_timeout": 0},
                {"protocol": "vxp", "attempts": 9}):
        with pytest.raises(ValueError):
            hub = parse_hubs([{"url": "u", "system_id": "b", "secret": "t", **bad}])[0]
            make_client(hub, 30.0)


def test_every_other_operation_against_the_stand_in(db: Session, vxp: VxpDeployment) -> None:
    """Download, counts, both directories with the code mapping, synchronisation, register and
    delete: the client's reading of the spec against the stand-in's, over HTTP."""
    from axis_connector.vxp import code_mapping

    vpcp = VxpClient(vxp.url, "ioffice-vpcp", vxp.secrets["ioffice-vpcp"])
    khanhan = VxpClient(vxp.url, "ioffice-khanhan", vxp.secrets["ioffice-khanhan"])
    edoc = outgoing(db, vxp, sender=VPCP, recipients=(KHANH_AN,))
    dispatch(db, CTX, edoc)
    db.commit()
    send_pending(vxp.rt, WorkReport())
    assert (khanhan.count_received("edoc"), khanhan.count_received("status")) == (1, 0)
    [item] = khanhan.get_received_edoc_list("edoc")
    assert (item.sender, item.to) == (VPCP, (KHANH_AN,))
    assert khanhan.download_edoc(item.doc_id) == khanhan.get_edoc(item.doc_id)
    assert edoc.document_identifier.encode() in khanhan.get_edoc(item.doc_id)
    with pytest.raises(VxpError):  # not ours to fetch
        vpcp.get_edoc(item.doc_id)

    vpcp.register_agency("000.00.00.G22.01", "Cổng Thông tin điện tử Chính phủ", pcode=VPCP,
                         mail="ttdt@chinhphu.vn")
    listed = {a.code: a for a in vpcp.get_agencies_list()}
    assert listed["000.00.00.G22.01"].pid == listed[VPCP].id
    assert listed["000.00.00.G22.01"].name == "Cổng Thông tin điện tử Chính phủ"
    qd20 = vpcp.get_agencies_list_qd20()
    assert {a.code for a in qd20} >= {VPCP, KHANH_AN, "000.00.00.G22.01"}
    new_to_old, old_to_new = code_mapping(qd20)
    assert new_to_old[VPCP] == "G22" and old_to_new["G22"] == VPCP and KHANH_AN not in new_to_old
    with pytest.raises(VxpError):  # another system's agency
        khanhan.delete_agency("000.00.00.G22.01")
    vpcp.delete_agency("000.00.00.G22.01")
    assert "000.00.00.G22.01" not in {a.code for a in vpcp.get_agencies_list()}
    units = {u.code: u for u in vpcp.get_synchronize_unit()}
    assert units["000.00.00.G22.01"].deleted and not units[VPCP].deleted


def test_the_vxp_is_polled_not_asked_to_push(vxp: VxpDeployment) -> None:
    from ioffice.exchange.worker import register_callbacks

    vxp.rt.callback_url = "http://127.0.0.1:5000/lien-thong/thong-bao"
    vxp.rt.push = True
    assert register_callbacks(vxp.rt) is False  # so the worker keeps its short poll interval
