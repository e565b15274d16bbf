"""Bad input at the connector: each refused with a precise message, never half-stored."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from axis_connector.client import AxisClient
from axis_connector.edxml import sign_package
from ioffice.audit import AuditContext
from ioffice.db import utcnow
from ioffice.documents.vocabulary import Confidentiality
from ioffice.exchange import ConfidentialRefused, UnknownRecipients, dispatch, recipient_statuses, runtime
from ioffice.exchange.decisions import retry
from ioffice.exchange.models import DirectoryEntry, ExchangeInbox, ExchangeOutbox
from ioffice.exchange.packages import build_document, build_status
from ioffice.exchange.receipt import receive_package
from ioffice.exchange.sending import _seal
from ioffice.incoming.models import DocumentFile, IncomingDocument
from signing import sign_pdf
from signing.demo import make_text_pdf
from tests.support.factories import actor

from .conftest import BNV, CA_MAU, U_MINH, VPCP, Federation, agency, mid, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def _payload(edoc) -> dict:
    from ioffice.exchange.dispatch import _json_payload

    return _json_payload(edoc)


def signed_package(db: Session, fed: Federation, edoc, signer: str = BNV) -> bytes:
    from ioffice.agencies.models import Agency

    sender = db.get_one(Agency, edoc.sender_agency_id)
    data = build_document(sender, _payload(edoc), fed.rt.blobs)
    key, chain = _seal(fed.rt, db, agency(db, signer).id)
    return sign_package(data, key, chain)


def receive(fed: Federation, data: bytes, to: tuple[str, ...] = (CA_MAU,), messagetype: str = "edoc",
            message_id: str = "m-1"):
    return receive_package(fed.rt, "tinh", mid(message_id), list(to), messagetype, data, sender=BNV)


def documents(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(IncomingDocument))


def failure(db: Session, message_id: str = "m-1") -> str:
    return db.scalars(select(ExchangeInbox.error).where(ExchangeInbox.message_id == mid(message_id))).first()


def test_malformed_xml(db: Session, federation: Federation) -> None:
    before = documents(db)
    outcome = receive(federation, b"<?xml version='1.0'?><edXML:edXML xmlns:edXML='x'><broken")
    assert outcome.failed[CA_MAU].startswith("Gói tin không hợp lệ")
    assert "malformed_xml" in failure(db) and documents(db) == before


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">]><edXML>&c;</edXML>',
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>',
], ids=["entity-bomb", "external-entity"])
def test_entities_are_refused(db: Session, federation: Federation, xml: bytes) -> None:
    outcome = receive(federation, xml)
    assert "doctype_forbidden" in outcome.failed[CA_MAU]
    assert "root:" not in failure(db)  # never resolved


def test_package_over_the_size_limit(db: Session, federation: Federation) -> None:
    federation.rt.settings["MAX_PACKAGE_MB"] = 0.01
    outcome = receive(federation, b"<edXML>" + b"a" * 20000 + b"</edXML>")
    assert "vượt giới hạn" in outcome.failed[CA_MAU] and "too_large" in failure(db)


def test_signed_by_a_key_that_is_not_the_senders(db: Session, federation: Federation) -> None:
    data = signed_package(db, federation, outgoing(db, federation), signer=VPCP)
    outcome = receive(federation, data)
    assert "sender_mismatch" in outcome.failed[CA_MAU]


def test_signed_outside_the_pki(db: Session, federation: Federation) -> None:
    from tests.axis_connector.pki import make_agency, make_ca

    rogue = make_agency(make_ca("Rogue CA"), BNV, "Bộ Nội vụ (giả)")
    sender = agency(db, BNV)
    data = sign_package(build_document(sender, _payload(outgoing(db, federation)), federation.rt.blobs),
                        rogue.key, [rogue.certificate])
    outcome = receive(federation, data)
    assert "Gói tin không hợp lệ" in outcome.failed[CA_MAU]


def test_tampered_package(db: Session, federation: Federation) -> None:
    data = signed_package(db, federation, outgoing(db, federation, subject="Báo cáo quý I"))
    tampered = data.replace("Báo cáo quý I".encode(), "Báo cáo quý V".encode())
    assert tampered != data
    outcome = receive(federation, tampered)
    assert "digest_mismatch" in outcome.failed[CA_MAU]
    assert documents(db) == db.scalar(select(func.count()).select_from(IncomingDocument))


def _received_file(db: Session, federation: Federation, pdf: bytes) -> DocumentFile:
    """Send ``pdf`` from BNV to Cà Mau through the hubs; the file of the incoming document."""
    edoc = outgoing(db, federation, pdf=pdf, recipients=(CA_MAU,))
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    [doc] = db.scalars(select(IncomingDocument).where(
        IncomingDocument.document_identifier == edoc.document_identifier)).all()
    [f] = doc.files
    return f


def test_invalid_pdf_signature_is_delivered_and_flagged(db: Session, federation: Federation) -> None:
    f = _received_file(db, federation, make_text_pdf(["Không ký số"]))
    assert f.signature_verdict != "valid" and f.signature_summary  # explanation in Vietnamese


def test_pdf_of_a_certificate_revoked_while_the_worker_runs_is_flagged(
        db: Session, federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs for weeks: a revocation made meanwhile must reach its verdicts."""
    monkeypatch.setattr(runtime, "TRUST_RECHECK_SECONDS", 0.0)
    assert federation.rt.trust.crls  # loaded before the revocation, as by a running worker
    signer = federation.pki.issue_personal("Đỗ Thị Hoa", "PHÓ VỤ TRƯỞNG", BNV, "Bộ Nội vụ",
                                           key_type="ec")
    pdf = sign_pdf(make_text_pdf(["Công văn ký trước khi thu hồi"]), signer,
                   trust=federation.pki.trust_store())
    federation.pki.revoke(signer.serial)
    f = _received_file(db, federation, pdf)
    assert f.signature_verdict != "valid"
    assert "đã bị thu hồi" in f.signature_summary


def test_the_worker_reissues_revocation_data_near_its_next_update(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    from ioffice.exchange.worker import refresh_revocation_data
    from signing import pki as pki_module

    pki = federation.pki
    stamp = pki.revocation_stamp()
    assert not refresh_revocation_data(federation.rt)  # a week left
    assert pki.revocation_stamp() == stamp
    monkeypatch.setattr(pki_module, "REFRESH_MARGIN", dt.timedelta(days=8))  # now it is due
    assert refresh_revocation_data(federation.rt)
    assert pki.revocation_stamp() != stamp


def test_status_for_a_document_never_sent_is_ignored(db: Session, federation: Federation) -> None:
    camau, bnv = agency(db, CA_MAU), agency(db, BNV)
    payload = {"organ_id": CA_MAU, "organ_name": camau.name, "to": BNV,
               "response_for": {"organ_id": BNV, "code": "1/BNV", "promulgation_date": "2026-01-02",
                                "document_id": "000.00.00.G09,2026/01/02,1/BNV"},
               "code": "03", "description": "", "staff": "", "department": "",
               "timestamp": "2026-01-03T01:00:00+00:00"}
    key, chain = _seal(federation.rt, db, camau.id)
    data = sign_package(build_status(payload), key, chain)
    outcome = receive(federation, data, to=(BNV,), messagetype="status")
    assert "chưa từng gửi" in outcome.failed[BNV]
    assert recipient_statuses(db, bnv.id, "000.00.00.G09,2026/01/02,1/BNV") == []
    # and the hubs refuse it before it gets anywhere
    with pytest.raises(Exception) as exc:
        federation.rt.clients["tinh"].send_edoc(data, "status")
    assert "document_not_received" in str(exc.value)


def test_the_same_package_twice_creates_one_document(db: Session, federation: Federation) -> None:
    edoc = outgoing(db, federation)
    data = signed_package(db, federation, edoc)
    first = receive(federation, data, to=(CA_MAU, U_MINH), message_id="m-1")
    again = receive(federation, data, to=(CA_MAU, U_MINH), message_id="m-1")   # replayed message
    other = receive(federation, data, to=(CA_MAU,), message_id="m-2")          # same DocumentId
    assert first.delivered == [CA_MAU, U_MINH] and again.delivered and other.delivered
    docs = db.scalars(select(IncomingDocument).where(
        IncomingDocument.document_identifier == edoc.document_identifier)).all()
    assert sorted(d.agency_id for d in docs) == sorted([agency(db, CA_MAU).id, agency(db, U_MINH).id])
    assert db.scalar(select(ExchangeInbox.state).where(ExchangeInbox.message_id == mid("m-2"))) == "duplicate"


def test_replayed_request_is_refused_by_the_hub(db: Session, federation: Federation) -> None:
    client = federation.provincial.test_client()
    seen: dict = {}

    class Recorder:
        def request(self, method, url, *, body, headers, **_):
            seen.update(body=body, headers=headers)
            from .conftest import FlaskPool
            return FlaskPool(client).request(method, url, body=body, headers=headers)

    hub = federation.rt.hub_named("tinh")
    AxisClient(hub.url, hub.system_id, hub.secret, pool=Recorder()).get_received_edoc_list()
    replay = client.post("/api/getReceivedEdocList", data=seen["body"], headers=seen["headers"])
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "replayed_request"


def test_confidential_document_is_refused(db: Session, federation: Federation) -> None:
    with pytest.raises(ConfidentialRefused) as exc:
        dispatch(db, CTX, outgoing(db, federation, confidentiality=Confidentiality.SECRET))
    assert "Tối mật" in exc.value.message and "không được gửi qua trục" in exc.value.message


def test_unknown_recipient_is_named(db: Session, federation: Federation) -> None:
    with pytest.raises(UnknownRecipients) as exc:
        dispatch(db, CTX, outgoing(db, federation, recipients=(CA_MAU, "000.00.99.X99")))
    assert "000.00.99.X99" in exc.value.message and CA_MAU not in exc.value.message


def test_recipients_are_named_from_the_agencies_then_the_directory(db: Session,
                                                                   federation: Federation) -> None:
    from ioffice.exchange.dispatch import known_organs

    listed = db.scalar(select(DirectoryEntry).where(DirectoryEntry.organ_id == CA_MAU))
    listed.name = "Tên trên trục (cũ)"  # the hub's directory lags behind the agency's own record
    db.add(DirectoryEntry(organ_id="000.00.97.H12", name="Sở chỉ có trên trục", hub="tinh"))
    db.flush()
    names = known_organs(db, [CA_MAU, "000.00.97.H12", "000.00.99.X99"])
    assert names == {CA_MAU: agency(db, CA_MAU).name, "000.00.97.H12": "Sở chỉ có trên trục"}
    [row] = dispatch(db, CTX, outgoing(db, federation, recipients=(CA_MAU, "000.00.97.H12")))
    assert row.payload["recipient_names"] == names


def test_hub_refusal_dead_letters_with_the_hubs_message_and_retry(db: Session,
                                                                  federation: Federation) -> None:
    db.add(DirectoryEntry(organ_id="000.00.98.H12", name="Cơ quan đã giải thể", hub="tinh"))
    [row] = dispatch(db, CTX, outgoing(db, federation, sender=CA_MAU, recipients=("000.00.98.H12",)))
    db.commit()
    federation.pump()
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "dead" and "000.00.98.H12" in row.last_error and "unknown_recipient" in row.last_error
    retry(db, actor(db, "vanthu.camau"), row.id)
    assert row.state == "pending" and row.attempts == 0


def test_unreachable_hub_is_retried_without_a_count_then_dead_lettered_after_days(
        db: Session, federation: Federation) -> None:
    class Down:
        def request(self, *a, **k):
            import urllib3
            raise urllib3.exceptions.NewConnectionError(None, "connection refused")

    hub = federation.rt.hub_named("quoc-gia")
    federation.rt.clients["quoc-gia"] = AxisClient(hub.url, hub.system_id, hub.secret, pool=Down())
    federation.rt.settings["MAX_ATTEMPTS"] = 3
    [row] = dispatch(db, CTX, outgoing(db, federation))
    db.commit()
    from ioffice.exchange.sending import WorkReport, send_pending
    report = WorkReport()
    send_pending(federation.rt, report, max_rounds=10)  # backoff is 0 here: every retry is due at once
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    # an outage of the axis is not the document's fault: no dead letter after MAX_ATTEMPTS
    assert (report.retried, report.dead, row.attempts) == (10, 0, 10)
    assert row.state == "pending" and "Không kết nối được" in row.last_error

    federation.rt.settings["BACKOFF_SECONDS"] = 2.0  # doubling, but capped at 5 min while unreachable
    row.next_attempt_at = utcnow()
    db.commit()
    send_pending(federation.rt, WorkReport(), max_rounds=1)
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "pending"
    assert dt.timedelta(seconds=290) < row.next_attempt_at - utcnow() <= dt.timedelta(seconds=300)

    row.created_at = utcnow() - dt.timedelta(hours=73)  # waited longer than 72 h
    row.next_attempt_at = utcnow()
    db.commit()
    report = WorkReport()
    send_pending(federation.rt, report, max_rounds=1)
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert report.dead == 1 and row.state == "dead" and "Không kết nối được" in row.last_error


def test_base64_is_outside_the_envelope(db: Session, federation: Federation) -> None:
    data = signed_package(db, federation, outgoing(db, federation))
    assert b"AttachmentEncoded" in data and base64.b64encode(b"%PDF")[:4] in data


def test_a_recipient_unknown_here_is_refused_by_name(db: Session, federation: Federation) -> None:
    data = signed_package(db, federation, outgoing(db, federation, recipients=(CA_MAU,)))
    outcome = receive(federation, data, to=(CA_MAU, "000.00.99.H99"))
    assert outcome.delivered == [CA_MAU]
    assert outcome.failed == {"000.00.99.H99": "Cơ quan 000.00.99.H99 không có trong hệ thống này."}
    assert "không có trong hệ thống" in db.scalars(select(ExchangeInbox.error).where(
        ExchangeInbox.recipient_organ_id == "000.00.99.H99")).one()
