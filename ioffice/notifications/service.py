"""Writing notifications (in the caller's transaction), reading them for the bell, marking
them read, and each user's channels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Exists, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Role, User
from ioffice.db import after_read, utcnow
from ioffice.errors import NotFound
from ioffice.notifications.models import (
    Channel,
    Kind,
    MailOutbox,
    MailSettings,
    Notification,
    Preference,
)

DEFAULT_CHANNEL = Channel.APP
"""A kind the user never chose: shown in the bell, no e-mail (mail is asked for)."""

SUBJECT_PATHS = {"incoming": "/van-ban-den/", "outgoing": "/van-ban-di/",
                 "exchange": "/lien-thong/", "dossier": "/ho-so/",
                 "retention": "/ho-so/bao-quan"}
"""A kind of subject's list page; a document's page is this followed by its id."""


def link_for(subject_type: str, subject_id: int | None) -> str:
    """The page a notification opens, under the application's root: the document's, or the
    list's when it is about several (a department chased)."""
    path = SUBJECT_PATHS.get(subject_type, "")
    return f"{path}{subject_id}" if path and subject_id is not None and subject_type != "exchange" \
        else path


@dataclass(frozen=True)
class Notice:
    """One event told to some users."""

    user_ids: tuple[int, ...]
    kind: Kind
    agency_id: int
    text: str
    subject_type: str = ""
    subject_id: int | None = None


def notify(session: Session, user_ids: Iterable[int | None], kind: Kind, *, agency_id: int,
           text: str, subject_type: str = "", subject_id: int | None = None,
           exclude: int | None = None) -> list[Notification]:
    """Tell ``user_ids`` (the one acting, ``exclude``, is not told what they did)."""
    ids = tuple(dict.fromkeys(u for u in user_ids if u is not None and u != exclude))
    return notify_many(session, [Notice(ids, kind, agency_id, text, subject_type, subject_id)])


def notify_many(session: Session, notices: Sequence[Notice]) -> list[Notification]:
    """Write the notifications of several events: each user's channels and mail settings read
    in two statements for all of them, the rows added to the session (flushed with the
    caller's). A user whose channel for the kind is ``none``, or whose account is inactive,
    gets nothing; e-mail goes to the outbox unless the user takes a daily digest."""
    user_ids = sorted({u for n in notices for u in n.user_ids})
    if not user_ids:
        return []
    kinds = sorted({n.kind for n in notices})
    chosen = {(u, k): c for u, k, c in session.execute(
        select(Preference.user_id, Preference.kind, Preference.channel)
        .where(Preference.user_id.in_(user_ids), Preference.kind.in_(kinds)))}
    people = {row.id: row for row in session.execute(
        select(User.id, User.email, User.active, MailSettings.daily_digest)
        .outerjoin(MailSettings, MailSettings.user_id == User.id)
        .where(User.id.in_(user_ids)))}
    written = []
    for notice in notices:
        link = link_for(notice.subject_type, notice.subject_id)
        for user_id in notice.user_ids:
            person = people.get(user_id)
            channel = chosen.get((user_id, notice.kind), DEFAULT_CHANNEL)
            if person is None or not person.active or channel is Channel.NONE:
                continue
            by_email = channel.by_email and bool(person.email)
            row = Notification(user_id=user_id, agency_id=notice.agency_id, kind=notice.kind,
                               subject_type=notice.subject_type, subject_id=notice.subject_id,
                               link=link, text=notice.text, in_app=channel.in_app,
                               by_email=by_email)
            written.append(row)
            if by_email and not person.daily_digest:
                session.add(MailOutbox(agency_id=notice.agency_id, user_id=user_id,
                                       to_address=person.email, link=link,
                                       subject=mail_subject(notice.kind, notice.text),
                                       body=notice.text))
    session.add_all(written)
    return written


def mail_subject(kind: Kind, text: str) -> str:
    subject = f"[iOffice] {kind.label}: {text}"
    return subject if len(subject) <= 200 else subject[:199] + "…"


# -- who is told ------------------------------------------------------------------------------

def clerks(session: Session, agency_id: int) -> list[int]:
    return [u.id for u in agencies.active_holders(session, agency_id, (Role.CLERK,))]


def department_heads(session: Session, agency_id: int, department_id: int) -> list[int]:
    return [u.id for u in agencies.active_holders(session, agency_id, (Role.DEPARTMENT_HEAD,),
                                                   department_id=department_id)]


def handlers(session: Session, assignment) -> list[int]:
    """Who acts on an assignment: its person, or the heads of its department."""
    if assignment.assignee_user_id is not None:
        return [assignment.assignee_user_id]
    if assignment.assignee_department_id is not None:
        return department_heads(session, assignment.agency_id, assignment.assignee_department_id)
    return []


# -- the bell ---------------------------------------------------------------------------------

def _shown(user_id: int):
    return (Notification.user_id == user_id, Notification.in_app)


BELL_MAX = 100
"""The bell counts up to this many unread (shown "99+"): its query reads at most so many rows
of the index, however many a user leaves unread."""


def unread_count(session: Session, user_id: int, agency_id: int | None = None) -> int:
    """Unread notifications shown in the bell, up to :data:`BELL_MAX`."""
    stmt = select(Notification.id).where(*_shown(user_id), Notification.read_at.is_(None))
    if agency_id is not None:
        stmt = stmt.where(Notification.agency_id == agency_id)
    return len(session.scalars(stmt.limit(BELL_MAX)).all())


def latest_id(session: Session, user_id: int) -> int:
    """The user's newest notification id (the index ``(user_id, id)``: one index probe); the
    live stream compares it between polls."""
    return session.scalar(select(func.max(Notification.id)).where(
        Notification.user_id == user_id)) or 0


def recent(session: Session, user_id: int, agency_id: int, *, limit: int = 50,
           before: int | None = None, unread_only: bool = False) -> list[Notification]:
    """The user's notifications of the agency shown in the bell, newest first, paginated by
    key (``before``: the last id of the previous page)."""
    stmt = (select(Notification).where(*_shown(user_id), Notification.agency_id == agency_id)
            .order_by(Notification.id.desc()).limit(limit))
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt))


def get_own(session: Session, user_id: int, agency_id: int, notification_id: int
            ) -> Notification | None:
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user_id or row.agency_id != agency_id:
        return None
    return row


def open_notification(session: Session, user_id: int, agency_id: int, notification_id: int
                      ) -> Notification:
    """The user opens one of their notifications: it is read, and so is whatever else told
    them about the same document. Another user's or agency's answers "not found"."""
    row = get_own(session, user_id, agency_id, notification_id)
    if row is None:
        raise NotFound("Không tìm thấy thông báo này.")
    mark_read(session, user_id, row.id)
    if row.subject_type and row.subject_id is not None:
        mark_subject_read(session, user_id, row.subject_type, row.subject_id)
    return row


# Statements sent on every document page and queue are built once, their values bound
# (docs/performance.md, "Statements built once"); a table UPDATE, not the ORM's bulk one.
_n = Notification.__table__.c
_MARK_READ = (update(Notification.__table__)
              .where(_n.read_at.is_(None), _n.user_id == bindparam("reader_id"),
                     _n.id == bindparam("notice_id"))
              .values(read_at=bindparam("read_now", type_=_n.read_at.type)))
_MARK_SUBJECT_READ = (
    update(Notification.__table__)
    .where(_n.read_at.is_(None), _n.user_id == bindparam("reader_id"),
           _n.subject_type == bindparam("about_type"),
           _n.subject_id == bindparam("about_id"))
    .values(read_at=bindparam("read_now", type_=_n.read_at.type)))


def _mark(session: Session, stmt: Any, values: dict[str, Any]) -> None:
    values["read_now"] = utcnow()
    after_read(session, lambda s: s.execute(stmt, values))


def mark_read(session: Session, user_id: int, notification_id: int) -> None:
    _mark(session, _MARK_READ, {"reader_id": user_id, "notice_id": notification_id})


def mark_subject_read(session: Session, user_id: int, subject_type: str, subject_id: int) -> None:
    """The user opened the document: what told them about it is read (written like a read's
    audit event: after the page's read transaction, :func:`ioffice.db.after_read`)."""
    _mark(session, _MARK_SUBJECT_READ,
          {"reader_id": user_id, "about_type": subject_type, "about_id": subject_id})


def mark_all_read(session: Session, user_id: int, agency_id: int) -> int:
    result = session.execute(
        update(Notification).where(Notification.user_id == user_id,
                                   Notification.agency_id == agency_id,
                                   Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def unread_about(subject_type: str, subject_id: Any, user_id: Any) -> Exists:
    """Whether ``user_id`` has notifications about the ``subject_type`` document
    ``subject_id`` (a column of a list's statement) not read yet: asked in each list's own
    statement, one EXISTS per row, to show the row bold."""
    return exists().where(Notification.user_id == user_id,
                          Notification.subject_type == subject_type,
                          Notification.subject_id == subject_id, Notification.read_at.is_(None))


# -- preferences ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    channels: dict[Kind, Channel]
    daily_digest: bool
    email: str


def preferences(session: Session, user_id: int) -> Preferences:
    chosen = dict(session.execute(select(Preference.kind, Preference.channel)
                                  .where(Preference.user_id == user_id)).all())
    settings = session.get(MailSettings, user_id)
    user = session.get(User, user_id)
    return Preferences({k: chosen.get(k, DEFAULT_CHANNEL) for k in Kind},
                       bool(settings and settings.daily_digest), user.email if user else "")


class PreferenceError(ValueError):
    pass


def change_preferences(session: Session, user_id: int, channels: dict[Kind, Channel],
                       daily_digest: bool | None = None) -> Preferences:
    """Change the channel of some kinds (the others keep theirs) and, if given, the digest."""
    current = preferences(session, user_id)
    merged = {k.value: channels.get(k, current.channels[k]).value for k in Kind}
    return set_preferences(session, user_id, merged,
                           current.daily_digest if daily_digest is None else daily_digest)


def set_preferences(session: Session, user_id: int, channels: dict[str, str],
                    daily_digest: bool) -> Preferences:
    """Save the user's channel per kind (every kind must be given a known channel)."""
    parsed: dict[Kind, Channel] = {}
    for kind in Kind:
        try:
            parsed[kind] = Channel(channels.get(kind.value, ""))
        except ValueError:
            raise PreferenceError(f"Chưa chọn cách nhận cho «{kind.label}».") from None
    rows = {p.kind: p for p in session.scalars(select(Preference)
                                                .where(Preference.user_id == user_id))}
    for kind, channel in parsed.items():
        if kind in rows:
            rows[kind].channel = channel
        else:
            session.add(Preference(user_id=user_id, kind=kind, channel=channel))
    settings = session.get(MailSettings, user_id)
    if settings is None:
        last = latest_id(session, user_id)
        settings = MailSettings(user_id=user_id, daily_digest=daily_digest, digest_after_id=last)
        session.add(settings)
    else:
        if daily_digest and not settings.daily_digest:
            settings.digest_after_id = latest_id(session, user_id)
        settings.daily_digest = daily_digest
    session.flush()
    return preferences(session, user_id)


KEEP_READ = dt.timedelta(days=180)
KEEP_SENT_MAIL = dt.timedelta(days=30)


def prune(session: Session, now: dt.datetime | None = None) -> tuple[int, int]:
    """Forget notifications read over :data:`KEEP_READ` ago and mail sent over
    :data:`KEEP_SENT_MAIL` ago (the worker, daily): (notifications, mails) removed."""
    from sqlalchemy import delete

    from ioffice.notifications.models import MailState

    now = now or utcnow()
    gone = session.execute(delete(Notification).where(
        Notification.read_at.is_not(None), Notification.read_at < now - KEEP_READ)).rowcount
    sent = session.execute(delete(MailOutbox).where(
        MailOutbox.state == MailState.SENT, MailOutbox.sent_at < now - KEEP_SENT_MAIL)).rowcount
    return gone or 0, sent or 0
