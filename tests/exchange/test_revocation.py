"""A revocation the recipient agrees to (status 15) leaves no work open (issue 16): the copy's
open assignments close with a history entry, the incoming register (page and XLSX) carries
the note, and a copy never registered leaves the "Chờ vào sổ" queue with the reason shown."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.exchange import dispatch
from ioffice.exchange.decisions import decide
from ioffice.exchange.models import ExchangeInbox
from ioffice.incoming import handling, queries
from ioffice.incoming.handling import DistributionInput, Target
from ioffice.incoming.models import AssignmentStatus, DocumentStatus, IncomingDocument
from ioffice.incoming.registration import today_vn
from tests.conftest import login
from tests.support.factories import actor, department, user_id

from .conftest import CA_MAU, Federation, agency, outgoing
from .test_flow import register

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")
def note() -> str:
    """The register's note, dated today in Vietnam when the test asserts it (not when the module
    was collected: a run crossing midnight in Vietnam, 17:00 UTC, failed in CI)."""
    return f"Đã thu hồi theo yêu cầu của Bộ Nội vụ ngày {today_vn():%d/%m/%Y} (lý do: Ban hành nhầm)."


def _send(db: Session, federation: Federation, edoc) -> None:
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()


def _copy(db: Session, document_identifier: str) -> IncomingDocument:
    return db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, CA_MAU).id,
        IncomingDocument.document_identifier == document_identifier)).one()


def _revoke(db: Session, federation: Federation, original) -> None:
    _send(db, federation, outgoing(db, federation, recipients=(CA_MAU,), business_type="revoke",
                                   document_identifier=original.document_identifier,
                                   response_for=original.document_identifier,
                                   reason="Ban hành nhầm"))
    request = db.scalars(select(ExchangeInbox).where(ExchangeInbox.business_type == "revoke")).one()
    decide(db, actor(db, "vanthu.camau"), request.id, agree=True)
    db.commit()
    db.expire_all()


def test_an_agreed_revocation_closes_the_handling_and_notes_the_register(
        db: Session, federation: Federation, client: FlaskClient) -> None:
    original = outgoing(db, federation, recipients=(CA_MAU,))
    _send(db, federation, original)
    copy = register(db, "vanthu.camau", _copy(db, original.document_identifier))
    leader = actor(db, "lanhdao.camau")
    lead, co = handling.distribute(db, leader, copy.id, DistributionInput(
        lead=Target("department", department(db, leader, "TTTT").id,
                    today_vn() + dt.timedelta(days=5)),
        co_handlers=(Target("user", user_id(db, "vanthu.camau")),)))
    child = handling.pass_on(db, actor(db, "truongphong.camau"), lead.id,
                             user_id(db, "chuyenvien.camau"), None)
    db.commit()

    _revoke(db, federation, original)

    copy = _copy(db, original.document_identifier)
    assert copy.status is DocumentStatus.REVOKED and copy.revocation_note == note()
    assert {a.id: a.status for a in copy.assignments} == {
        lead.id: AssignmentStatus.CLOSED, co.id: AssignmentStatus.CLOSED,
        child.id: AssignmentStatus.CLOSED}
    assert not queries.to_handle(db, actor(db, "chuyenvien.camau"), today=today_vn())
    [entry] = [h for h in queries.history(db, copy) if h.tag == "incoming:document:revoke"]
    assert entry.details["note"] == note()
    assert sorted(entry.details["closed_assignments"]) == sorted([lead.id, co.id, child.id])

    login(client, "vanthu.camau")
    page = client.get(f"/van-ban-den/so?nam={today_vn().year}").get_data(as_text=True)
    assert note() in page
    assert note() in client.get(f"/van-ban-den/{copy.id}").get_data(as_text=True)
    ws = openpyxl.load_workbook(io.BytesIO(
        client.get(f"/van-ban-den/so.xlsx?nam={today_vn().year}").data)).active
    [row] = [[c.value for c in r] for r in ws.iter_rows(min_row=6) if r[1].value == copy.incoming_number]
    assert row[9].startswith(note())


def test_a_revoked_copy_awaiting_registration_leaves_the_queue(
        db: Session, federation: Federation, client: FlaskClient) -> None:
    original = outgoing(db, federation, recipients=(CA_MAU,))
    _send(db, federation, original)
    copy = _copy(db, original.document_identifier)
    clerk = actor(db, "vanthu.camau")
    assert copy.id in [d.id for d in queries.to_register(db, clerk)]

    _revoke(db, federation, original)

    assert copy.id not in [d.id for d in queries.to_register(db, clerk)]
    assert queries.counts(db, clerk, today_vn()).to_register == len(queries.to_register(db, clerk))
    copy = _copy(db, original.document_identifier)
    assert copy.status is DocumentStatus.REVOKED and copy.revocation_note == note()
    login(client, "vanthu.camau")
    page = client.get(f"/van-ban-den/{copy.id}").get_data(as_text=True)
    assert 'id="revocation-note"' in page and note() in page
