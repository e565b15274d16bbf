"""The worker's notification jobs, each its own ``PERIODIC_JOBS`` entry (the worker keeps their
timers): :func:`send_mail` the mail outbox every ``EVERY_SECONDS``; :func:`remind` the deadline
reminders and the daily digests every ``SLOW_SECONDS``; :func:`prune` read notifications and
sent mail past their keeping time every ``PRUNE_SECONDS``. Each catches and logs its own
failures."""

from __future__ import annotations

import logging

from ioffice.incoming.registration import today_vn
from ioffice.notifications import mail, reminders
from ioffice.notifications import service as notices

log = logging.getLogger(__name__)

EVERY_SECONDS = 15.0
SLOW_SECONDS = 600.0
PRUNE_SECONDS = 24 * 3600.0


def _settings(rt) -> mail.SmtpSettings:
    return getattr(rt, "mail", None) or mail.SmtpSettings()


def send_mail(rt) -> mail.MailReport:
    """``rt``: the exchange runtime (its ``session_factory`` and ``mail`` settings)."""
    try:
        sent = mail.send_due(rt.session_factory, _settings(rt))
    except Exception:
        log.exception("sending mail failed")
        return mail.MailReport()
    if sent.sent or sent.dead or sent.retried:
        log.info("mail: %d sent, %d to retry, %d dead", sent.sent, sent.retried, sent.dead)
    return sent


def remind(rt) -> int:
    """The deadline reminders due today, then the daily digests; the number of digests
    queued."""
    try:
        with rt.session_factory() as session:
            reminded = reminders.remind(session, today_vn())
            session.commit()
        if reminded:
            log.info("reminders: %d assignment(s) reminded", reminded)
    except Exception:
        log.exception("deadline reminders failed")
    try:
        return mail.queue_digests(rt.session_factory, _settings(rt))
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
