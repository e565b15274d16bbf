"""``sendEdocs``: several packages in one request, each accepted or refused on its own."""

from __future__ import annotations

import dataclasses

from flask import Flask

from axis_connector.client import AxisClient, AxisError, SendResult
from tests.axis_connector.pki import Identity

from .conftest import CA_MAU, VPCP, count_messages, make_document, make_status, sign


def _documents(seals: dict[str, Identity], count: int) -> list[bytes]:
    base = make_document(recipients=(VPCP,))
    return [sign(dataclasses.replace(base, document_id=f"{base.document_id}-{i}"), seals[CA_MAU.organ_id])
            for i in range(count)]


def test_each_package_is_answered_on_its_own(clients: dict[str, AxisClient], app: Flask,
                                             seals: dict[str, Identity]) -> None:
    good, other = _documents(seals, 2)
    tampered = other.replace(b"UBND-VP-1</edXML:DocumentId>", b"UBND-VP-9</edXML:DocumentId>", 1)
    assert tampered != other
    status = sign(make_status(), seals[VPCP.organ_id])  # about a document VPCP never received

    results = clients["camau"].send_edocs([(good, "edoc"), (tampered, "edoc"), (good, "edoc"),
                                           (status, "status")])

    first, refused, again, wrong_sender = results
    assert isinstance(first, SendResult) and not first.duplicate
    assert isinstance(refused, AxisError) and refused.code == "digest_mismatch" and refused.status == 400
    assert isinstance(again, SendResult) and again.duplicate and again.message_id == first.message_id
    # CA Mau's system may not send for VPCP: refused like sendEdoc would, with its HTTP status
    assert isinstance(wrong_sender, AxisError) and wrong_sender.code == "agency_not_yours"
    assert wrong_sender.status == 403
    assert count_messages(app) == 1
    assert [i.message_id for i in clients["vpcp"].get_received_edoc_list()] == [first.message_id]


def test_a_batch_may_exceed_the_single_package_limit(clients: dict[str, AxisClient], app: Flask,
                                                     seals: dict[str, Identity]) -> None:
    packages = _documents(seals, 6)  # ~1.7 MB of packages; the test hub's package limit is 1 MB
    assert sum(map(len, packages)) > app.config["MAX_PACKAGE_BYTES"]
    results = clients["camau"].send_edocs([(p, "edoc") for p in packages])
    assert all(isinstance(r, SendResult) and not r.duplicate for r in results)
    assert len(clients["vpcp"].get_received_edoc_list()) == 6


def test_malformed_items_refuse_the_request(clients: dict[str, AxisClient], app: Flask) -> None:
    for payload in ({"items": []}, {"items": ["x"]}, {"items": [{"package": "***"}] * 101}):
        try:
            clients["camau"].call("sendEdocs", payload)
        except AxisError as exc:
            assert exc.code == "invalid_request" and exc.status == 400
        else:
            raise AssertionError(f"accepted {str(payload)[:40]}")
    assert count_messages(app) == 0
