"""The exchange worker: send due outbox rows, poll every hub, register new agencies on their
hub and refresh the directory; and chain the pending audit events of reads.

Run it with ``flask --app wsgi exchange worker`` (``--once`` for one round), or in a thread
with :func:`start_background` (``make run``). Several workers may run against PostgreSQL;
on SQLite run one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from axis_connector.client import AxisError, AxisUnavailable
from ioffice.api import idempotency
from ioffice.dashboards import summary as dashboard_summary
from ioffice.db import utcnow
from ioffice.exchange.config import hub_for
from ioffice.exchange.models import DirectoryEntry
from ioffice.exchange.receipt import poll_hub
from ioffice.exchange.runtime import Exchange
from ioffice.exchange.sending import WorkReport, send_pending
from ioffice.exchange.wake import Waker
from ioffice.notifications import jobs as notification_jobs
from ioffice.ocr.worker import CHECK_SECONDS as OCR_CHECK_SECONDS
from ioffice.ocr.worker import start_pending as start_ocr
from ioffice.records import expiry as records_expiry
from ioffice.records import handover as records_handover

log = logging.getLogger(__name__)

DIRECTORY_REFRESH_SECONDS = 600
DIRECTORY_RETRY_SECONDS = 15
REVOCATION_CHECK_SECONDS = 3600
CLEANUP_SECONDS = 24 * 3600


def cleanup_storage(rt: Exchange) -> int:
    """The daily housekeeping of the blob store (:mod:`ioffice.maintenance`); logs what it
    removed. A failure is logged and waits for the next day."""
    import datetime as dt

    from ioffice import maintenance

    try:
        with rt.session_factory() as session:
            removed = maintenance.cleanup(session, rt.blobs, now=dt.datetime.now(dt.UTC),
                                          grace=dt.timedelta(hours=rt.cleanup_grace_hours))
    except Exception:
        log.exception("storage cleanup failed")
        return 0
    for item in removed:
        log.info("cleanup removed %s %s (%d bytes, written %s)", item.kind, item.key, item.size,
                 item.modified.isoformat())
    log.info("storage cleanup: %d item(s) removed", len(removed))
    return len(removed)


RETIMESTAMP_SECONDS = 24 * 3600.0
"""The re-timestamp job runs daily (its horizon is months: ``RETIMESTAMP_DAYS``)."""


def retimestamp_documents(rt: Exchange) -> int:
    """Archival timestamps for stored documents whose last timestamp nears its TSA
    certificate's expiry (:mod:`ioffice.outgoing.archival`). Returns how many were renewed;
    a failure is logged and the next day tries again."""
    from ioffice.outgoing import archival

    try:
        run = archival.retimestamp(rt.session_factory, rt.blobs, rt.timestamps,
                                   lambda: rt.trust, days=rt.retimestamp_days)
    except Exception:
        log.exception("re-timestamp round failed")
        return 0
    return len(run.documents.renewed) + len(run.copies.renewed) + len(run.records.renewed)


def chain_audit(rt: Exchange) -> int:
    """Chain the audit events of reads appended since the last round (the web's reads do not
    lock the chain heads, :func:`ioffice.audit.record_read`): one short transaction, nothing
    but an indexed look-up when there are none."""
    from ioffice.audit import chain_pending

    try:
        with rt.session_factory() as session:
            chained = chain_pending(session)
            session.commit()
    except Exception:  # the rows stay pending; the next round tries again
        log.exception("chaining the audit log failed")
        return 0
    if chained:
        log.debug("audit: %d event(s) chained", chained)
    return chained


def refresh_revocation_data(rt: Exchange) -> bool:
    """Reissue the PKI's CRLs and OCSP responses when they near their next update (the
    simulated PKI is this deployment's own; validators require current revocation data)."""
    try:
        refreshed = rt.pki.refresh_revocation_data_if_due()
    except Exception as exc:  # a PKI folder that cannot be written: say so, keep working
        log.warning("refreshing the revocation data failed: %s", exc)
        return False
    if refreshed:
        log.info("revocation data (CRL, OCSP) reissued")
    return refreshed


def refresh_directory(rt: Exchange) -> int:
    """Copy every hub's directory (getAgenciesList) into ``exchange_directory``."""
    count = 0
    for hub in rt.hubs:
        agencies = rt.client(hub).get_agencies_list()
        with rt.session_factory() as session:
            known = {e.organ_id: e for e in session.scalars(select(DirectoryEntry))}
            for info in agencies:
                entry = known.get(info.organ_id)
                if entry is None:
                    entry = DirectoryEntry(organ_id=info.organ_id, name=info.name, hub=hub.name)
                    session.add(entry)
                    known[info.organ_id] = entry
                entry.name, entry.fetched_at = info.name, utcnow()
                count += 1
            session.commit()
    return count


def register_agencies(rt: Exchange, codes: Collection[str] | None = None,
                      refused: dict[str, str] | None = None) -> list[str]:
    """Register on its hub (``registerAgency``) every local agency that hub's directory lacks,
    or holds with another seal certificate: an agency created on the admin page becomes
    reachable over the axis. ``codes``: only these agencies. Returns the codes registered.

    The hub of an agency is the first whose patterns match it (as for sending). An agency the
    hub already lists for another system is left alone (logged): the hub refuses to move it.
    A refusal by the hub is logged (and put in ``refused``, code -> the hub's message) and the
    others go on; an unreachable hub raises AxisUnavailable."""
    from ioffice.exchange.federation import agency_cards

    with rt.session_factory() as session:
        cards = agency_cards(session, rt.pki, codes)
    registered: list[str] = []
    for hub in rt.hubs:
        mine = [c for c in cards if (h := hub_for(rt.hubs, c.code)) is not None and h.name == hub.name]
        if not mine:
            continue
        client = rt.client(hub)
        known = {a.organ_id: a for a in client.get_agencies_list()}
        for card in mine:
            listed = known.get(card.code)
            if listed is not None and not getattr(client, "carries_certificates", True):
                continue  # the VXP's directory names no owner: an entry listed is never overwritten
            if listed is not None and listed.system_id != hub.system_id:
                log.warning("%s is registered on %s for system %s, not %s: left alone",
                            card.code, hub.name, listed.system_id, hub.system_id)
                continue
            if listed is not None and (listed.certificate_pem or None) == card.certificate_pem \
                    and listed.name == card.name and (listed.parent_id or None) == card.parent:
                continue
            try:
                client.register_agency(card.code, card.name, parent_id=card.parent, level=card.level,
                                       certificate_pem=card.certificate_pem)
            except AxisError as exc:
                log.warning("%s refused registering %s: %s", hub.name, card.code, exc)
                if refused is not None:
                    refused[card.code] = f"{exc.message} [{exc.code}]"
                continue
            registered.append(card.code)
    return registered


def register_callbacks(rt: Exchange) -> bool:
    """Ask every hub to push to this deployment (``registerCallback``: ``<callback URL>/<hub
    name>``), or, with push switched off, to stop pushing. True when every hub pushes to us
    (then polling is only the fallback). A hub's refusal is logged: it is then polled."""
    if not rt.callback_url:
        return False
    every = True
    for hub in rt.hubs:
        url = f"{rt.callback_url}/{hub.name}" if rt.push else None
        if not getattr(rt.client(hub), "supports_push", True):  # the VXP: polled, silently
            every = False
            continue
        try:
            rt.client(hub).register_callback(url)
        except AxisError as exc:
            log.warning("%s refused the push address %s: %s", hub.name, url, exc)
            every = False
    return every and rt.push


def run_once(rt: Exchange, *, poll_limit: int = 50) -> WorkReport:
    report = WorkReport()
    send_pending(rt, report)
    for hub in rt.hubs:
        try:
            poll_hub(rt, hub.name, report, limit=poll_limit)
        except (AxisError, AxisUnavailable) as exc:
            log.warning("polling %s failed: %s", hub.name, exc)
    if report.received or report.statuses:
        send_pending(rt, report)  # status 01 and the like go out at once
    return report


def run_forever(rt: Exchange, stop: threading.Event, interval: float | None = None) -> None:
    """Rounds until ``stop``; between idle rounds, sleep until woken (a dispatch, a hub's push:
    ``wake.py``) or the poll interval passed. When every hub pushes, that interval is the
    slower ``PUSH_POLL_INTERVAL`` (the fallback for pushes lost)."""
    waker = Waker(rt.database_key).start() if rt.push else None
    try:
        _run_forever(rt, stop, interval, waker)
    finally:
        if waker is not None:
            waker.close()


@dataclass(frozen=True)
class PeriodicJob:
    """Work the worker does on a timer beside the exchange: ``run(rt)`` every ``every``
    seconds, the first time ``first_after`` seconds after start. A job catches and logs its own
    failures (a failing job must not stop the exchange); what it returns is not used."""

    name: str
    every: float
    run: Callable[[Exchange], object]
    first_after: float = 0.0


#: The worker's timed jobs, in the order they run when due. A capability adds its job here.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("revocation-data", REVOCATION_CHECK_SECONDS, refresh_revocation_data),
    PeriodicJob("storage-cleanup", CLEANUP_SECONDS, cleanup_storage, first_after=300),
    PeriodicJob("retimestamp", RETIMESTAMP_SECONDS, retimestamp_documents, first_after=600),
    PeriodicJob("reminders", notification_jobs.SLOW_SECONDS, notification_jobs.remind, first_after=5),
    PeriodicJob("mail", notification_jobs.EVERY_SECONDS, notification_jobs.send_mail, first_after=5),
    PeriodicJob("notices-prune", notification_jobs.PRUNE_SECONDS, notification_jobs.prune, first_after=60),
    PeriodicJob("ocr", OCR_CHECK_SECONDS, start_ocr),
    PeriodicJob("dashboard-sums", dashboard_summary.EVERY_SECONDS, dashboard_summary.run, first_after=30),
    PeriodicJob("records-reminders", 3600, records_handover.run, first_after=120),
    PeriodicJob("records-expiry", records_expiry.EVERY_SECONDS, records_expiry.run, first_after=180),
    PeriodicJob("api-idempotency-keys", idempotency.PURGE_SECONDS, idempotency.purge_job, first_after=900),
)


def run_due_jobs(rt: Exchange, due: dict[str, float], jobs: Sequence[PeriodicJob] | None = None,
                 now: float | None = None) -> list[str]:
    """Run the jobs whose time has come; ``due`` keeps each job's next time (monotonic) between
    calls and starts empty. Returns the names of the jobs run."""
    now = time.monotonic() if now is None else now
    ran = []
    for job in PERIODIC_JOBS if jobs is None else jobs:
        when = due.setdefault(job.name, now + job.first_after)
        if now < when:
            continue
        try:
            job.run(rt)
        except Exception:  # the job's own guard failed: log, keep the worker alive
            log.exception("periodic job %s failed", job.name)
        due[job.name] = time.monotonic() + job.every
        ran.append(job.name)
    return ran


def _run_forever(rt: Exchange, stop: threading.Event, interval: float | None,
                 waker: Waker | None) -> None:
    wait = rt.setting("POLL_INTERVAL") if interval is None else interval
    pushed = False
    next_refresh = 0.0
    due: dict[str, float] = {}
    while not stop.is_set():
        run_due_jobs(rt, due)
        if time.monotonic() >= next_refresh:
            try:
                register_agencies(rt)  # agencies created since (the admin page also tries at once)
                if not pushed:
                    pushed = register_callbacks(rt)
                refresh_directory(rt)
                next_refresh = time.monotonic() + DIRECTORY_REFRESH_SECONDS
            except Exception as exc:  # a hub down (or starting): try again soon, not every round
                log.warning("directory refresh failed: %s", exc)
                next_refresh = time.monotonic() + DIRECTORY_RETRY_SECONDS
        chain_audit(rt)  # every round: reads are chained within POLL_INTERVAL seconds
        try:
            report = run_once(rt)
        except Exception:  # keep the loop alive; the rows stay in the outbox / on the hub
            log.exception("exchange worker round failed")
            report = WorkReport()
        if report.total == 0:
            if waker is None:
                stop.wait(wait)
            else:
                fallback = max(wait, rt.setting("PUSH_POLL_INTERVAL")) if pushed and interval is None \
                    else wait
                waker.wait(fallback, stop)


def start_background(rt: Exchange, interval: float | None = None
                     ) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread until the returned event is set (never at import)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(rt, stop, interval),
                              name="ioffice-exchange-worker", daemon=True)
    thread.start()
    return thread, stop
