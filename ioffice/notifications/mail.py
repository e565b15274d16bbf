"""Sending the mail outbox over SMTP, from the worker only; and the daily digests.

A row is claimed (its ``next_attempt_at`` pushed past a lease, so a second worker leaves it),
sent on one SMTP connection per round, then its outcome recorded. A server that cannot be
reached delays mail and loses none: the rows wait, retried with a backoff capped at
``UNREACHABLE_BACKOFF_MAX`` seconds, and die only after ``GIVE_UP_HOURS`` of trying. A server
that refuses a message (5xx) spends one of ``MAX_ATTEMPTS``. A dead row is listed for the
admin (``/quan-tri/thong-bao``), who can send it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.db import utcnow
from ioffice.notifications.models import (
    KIND_LABELS,
    MailOutbox,
    MailSettings,
    MailState,
    Notification,
)

log = logging.getLogger(__name__)

SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SmtpSettings:
    """``IOFFICE_SMTP_*`` (README "Environment variables"); no host: mail stays queued."""

    host: str = ""
    port: int = 587
    security: str = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a local relay)."""
    username: str = ""
    password: str = ""
    sender: str = "iOffice <no-reply@localhost>"
    timeout: float = 15.0
    public_url: str = ""
    """Put before each message's link (``IOFFICE_PUBLIC_URL``)."""
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    unreachable_backoff_max: float = 300.0
    give_up_hours: float = 72.0
    digest_hour: int = 7
    """Local hour after which the day's digests go out."""
    timezone: str = "Asia/Ho_Chi_Minh"
    ca_file: str = ""
    """A CA bundle to verify the server's certificate with (default: the system's)."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        def get(name: str, default: Any) -> Any:
            value = config.get(f"SMTP_{name}")
            return default if value in (None, "") else value

        security = str(get("SECURITY", "starttls")).lower()
        if security not in SECURITY:
            raise ValueError(f"IOFFICE_SMTP_SECURITY must be one of {', '.join(SECURITY)}")
        return cls(host=str(get("HOST", "")), port=int(get("PORT", 587)), security=security,
                   username=str(get("USERNAME", "")), password=str(get("PASSWORD", "")),
                   sender=str(get("SENDER", cls.sender)), timeout=float(get("TIMEOUT", 15)),
                   public_url=str(config.get("PUBLIC_URL") or "").rstrip("/"),
                   max_attempts=int(get("MAX_ATTEMPTS", 8)),
                   backoff_seconds=float(get("BACKOFF_SECONDS", 60)),
                   give_up_hours=float(get("GIVE_UP_HOURS", 72)),
                   digest_hour=int(get("DIGEST_HOUR", 7)),
                   timezone=str(config.get("TIMEZONE") or cls.timezone),
                   ca_file=str(get("CA_FILE", "")))


def build_message(settings: SmtpSettings, row: MailOutbox) -> EmailMessage:
    """The message as sent: UTF-8, its Vietnamese subject encoded by the SMTP policy
    (RFC 2047), the link back to the page after the text."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = row.subject
    msg["From"] = settings.sender
    msg["To"] = row.to_address
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(idstring=f"ioffice-mail-{row.id}")
    body = row.body
    if row.link:
        body += f"\n\nXem tại: {settings.public_url}{row.link}"
    body += ("\n\n--\nThư gửi tự động từ iOffice. Đổi cách nhận thông báo tại trang "
             f"«Cài đặt thông báo»: {settings.public_url}/thong-bao/cai-dat\n")
    msg.set_content(body)
    return msg


@dataclass
class MailReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    if settings.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                               timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            smtp.starttls(context=context)
    if settings.username:
        smtp.login(settings.username, settings.password)
    return smtp


LEASE = dt.timedelta(minutes=5)


def _claim(session_factory: Callable[[], Session], now: dt.datetime, limit: int) -> list[int]:
    with session_factory() as session:
        ids = list(session.scalars(
            select(MailOutbox.id).where(MailOutbox.state == MailState.PENDING,
                                        MailOutbox.next_attempt_at <= now)
            .order_by(MailOutbox.id).limit(limit).with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(MailOutbox).where(MailOutbox.id.in_(ids))
                            .values(next_attempt_at=now + LEASE))
        session.commit()
    return ids


def send_due(session_factory: Callable[[], Session], settings: SmtpSettings, *,
             now: dt.datetime | None = None, limit: int = 50,
             connect: Callable[[SmtpSettings], smtplib.SMTP] = _connect) -> MailReport:
    """Send the rows that are due; one SMTP connection for the round."""
    report = MailReport()
    if not settings.host:
        return report
    now = now or utcnow()
    ids = _claim(session_factory, now, limit)
    if not ids:
        return report
    with session_factory() as session:
        rows = list(session.scalars(select(MailOutbox).where(MailOutbox.id.in_(ids))
                                    .order_by(MailOutbox.id)))
        messages = {row.id: build_message(settings, row) for row in rows}
        session.rollback()
    outcomes: dict[int, tuple[str, bool]] = {}  # id -> (error, unreachable); "" when sent
    try:
        smtp = connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"Không kết nối được máy chủ thư {settings.host}:{settings.port}: {exc}"
        outcomes = {i: (error, True) for i in ids}
    else:
        try:
            for row_id, msg in messages.items():
                try:
                    refused = smtp.send_message(msg)
                    outcomes[row_id] = (f"Máy chủ thư từ chối: {refused}", False) if refused \
                        else ("", False)
                except smtplib.SMTPServerDisconnected as exc:
                    outcomes[row_id] = (f"Máy chủ thư ngắt kết nối: {exc}", True)
                except smtplib.SMTPResponseException as exc:
                    temporary = 400 <= exc.smtp_code < 500
                    outcomes[row_id] = (f"Máy chủ thư trả lời {exc.smtp_code}: "
                                        f"{exc.smtp_error!r}", temporary)
                except (smtplib.SMTPException, OSError) as exc:
                    outcomes[row_id] = (f"Gửi thư lỗi: {exc}", True)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    _record(session_factory, settings, outcomes, report)
    return report


def _record(session_factory: Callable[[], Session], settings: SmtpSettings,
            outcomes: dict[int, tuple[str, bool]], report: MailReport) -> None:
    with session_factory() as session:
        now = utcnow()
        for row in session.scalars(select(MailOutbox).where(MailOutbox.id.in_(list(outcomes)))
                                   .with_for_update()):
            error, unreachable = outcomes[row.id]
            if row.state != MailState.PENDING:
                continue
            row.attempts += 1
            if not error:
                row.state, row.sent_at, row.last_error = MailState.SENT, now, ""
                report.sent += 1
                continue
            row.last_error = error[:4000]
            waited = now - row.created_at
            if (not unreachable and row.attempts >= settings.max_attempts) or \
                    waited >= dt.timedelta(hours=settings.give_up_hours):
                row.state = MailState.DEAD
                report.dead += 1
                log.warning("mail %s to %s dead-lettered: %s", row.id, row.to_address, error)
                continue
            cap = settings.unreachable_backoff_max if unreachable else 6 * 3600.0
            delay = min(settings.backoff_seconds * 2 ** min(row.attempts - 1, 20), cap)
            row.next_attempt_at = now + dt.timedelta(seconds=delay)
            report.retried += 1
            report.errors.append(error)
        session.commit()


def retry_dead(session: Session, agency_id: int, mail_id: int) -> MailOutbox | None:
    """The admin sends a dead message again (it goes back to the queue, attempts reset)."""
    row = session.get(MailOutbox, mail_id)
    if row is None or row.agency_id != agency_id or row.state != MailState.DEAD:
        return None
    row.state, row.attempts, row.next_attempt_at = MailState.PENDING, 0, utcnow()
    row.created_at = utcnow()  # the give-up clock starts again
    return row


def queue_digests(session_factory: Callable[[], Session], settings: SmtpSettings, *,
                  now: dt.datetime | None = None) -> int:
    """Once a day after ``digest_hour`` (local time): for each user taking the daily digest,
    one message listing the notifications meant for e-mail since the last digest."""
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(settings.timezone))
    if local.hour < settings.digest_hour:
        return 0
    today = local.date()
    queued = 0
    with session_factory() as session:
        due = list(session.execute(
            select(MailSettings, User.email).join(User, User.id == MailSettings.user_id)
            .where(MailSettings.daily_digest, User.active,
                   (MailSettings.digest_sent_on.is_(None)) | (MailSettings.digest_sent_on < today))
            .with_for_update(of=MailSettings, skip_locked=True)))
        for settings_row, email in due:
            items = list(session.scalars(
                select(Notification).where(Notification.user_id == settings_row.user_id,
                                           Notification.by_email,
                                           Notification.id > settings_row.digest_after_id)
                .order_by(Notification.id).limit(500)))
            settings_row.digest_sent_on = today
            if not items:
                continue
            settings_row.digest_after_id = items[-1].id
            if not email:
                continue
            session.add(MailOutbox(agency_id=items[-1].agency_id, user_id=settings_row.user_id,
                                   to_address=email, link="",
                                   subject=f"[iOffice] Tổng hợp thông báo ngày {today:%d/%m/%Y} "
                                           f"({len(items)})",
                                   body=digest_body(settings, items)))
            queued += 1
        session.commit()
    return queued


def digest_body(settings: SmtpSettings, items: list[Notification]) -> str:
    lines = [f"Có {len(items)} thông báo mới:", ""]
    for n in items:
        lines.append(f"- [{KIND_LABELS[n.kind]}] {n.text}")
        if n.link:
            lines.append(f"  {settings.public_url}{n.link}")
    return "\n".join(lines)
