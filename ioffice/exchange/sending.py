"""The sending half of the worker: claim outbox rows, build, sign, send, record the outcome."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select, update

from axis_connector.client import AxisError, AxisUnavailable
from axis_connector.edxml import EdxmlError, sign_package
from ioffice.agencies.models import Agency
from ioffice.db import utcnow
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox, InboxState, OutboxState
from ioffice.exchange.packages import build_signed_document, build_status
from ioffice.exchange.runtime import Exchange
from ioffice.keys.service import KeyError_, TokenUnavailable, seal_credential
from ioffice.notifications import events as notifications
from ioffice.storage import BlobNotFound

log = logging.getLogger(__name__)


@dataclass
class WorkReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    received: int = 0
    statuses: int = 0
    refused: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.dead + self.received + self.statuses + self.refused


def claim(rt: Exchange, limit: int) -> list[int]:
    """Lease due rows (SKIP LOCKED on PostgreSQL: several workers never take the same row)."""
    now = utcnow()
    lease = now + dt.timedelta(seconds=rt.setting("LEASE_SECONDS"))
    due = (select(ExchangeOutbox.id)
           .where(ExchangeOutbox.state == OutboxState.PENDING, ExchangeOutbox.next_attempt_at <= now)
           .order_by(ExchangeOutbox.next_attempt_at, ExchangeOutbox.id).limit(limit))
    with rt.session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            # one statement: the worker polls often, mostly finding nothing
            ids = list(session.scalars(
                update(ExchangeOutbox)
                .where(ExchangeOutbox.id.in_(due.with_for_update(skip_locked=True).scalar_subquery()))
                .values(next_attempt_at=lease, attempts=ExchangeOutbox.attempts + 1)
                .returning(ExchangeOutbox.id)
                .execution_options(synchronize_session=False)))
        else:
            rows = list(session.scalars(select(ExchangeOutbox).where(ExchangeOutbox.id.in_(
                due.scalar_subquery()))))
            for row in rows:
                row.next_attempt_at = lease
                row.attempts += 1
            ids = [row.id for row in rows]
        session.commit()
    return sorted(ids)  # oldest first


def _seal(rt: Exchange, session, agency_id: int):
    cache = rt.__dict__.setdefault("_seals", {})
    if agency_id not in cache:
        # a seal in a PKCS#11 token signs the envelope too: its key object signs in the token
        credential = seal_credential(session, rt.pki, agency_id, rt.seal_tokens)
        chain = [x509.load_der_x509_certificate(c.dump())
                 for c in (credential.certificate, *credential.chain)]
        cache[agency_id] = (credential.private_key, chain)
    return cache[agency_id]


@dataclass
class _Attempt:
    """One claimed outbox row on its way: built, then sent, then finished."""

    row_id: int
    kind: str = ""
    hub_name: str | None = None
    data: bytes = b""
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False
    unreachable: bool = False
    """The hub could not be reached (connection, timeout, 5xx): not the package's fault."""


def _build_all(rt: Exchange, row_ids: list[int]) -> list[_Attempt]:
    """Build and sign the packages of the claimed rows in one read transaction, ended before
    any request to a hub."""
    attempts: list[_Attempt] = []
    with rt.session_factory() as session:
        rows = {r.id: r for r in session.scalars(
            select(ExchangeOutbox).where(ExchangeOutbox.id.in_(row_ids)))}
        agencies = {a.id: a for a in session.scalars(
            select(Agency).where(Agency.id.in_({r.agency_id for r in rows.values()})))}
        came_by = _inbound_hubs(rt, session, [r for r in rows.values() if r.kind == "status"])
        for row_id in row_ids:
            row = rows.get(row_id)
            if row is None or row.state != OutboxState.PENDING:
                continue
            attempt = _Attempt(row_id, row.kind)
            attempts.append(attempt)
            agency = agencies[row.agency_id]
            try:
                attempt.hub_name = came_by.get(row_id) or rt.hub_for(agency.code).name
                key, chain = _seal(rt, session, row.agency_id)
                if row.kind == "edoc":
                    attempt.data = build_signed_document(agency, row.payload, rt.blobs, key, chain)
                else:
                    attempt.data = sign_package(build_status(row.payload), key, chain)
            except TokenUnavailable as exc:
                # like an unreachable hub, not the document's fault: kept and retried (backoff
                # capped at a few minutes) until the admin fixes the token
                attempt.error = f"Chưa ký được gói tin: {exc.message}"
                attempt.unreachable = True
            except (EdxmlError, BlobNotFound, KeyError_, KeyError, ValueError) as exc:
                attempt.error = f"Không tạo được gói tin: {getattr(exc, 'message', exc)}"
                attempt.permanent = True
            except Exception as exc:  # kept; retried with backoff
                log.exception("building outbox row %s failed", row_id)
                attempt.error = f"Lỗi khi tạo gói tin: {exc}"
        session.rollback()  # end the read transaction before any network call
    return attempts


def _inbound_hubs(rt: Exchange, session, rows: list[ExchangeOutbox]) -> dict[int, str]:
    """For status rows: the hub through which the document they answer came (a status goes
    back the way its document came; a hub accepts a status only for a document it delivered).
    Rows whose document came by no hub still configured are left to the sender's hub."""
    if not rows:
        return {}
    found: dict[tuple[int, str, str], str] = {}
    for inbox in session.execute(
            select(ExchangeInbox.agency_id, ExchangeInbox.document_identifier,
                   ExchangeInbox.sender_organ_id, ExchangeInbox.hub)
            .where(ExchangeInbox.agency_id.in_({r.agency_id for r in rows}),
                   ExchangeInbox.document_identifier.in_({r.document_identifier for r in rows}),
                   ExchangeInbox.messagetype == "edoc", ExchangeInbox.state != InboxState.FAILED)
            .order_by(ExchangeInbox.id)):
        if rt.hub_named(inbox.hub) is not None:
            found[(inbox.agency_id, inbox.document_identifier, inbox.sender_organ_id)] = inbox.hub
    return {r.id: hub for r in rows if r.recipients
            and (hub := found.get((r.agency_id, r.document_identifier, r.recipients[0])))}


SEND_BATCH_BYTES = 8 * 1024 * 1024
"""Packages per ``sendEdocs`` request, by size (the hub accepts batches well beyond this)."""


def _batches(attempts: list[_Attempt]) -> list[list[_Attempt]]:
    batches: list[list[_Attempt]] = []
    size = 0
    for attempt in attempts:
        if not batches or size + len(attempt.data) > SEND_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(attempt)
        size += len(attempt.data)
    return batches


def _refused(exc: AxisError) -> str:
    return f"Trục liên thông từ chối: {exc.message} [{exc.code}]"


def _send_all(rt: Exchange, attempts: list[_Attempt]) -> None:
    """Send the built packages, one ``sendEdocs`` request per hub and batch."""
    by_hub: dict[str, list[_Attempt]] = {}
    for attempt in attempts:
        if attempt.error is None:
            by_hub.setdefault(attempt.hub_name or "", []).append(attempt)
    for hub_name, ready in by_hub.items():
        client = rt.client(rt.hub_named(hub_name))
        for batch in _batches(ready):
            try:
                results = client.send_edocs([(a.data, a.kind) for a in batch])
            except AxisUnavailable as exc:
                for attempt in batch:
                    attempt.error = f"Không kết nối được trục liên thông: {exc}"
                    attempt.unreachable = True
                continue
            except AxisError as exc:  # the request as a whole (e.g. this system's credentials)
                for attempt in batch:
                    attempt.error, attempt.permanent = _refused(exc), True
                continue
            except Exception as exc:  # kept; retried with backoff
                log.exception("sending %d outbox rows failed", len(batch))
                for attempt in batch:
                    attempt.error = f"Lỗi khi gửi: {exc}"
                continue
            for attempt, result in zip(batch, results, strict=True):
                if isinstance(result, AxisError):
                    attempt.error, attempt.permanent = _refused(result), True
                elif isinstance(result, AxisUnavailable):  # a hub without batches (VXP): per item
                    attempt.error = f"Không kết nối được trục liên thông: {result}"
                    attempt.unreachable = True
                else:
                    attempt.message_id = result.message_id


def _give_up(rt: Exchange, row: ExchangeOutbox, attempt: _Attempt, now: dt.datetime) -> bool:
    """Dead-letter policy. Refused by the hub, or unbuildable: at once. The hub unreachable: keep
    trying, never on a count of attempts (an outage of the axis is not the document's fault, and
    a dead letter needs a clerk to notice it), only once the row has waited
    ``UNREACHABLE_GIVE_UP_HOURS`` (72 h: a long weekend). Other failures: ``MAX_ATTEMPTS``."""
    if attempt.permanent:
        return True
    if attempt.unreachable:
        waited = now - row.created_at
        return waited >= dt.timedelta(hours=float(rt.setting("UNREACHABLE_GIVE_UP_HOURS")))
    return row.attempts >= int(rt.setting("MAX_ATTEMPTS"))


def _backoff(rt: Exchange, row: ExchangeOutbox, attempt: _Attempt) -> float:
    """Doubling from ``BACKOFF_SECONDS``; while the hub is unreachable capped at
    ``UNREACHABLE_BACKOFF_MAX`` (5 min), so sending resumes soon after the axis is back."""
    cap = float(rt.setting("UNREACHABLE_BACKOFF_MAX")) if attempt.unreachable else 3600.0
    return min(rt.setting("BACKOFF_SECONDS") * 2 ** min(row.attempts - 1, 30), cap)


def _finish_all(rt: Exchange, attempts: list[_Attempt], report: WorkReport) -> None:
    """Record every outcome in one transaction."""
    if not attempts:
        return
    with rt.session_factory() as session:
        rows = {r.id: r for r in session.scalars(
            select(ExchangeOutbox).where(ExchangeOutbox.id.in_([a.row_id for a in attempts]))
            .order_by(ExchangeOutbox.id).with_for_update())}
        now = utcnow()
        lines = []
        for attempt in attempts:
            row = rows.get(attempt.row_id)
            if row is None or row.state != OutboxState.PENDING:
                continue
            if attempt.hub_name:
                row.hub = attempt.hub_name
            error = attempt.error
            if error is None:
                row.state, row.message_id, row.sent_at, row.last_error = (
                    OutboxState.SENT, attempt.message_id, now, "")
                report.sent += 1
            elif _give_up(rt, row, attempt, now):
                row.state, row.last_error = OutboxState.DEAD, error[:4000]
                report.dead += 1
                log.warning("outbox row %s dead-lettered: %s", row.id, error)
                notifications.dead_letter(session, row.agency_id, row.kind,
                                          row.document_identifier, error)
            else:
                row.next_attempt_at = now + dt.timedelta(seconds=_backoff(rt, row, attempt))
                row.last_error = error[:4000]
                report.retried += 1
            lines.append({"event": "exchange.send", "outbox_id": row.id, "kind": row.kind,
                          "document_id": row.document_identifier, "hub": row.hub,
                          "recipients": list(row.recipients), "message_id": row.message_id,
                          "attempts": row.attempts, "outcome": row.state
                          if row.state != OutboxState.PENDING else "retry"})
        session.commit()
    for line in lines:  # once committed: the outcome is what the database says
        log.info("sent outbox row %s (%s): %s", line["outbox_id"], line["kind"], line["outcome"],
                 extra=line)


def send_claimed(rt: Exchange, row_ids: list[int], report: WorkReport) -> None:
    """Build, sign and send claimed rows, then record the outcomes: three steps for the whole
    batch instead of per row (two transactions and one request to each hub)."""
    attempts = _build_all(rt, row_ids)
    _send_all(rt, attempts)
    _finish_all(rt, attempts, report)


def send_pending(rt: Exchange, report: WorkReport, *, batch: int = 20, max_rounds: int = 50) -> None:
    for _ in range(max_rounds):
        ids = claim(rt, batch)
        if not ids:
            return
        send_claimed(rt, ids, report)
