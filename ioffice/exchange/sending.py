"""The sending half of the worker: claim outbox rows, build, sign, send, record the outcome."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select

from axis_connector.client import AxisError, AxisUnavailable
from axis_connector.edxml import EdxmlError, sign_package
from ioffice.agencies.models import Agency
from ioffice.db import utcnow
from ioffice.exchange.models import ExchangeOutbox, OutboxState
from ioffice.exchange.packages import build_document, build_status
from ioffice.exchange.runtime import Exchange
from ioffice.keys.service import KeyError_, seal_credential
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


class _Permanent(Exception):
    """The package cannot be built or was refused: dead-letter it now."""


def claim(rt: Exchange, limit: int) -> list[int]:
    """Lease due rows (SKIP LOCKED on PostgreSQL: several workers never take the same row)."""
    now = utcnow()
    with rt.session_factory() as session:
        rows = list(session.scalars(
            select(ExchangeOutbox)
            .where(ExchangeOutbox.state == OutboxState.PENDING, ExchangeOutbox.next_attempt_at <= now)
            .order_by(ExchangeOutbox.next_attempt_at, ExchangeOutbox.id).limit(limit)
            .with_for_update(skip_locked=True)))
        lease = now + dt.timedelta(seconds=rt.setting("LEASE_SECONDS"))
        for row in rows:
            row.next_attempt_at = lease
            row.attempts += 1
        ids = [row.id for row in rows]
        session.commit()
    return ids


def _seal(rt: Exchange, session, agency_id: int):
    cache = rt.__dict__.setdefault("_seals", {})
    if agency_id not in cache:
        credential = seal_credential(session, rt.pki, agency_id)
        chain = [x509.load_der_x509_certificate(c.dump())
                 for c in (credential.certificate, *credential.chain)]
        cache[agency_id] = (credential.private_key, chain)
    return cache[agency_id]


def _build(rt: Exchange, row_id: int) -> tuple[str, str, bytes] | None:
    with rt.session_factory() as session:
        row = session.get(ExchangeOutbox, row_id)
        if row is None or row.state != OutboxState.PENDING:
            return None
        agency = session.get(Agency, row.agency_id)
        hub = rt.hub_for(agency.code)
        try:
            key, chain = _seal(rt, session, row.agency_id)
            data = (build_document(agency, row.payload, rt.blobs) if row.kind == "edoc"
                    else build_status(row.payload))
        except (EdxmlError, BlobNotFound, KeyError_, KeyError, ValueError) as exc:
            raise _Permanent(f"Không tạo được gói tin: {getattr(exc, 'message', exc)}") from exc
        kind = row.kind
        session.rollback()  # end the read transaction before any network call
    return kind, hub.name, sign_package(data, key, chain)


def send_one(rt: Exchange, row_id: int, report: WorkReport) -> None:
    message_id = hub_name = None
    error: str | None = None
    permanent = False
    try:
        built = _build(rt, row_id)
        if built is None:
            return
        kind, hub_name, data = built
        result = rt.client(rt.hub_named(hub_name)).send_edoc(data, kind)
        message_id = result.message_id
    except _Permanent as exc:
        error, permanent = str(exc), True
    except AxisError as exc:
        error, permanent = f"Trục liên thông từ chối: {exc.message} [{exc.code}]", True
    except AxisUnavailable as exc:
        error = f"Không kết nối được trục liên thông: {exc}"
    except Exception as exc:  # keep the row; it is retried with backoff
        log.exception("sending outbox row %s failed", row_id)
        error = f"Lỗi khi gửi: {exc}"
    _finish(rt, row_id, hub_name, message_id, error, permanent, report)


def _finish(rt: Exchange, row_id: int, hub_name: str | None, message_id: str | None,
            error: str | None, permanent: bool, report: WorkReport) -> None:
    with rt.session_factory() as session:
        row = session.get(ExchangeOutbox, row_id, with_for_update=True)
        if row is None or row.state != OutboxState.PENDING:
            return
        now = utcnow()
        if hub_name:
            row.hub = hub_name
        if error is None:
            row.state, row.message_id, row.sent_at, row.last_error = (
                OutboxState.SENT, message_id, now, "")
            report.sent += 1
        elif permanent or row.attempts >= int(rt.setting("MAX_ATTEMPTS")):
            row.state, row.last_error = OutboxState.DEAD, error[:4000]
            report.dead += 1
            log.warning("outbox row %s dead-lettered: %s", row_id, error)
        else:
            backoff = min(rt.setting("BACKOFF_SECONDS") * 2 ** (row.attempts - 1), 3600.0)
            row.next_attempt_at = now + dt.timedelta(seconds=backoff)
            row.last_error = error[:4000]
            report.retried += 1
        session.commit()


def send_pending(rt: Exchange, report: WorkReport, *, batch: int = 20, max_rounds: int = 50) -> None:
    for _ in range(max_rounds):
        ids = claim(rt, batch)
        if not ids:
            return
        for row_id in ids:
            send_one(rt, row_id, report)
