"""The axis operations through the Flask test client and the real AxisClient."""

from __future__ import annotations

import pytest
from flask import Flask

from axis_connector.client import AxisClient, AxisError, Edoc, StatusUpdate
from axis_connector.edxml import StatusCode, parse_document_package, parse_status_package, verify_package
from tests.axis_connector.pki import Identity

from .conftest import CA_MAU, HUB_ORGAN_ID, SO_TTTT, VPCP, count_messages, make_status, sign


def test_send_list_get_ack(clients: dict[str, AxisClient], signed_document: bytes,
                           root_ca: Identity) -> None:
    sent = clients["camau"].send_edoc(signed_document)
    assert not sent.duplicate

    for name, organ_id in (("vpcp", VPCP.organ_id), ("sotttt", SO_TTTT.organ_id)):  # fan-out
        [item] = clients[name].get_received_edoc_list()
        assert (item.message_id, item.sender, item.to, item.messagetype) == (
            sent.message_id, CA_MAU.organ_id, (organ_id,), "edoc")
        edoc = clients[name].get_edoc(item.message_id)
        assert edoc.content_sha256 == item.content_sha256 and len(edoc.package) == item.content_length
        package = parse_document_package(edoc.package)
        assert package.trace[-1].organ_id == HUB_ORGAN_ID  # the hub's TraceHeader, after the sender's
        result = verify_package(edoc.package, [root_ca.certificate])
        assert result.trace_headers_after_signing == 1

    # offered until acknowledged
    assert [i.message_id for i in clients["vpcp"].get_received_edoc_list()] == [sent.message_id]
    clients["vpcp"].update_status(sent.message_id, "delivered")
    clients["vpcp"].update_status(sent.message_id, "delivered")  # idempotent
    assert clients["vpcp"].get_received_edoc_list() == []
    clients["sotttt"].update_status(sent.message_id, "failed", reason="Không lưu được tệp")

    [mine] = clients["camau"].get_sent_edoc_list()
    states = {r.organ_id: (r.state, r.reason) for r in mine.recipients}
    assert states == {VPCP.organ_id: ("delivered", ""), SO_TTTT.organ_id: ("failed", "Không lưu được tệp")}


def test_same_package_twice_gets_the_same_id(clients: dict[str, AxisClient], signed_document: bytes,
                                             app: Flask) -> None:
    first = clients["camau"].send_edoc(signed_document)
    again = clients["camau"].send_edoc(signed_document)
    assert again.message_id == first.message_id and again.duplicate
    assert count_messages(app) == 1
    assert len(clients["vpcp"].get_received_edoc_list()) == 1


def test_status_flows_back_to_the_sender(clients: dict[str, AxisClient], signed_document: bytes,
                                         seals: dict[str, Identity]) -> None:
    sent = clients["camau"].send_edoc(signed_document)
    clients["vpcp"].update_status(sent.message_id, "delivered")
    status = sign(make_status(StatusCode.REGISTERED), seals[VPCP.organ_id])
    clients["vpcp"].send_edoc(status, "status")
    [item] = clients["camau"].get_received_edoc_list("status")
    assert (item.sender, item.to, item.status_code) == (VPCP.organ_id, (CA_MAU.organ_id,), "03")
    package = parse_status_package(clients["camau"].get_edoc(item.message_id).package)
    assert package.status is StatusCode.REGISTERED


def test_status_for_a_document_never_received_is_refused(clients: dict[str, AxisClient],
                                                          seals: dict[str, Identity], app: Flask) -> None:
    status = sign(make_status(StatusCode.ARRIVED), seals[VPCP.organ_id])
    with pytest.raises(AxisError) as info:
        clients["vpcp"].send_edoc(status, "status")
    assert info.value.code == "document_not_received"
    assert VPCP.organ_id in info.value.message
    assert count_messages(app) == 0


def test_get_edoc_of_another_system_is_not_found(clients: dict[str, AxisClient],
                                                 signed_document: bytes) -> None:
    sent = clients["camau"].send_edoc(signed_document)
    with pytest.raises(AxisError) as info:
        clients["admin"].get_edoc(sent.message_id)
    assert info.value.code == "not_found" and info.value.status == 404
    with pytest.raises(AxisError):
        clients["admin"].update_status(sent.message_id, "delivered")


def test_messagetype_must_match_the_package(clients: dict[str, AxisClient], signed_document: bytes) -> None:
    with pytest.raises(AxisError) as info:
        clients["camau"].send_edoc(signed_document, "status")
    assert info.value.code == "wrong_message_type"


def test_to_restricts_delivery_to_listed_recipients(clients: dict[str, AxisClient],
                                                    signed_document: bytes) -> None:
    clients["camau"].send_edoc(signed_document, to=[VPCP.organ_id])
    assert len(clients["vpcp"].get_received_edoc_list()) == 1
    assert clients["sotttt"].get_received_edoc_list() == []
    with pytest.raises(AxisError) as info:
        clients["camau"].send_edoc(signed_document, to=["000.00.99.H99"])
    assert info.value.code == "recipient_not_in_package"


def test_agencies_directory(clients: dict[str, AxisClient], seals: dict[str, Identity],
                            root_ca: Identity, rogue_ca: Identity) -> None:
    from tests.axis_connector.pki import make_agency

    from .conftest import pem

    ids = {a.organ_id: a.system_id for a in clients["camau"].get_agencies_list()}
    assert ids == {CA_MAU.organ_id: "sys-camau", VPCP.organ_id: "sys-vpcp", SO_TTTT.organ_id: "sys-sotttt"}
    new = make_agency(root_ca, "000.01.13.H12", "Phòng CNTT")
    info = clients["sotttt"].register_agency("000.01.13.H12", "Phòng CNTT", parent_id=SO_TTTT.organ_id,
                                             level="phòng", certificate_pem=pem(new))
    assert (info.system_id, info.parent_id) == ("sys-sotttt", SO_TTTT.organ_id)

    refusals = {
        "agency_taken": lambda: clients["camau"].register_agency(VPCP.organ_id, "Chiếm chỗ"),
        "forbidden": lambda: clients["camau"].register_agency("000.02.13.H12", "X", system_id="sys-vpcp"),
        "certificate_mismatch": lambda: clients["camau"].register_agency(
            "000.03.13.H12", "Y", certificate_pem=pem(new)),
        "untrusted_certificate": lambda: clients["camau"].register_agency(
            "000.04.13.H12", "Z", certificate_pem=pem(make_agency(rogue_ca, "000.04.13.H12", "Z"))),
    }
    for code, call in refusals.items():
        with pytest.raises(AxisError) as exc:
            call()
        assert exc.value.code == code


def test_concurrent_sends_of_one_package_store_it_once(app: Flask, signed_document: bytes) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from .conftest import SECRETS, FlaskPool

    def send(_: int) -> str:
        pool = FlaskPool(app.test_client())
        client = AxisClient("http://hub", "sys-camau", SECRETS["sys-camau"], pool=pool)
        return client.send_edoc(signed_document).message_id

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(send, range(4)))
    assert len(ids) == 1
    assert count_messages(app) == 1


def test_batch_get_and_acknowledge(clients: dict[str, AxisClient], signed_document: bytes) -> None:
    sent = clients["camau"].send_edoc(signed_document)
    [item] = clients["vpcp"].get_received_edoc_list()
    edoc, missing = clients["vpcp"].get_edocs([item.message_id, "no-such-message"])
    assert isinstance(edoc, Edoc) and edoc.package == clients["vpcp"].get_edoc(sent.message_id).package
    assert isinstance(missing, AxisError) and missing.code == "not_found"
    [other] = clients["admin"].get_edocs([sent.message_id])  # not the admin's: refused per item
    assert isinstance(other, AxisError) and other.code == "not_found"

    states, refused, unknown = clients["vpcp"].update_statuses([
        StatusUpdate(sent.message_id, "delivered"),
        StatusUpdate(sent.message_id, "failed"),  # no reason: refused alone
        StatusUpdate("no-such-message", "delivered")])
    assert [(s.organ_id, s.state) for s in states] == [(VPCP.organ_id, "delivered")]
    assert isinstance(refused, AxisError) and refused.code == "missing_value"
    assert isinstance(unknown, AxisError) and unknown.code == "not_found"
    assert clients["vpcp"].get_received_edoc_list() == []
    [(state,)] = [clients["vpcp"].update_statuses([StatusUpdate(sent.message_id, "delivered")])]
    assert state[0].state == "delivered"  # idempotent
    with pytest.raises(AxisError) as info:
        clients["vpcp"].call("getEdocs", {"message_ids": []})
    assert info.value.code == "invalid_request"


def test_packages_are_read_back_byte_for_byte_and_never_written_again(
        app: Flask, clients: dict[str, AxisClient], signed_document: bytes,
        seals: dict[str, Identity]) -> None:
    """getEdocs fills the deferred package column with one query (binary format on
    PostgreSQL); the bytes are the stored ones, and reading them marks nothing to update."""
    import hashlib

    from sqlalchemy import event, select

    from axis_connector.hub.models import Message
    from axis_connector.hub.services import load_packages

    document = clients["camau"].send_edoc(signed_document).message_id
    clients["vpcp"].update_status(document, "delivered")
    status = clients["vpcp"].send_edoc(sign(make_status(), seals[VPCP.organ_id]), "status").message_id
    sent = [document, status]
    with app.extensions["axis_hub"].db.session() as session:
        statements: list[str] = []
        event.listen(session.get_bind(), "before_cursor_execute",
                     lambda conn, cursor, sql, *a: statements.append(sql))
        messages = list(session.scalars(select(Message).where(Message.id.in_(sent))))
        assert all("package" not in m.__dict__ for m in messages)  # deferred
        load_packages(session, messages)
        for message in messages:
            assert hashlib.sha256(message.package).hexdigest() == message.content_sha256
            assert len(message.package) == message.content_length
        assert not session.dirty
        session.commit()
        assert not any(sql.lstrip().upper().startswith("UPDATE") for sql in statements)
        load_packages(session, messages)  # loaded already: nothing asked again


def test_the_list_offers_the_oldest_messages_up_to_the_limit_with_all_their_recipients(
        clients: dict[str, AxisClient], seals: dict[str, Identity]) -> None:
    """A system serving two agencies gets each message once, with both; ``limit`` counts
    messages, not deliveries; acknowledged ones leave the list."""
    from axis_connector.edxml import Organization

    from .conftest import make_document

    cuc = Organization("000.00.23.G22", "Cục Văn thư và Lưu trữ (thử)")
    clients["admin"].register_agency(cuc.organ_id, cuc.organ_name, system_id="sys-vpcp")
    sent = [clients["camau"].send_edoc(sign(make_document(
        recipients=(VPCP, cuc), document_id=f"000.00.00.H12,2024/05/02,{1000 + i}/UBND-VP"),
        seals[CA_MAU.organ_id])).message_id for i in range(5)]
    clients["camau"].send_edoc(sign(make_document(recipients=(SO_TTTT,)), seals[CA_MAU.organ_id]))

    first = clients["vpcp"].get_received_edoc_list(limit=3)
    assert [i.message_id for i in first] == sent[:3]
    assert all(sorted(i.to) == sorted([VPCP.organ_id, cuc.organ_id]) for i in first)
    assert [i.document_id for i in first] == [f"000.00.00.H12,2024/05/02,{1000 + i}/UBND-VP"
                                             for i in range(3)]
    assert all(i.sender == CA_MAU.organ_id and i.messagetype == "edoc" and i.content_length > 0
               for i in first)

    clients["vpcp"].update_status(sent[0], "delivered", organ_ids=[VPCP.organ_id])  # one of two
    again = clients["vpcp"].get_received_edoc_list(limit=3)
    assert [(i.message_id, i.to) for i in again][:1] == [(sent[0], (cuc.organ_id,))]
    assert [i.message_id for i in again] == sent[:3]
    clients["vpcp"].update_status(sent[0], "delivered")
    assert [i.message_id for i in clients["vpcp"].get_received_edoc_list()] == sent[1:]
    assert clients["vpcp"].get_received_edoc_list("status") == []
