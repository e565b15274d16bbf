"""The worker's notification job: every round the mail outbox; every ``SLOW_SECONDS`` the
deadline reminders and the daily digests. Catches and logs its own failures."""

from __future__ import annotations

import logging
import time

from ioffice.incoming.registration import today_vn
from ioffice.notifications import mail, reminders
from ioffice.notifications import service as notices

log = logging.getLogger(__name__)

EVERY_SECONDS = 15.0
SLOW_SECONDS = 600.0

PRUNE_SECONDS = 24 * 3600.0

_next_slow: dict[int, float] = {}
_next_prune: dict[int, float] = {}


def run(rt) -> mail.MailReport:
    """``rt``: the exchange runtime (its ``session_factory`` and ``mail`` settings)."""
    settings = getattr(rt, "mail", None) or mail.SmtpSettings()
    report = mail.MailReport()
    if time.monotonic() >= _next_slow.get(id(rt), 0.0):
        _next_slow[id(rt)] = time.monotonic() + SLOW_SECONDS
        report.digests = run_slow(rt, settings)
    try:
        sent = mail.send_due(rt.session_factory, settings)
    except Exception:
        log.exception("sending mail failed")
        return report
    if sent.sent or sent.dead or sent.retried:
        log.info("mail: %d sent, %d to retry, %d dead", sent.sent, sent.retried, sent.dead)
    sent.digests = report.digests
    return sent


def run_slow(rt, settings: mail.SmtpSettings) -> int:
    try:
        with rt.session_factory() as session:
            reminded = reminders.remind(session, today_vn())
            session.commit()
        if reminded:
            log.info("reminders: %d assignment(s) reminded", reminded)
    except Exception:
        log.exception("deadline reminders failed")
    if time.monotonic() >= _next_prune.get(id(rt), 0.0):
        _next_prune[id(rt)] = time.monotonic() + PRUNE_SECONDS
        prune(rt)
    try:
        return mail.queue_digests(rt.session_factory, settings)
    except Exception:
        log.exception("daily digests failed")
        return 0


def prune(rt) -> tuple[int, int]:
    """Daily: read notifications and sent mail past their keeping time go."""
    try:
        with rt.session_factory() as session:
            pruned = notices.prune(session)
            session.commit()
    except Exception:
        log.exception("pruning notifications failed")
        return 0, 0
    if any(pruned):
        log.info("notifications pruned: %d read notification(s), %d sent mail(s)", *pruned)
    return pruned
