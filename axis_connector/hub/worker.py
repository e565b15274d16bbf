"""Work that leaves the process, done after commit from outbox tables.

* forward: packages for agencies this hub does not serve go to the upstream axis
  (``axis_forwards``), at least once, retried with exponential backoff, dead after
  ``FORWARD_MAX_ATTEMPTS``; the upstream dedupes, so a retry after a crash is harmless.
* pull: packages the upstream axis holds for this hub's agencies are fetched, stored
  through :func:`services.send_edoc` (idempotent) and only then acknowledged upstream.
* push: notifications to recipient systems' callback URLs (``axis_notifications``).

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a lease (``next_attempt_at``
moved ahead and committed before the network call), so several hub processes share the work,
no row lock is held across HTTP, and a row whose worker died is retried after the lease.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import urllib3
from sqlalchemy import select, update

from axis_connector.client import AxisError, AxisUnavailable
from axis_connector.client.signing import sign_headers

from . import services
from .models import Delivery, DeliveryState, Forward, Message, MessageType, Notification, System, WorkState
from .services import HubError

if TYPE_CHECKING:
    from . import Hub

__all__ = ["WorkReport", "forward_once", "pull_once", "push_once", "run_once", "start_background_worker"]

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=60)
Row = TypeVar("Row", Forward, Notification)


@dataclass
class WorkReport:
    forwarded: int = 0
    pulled: int = 0
    pushed: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.forwarded + self.pulled + self.pushed + self.failed


def _claim(hub: Hub, model: type[Row], ids: Sequence[int] | None = None) -> int | None:
    """Lease one due row of an outbox; its id, or None."""
    now = hub.settings.clock()
    with hub.db.session() as session:
        query = (select(model).where(model.state == WorkState.PENDING, model.next_attempt_at <= now)
                 .order_by(model.next_attempt_at, model.id).limit(1).with_for_update(skip_locked=True))
        if ids is not None:
            query = query.where(model.id.in_(list(ids)))
        row = session.scalar(query)
        if row is None:
            return None
        row.next_attempt_at = now + LEASE
        session.commit()
        return row.id


def _retry(hub: Hub, row: Forward | Notification, error: str) -> bool:
    """Schedule the next attempt with exponential backoff; True if the row is now dead."""
    row.attempts += 1
    row.last_error = error[:1000]
    if row.attempts >= int(hub.config["FORWARD_MAX_ATTEMPTS"]):
        row.state = WorkState.DEAD
        return True
    delay = float(hub.config["FORWARD_BACKOFF_SECONDS"]) * 2 ** (row.attempts - 1)
    row.next_attempt_at = hub.settings.clock() + dt.timedelta(seconds=min(delay, 3600))
    return False


def _set_deliveries(session, message_id: str, organ_ids: list[str], state: DeliveryState,
                    reason: str, now: dt.datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.message_id == message_id, Delivery.recipient_organ_id.in_(organ_ids),
               Delivery.state == DeliveryState.FORWARDING)
        .values(state=state, reason=reason[:1000], updated_at=now)
    )


def forward_once(hub: Hub, report: WorkReport) -> bool:
    """Send one due package upstream; False when there was nothing to do."""
    forward_id = _claim(hub, Forward)
    if forward_id is None:
        return False
    with hub.db.session() as session:
        row = session.get(Forward, forward_id)
        message = session.get(Message, row.message_id)
        recipients = row.recipients.split(",")
        package, messagetype = message.package, message.messagetype.value
    try:
        result = hub.upstream_client().send_edoc(package, messagetype, to=recipients)
    except AxisUnavailable as exc:
        outcome: tuple[str, str | None] = ("retry", str(exc))
    except AxisError as exc:
        outcome = ("refused", f"trục cấp trên từ chối: {exc.message} [{exc.code}]")
    else:
        outcome = ("done", result.message_id)
    now = hub.settings.clock()
    with hub.db.session() as session:
        row = session.get(Forward, forward_id)
        kind, detail = outcome
        if kind == "done":
            row.state, row.upstream_message_id, row.last_error = WorkState.DONE, detail, ""
            _set_deliveries(session, row.message_id, recipients, DeliveryState.FORWARDED, "", now)
            report.forwarded += 1
        elif kind == "refused" or _retry(hub, row, detail or ""):
            if kind == "refused":
                row.state, row.last_error = WorkState.DEAD, (detail or "")[:1000]
            _set_deliveries(session, row.message_id, recipients, DeliveryState.FAILED, row.last_error, now)
            report.failed += 1
            log.warning("forward of %s dead: %s", row.message_id, row.last_error)
        session.commit()
    return True


def pull_once(hub: Hub, report: WorkReport, limit: int = 50) -> int:
    """Fetch what the upstream axis holds for this hub's agencies, store it, then acknowledge it."""
    client = hub.upstream_client()
    items = client.get_received_edoc_list(limit=limit)
    for item in items:
        edoc = client.get_edoc(item.message_id)
        try:
            with hub.db.session() as session:
                result = services.send_edoc(session, hub.settings, None, edoc.package,
                                            MessageType(edoc.messagetype), item.to)
                session.commit()
        except HubError as exc:
            # Permanently unacceptable here (e.g. an agency this platform does not know): tell upstream.
            client.update_status(item.message_id, "failed", reason=f"{exc.message} [{exc.code}]")
            report.failed += 1
            continue
        hub.push_after_commit(result.notify, inline=False)
        client.update_status(item.message_id, "delivered")
        report.pulled += 1
    return len(items)


def _notify(hub: Hub, notification_id: int, pool: urllib3.PoolManager) -> bool:
    with hub.db.session() as session:
        row = session.get(Notification, notification_id)
        system = session.get(System, row.system_id)
        url, secret, message_id = system.callback_url, system.secret, row.message_id
        # which of the system's agencies have something waiting (never the package itself)
        organ_ids = sorted(session.scalars(select(Delivery.recipient_organ_id).where(
            Delivery.message_id == message_id, Delivery.system_id == system.id)))
    error = ""
    if url:
        body = json.dumps({"event": "edoc_available", "message_id": message_id, "system_id": system.id,
                           "organ_ids": organ_ids, "axis": hub.settings.organ_id}).encode()
        path = urllib3.util.parse_url(url).path or "/"
        headers = {"Content-Type": "application/json", **sign_headers(secret, "POST", path, system.id, body)}
        try:
            response = pool.request("POST", url, body=body, headers=headers,
                                    timeout=float(hub.config["PUSH_TIMEOUT"]), retries=False)
            if response.status >= 300:
                error = f"HTTP {response.status}"
        except urllib3.exceptions.HTTPError as exc:
            error = str(exc)
    with hub.db.session() as session:
        row = session.get(Notification, notification_id)
        if not url:
            row.state = WorkState.DONE  # the system stopped asking for pushes; it polls
        elif error:
            _retry(hub, row, error)
        else:
            row.state, row.last_error = WorkState.DONE, ""
        session.commit()
    return not error


def push_once(hub: Hub, report: WorkReport, ids: Sequence[int] | None = None) -> bool:
    notification_id = _claim(hub, Notification, ids)
    if notification_id is None:
        return False
    if _notify(hub, notification_id, hub.push_pool):
        report.pushed += 1
    else:
        report.failed += 1
    return True


def run_once(hub: Hub, *, max_items: int = 100) -> WorkReport:
    """One round of every kind of work, at most ``max_items`` of each."""
    report = WorkReport()
    for _ in range(max_items):
        if not forward_once(hub, report):
            break
    if hub.has_upstream:
        try:
            pull_once(hub, report, limit=max_items)
        except (AxisError, AxisUnavailable) as exc:
            log.warning("pull from upstream failed: %s", exc)
    for _ in range(max_items):
        if not push_once(hub, report):
            break
    return report


def start_background_worker(hub: Hub, interval: float | None = None,
                            ) -> tuple[threading.Thread, threading.Event]:
    """Run :func:`run_once` in a daemon thread until the returned event is set (never at import)."""
    stop = threading.Event()
    wait = float(hub.config["WORKER_INTERVAL"]) if interval is None else interval

    def loop() -> None:
        while not stop.is_set():
            try:
                report = run_once(hub)
            except Exception:  # keep the loop alive; the rows stay in their outboxes
                log.exception("axis worker round failed")
                report = WorkReport()
            if report.total == 0:
                stop.wait(wait)

    thread = threading.Thread(target=loop, name="axis-hub-worker", daemon=True)
    thread.start()
    return thread, stop
