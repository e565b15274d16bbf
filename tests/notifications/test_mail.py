"""Mail through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, its Vietnamese
subject encoded, the link back; an unreachable server delays and loses nothing; a refusing
one ends in the admin's dead letters; STARTTLS with a login; the daily digest."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.notifications import Channel, Kind, notify
from ioffice.notifications.mail import SmtpSettings, queue_digests, send_due
from ioffice.notifications.models import MailOutbox, MailSettings, MailState, Preference
from tests.conftest import csrf_token
from tests.support.factories import actor, user_id

SPECIALIST = "chuyenvien.camau"
SUBJECT_TEXT = "Văn bản 12/UBND-VP về việc đẩy mạnh chuyển đổi số"


class Inbox:
    """An aiosmtpd handler keeping what arrived; ``refuse``: answer 550 to every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "550 5.7.1 Hộp thư không nhận"
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def sessions(connection: Connection):
    """The worker's session factory, on the test's connection (rolled back after)."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)


def _settings(port: int, **extra) -> SmtpSettings:
    return SmtpSettings.from_config({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                                     "SMTP_SECURITY": "none", "SMTP_SENDER": "iOffice <no-reply@camau.test>",
                                     "PUBLIC_URL": "https://ioffice.camau.test/", **extra})


def _wants_mail(db: Session, username: str, address: str = "khoi@camau.test",
                channel: Channel = Channel.BOTH) -> int:
    uid = user_id(db, username)
    db.get(User, uid).email = address
    db.add(Preference(user_id=uid, kind=Kind.CHASED, channel=channel))
    db.flush()
    return uid


def _tell(db: Session, uid: int, text: str = SUBJECT_TEXT) -> None:
    notify(db, [uid], Kind.CHASED, agency_id=actor(db, SPECIALIST).agency_id, text=text,
           subject_type="incoming", subject_id=4242)
    db.commit()


def _parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=default)


def test_mail_arrives_with_its_vietnamese_subject_and_link(db: Session, sessions, smtp) -> None:
    inbox, port = smtp
    uid = _wants_mail(db, SPECIALIST)
    _tell(db, uid)
    report = send_due(sessions, _settings(port))
    assert (report.sent, report.retried, report.dead) == (1, 0, 0)
    [(rcpt, raw)] = inbox.messages
    assert rcpt == ["khoi@camau.test"]
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # the header is 7-bit: RFC 2047 words
    assert "=?utf-8?" in head.lower()
    msg = _parsed(raw)
    assert str(make_header(decode_header(msg["Subject"]))) == \
        f"[iOffice] Lãnh đạo đôn đốc: {SUBJECT_TEXT}"
    body = msg.get_content()
    assert SUBJECT_TEXT in body and "https://ioffice.camau.test/van-ban-den/4242" in body
    row = db.scalars(select(MailOutbox).where(MailOutbox.user_id == uid)).one()
    db.refresh(row)
    assert row.state == MailState.SENT and row.attempts == 1
    assert send_due(sessions, _settings(port)).sent == 0  # sent once


def test_a_user_with_email_off_gets_none(db: Session, sessions, smtp) -> None:
    inbox, port = smtp
    uid = _wants_mail(db, SPECIALIST, channel=Channel.APP)
    _tell(db, uid)
    assert send_due(sessions, _settings(port)).sent == 0
    assert inbox.messages == []


def test_an_unreachable_server_delays_and_loses_nothing(db: Session, sessions, smtp) -> None:
    inbox, port = smtp
    uid = _wants_mail(db, SPECIALIST)
    _tell(db, uid, "Thư thứ nhất")
    _tell(db, uid, "Thư thứ hai")
    down = _settings(_free_port(), SMTP_TIMEOUT=2)
    report = send_due(sessions, down)
    assert (report.sent, report.retried, report.dead) == (0, 2, 0)
    rows = list(db.scalars(select(MailOutbox).where(MailOutbox.user_id == uid)))
    for row in rows:
        db.refresh(row)
        assert row.state == MailState.PENDING and row.attempts == 1
        assert "Không kết nối được máy chủ thư" in row.last_error
        assert row.next_attempt_at > dt.datetime.now(dt.UTC)
    assert send_due(sessions, _settings(port)).sent == 0  # not due yet: the backoff
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    for _ in range(20):  # a long outage: tried again and again, never dead on a count
        send_due(sessions, down, now=later)
        later += dt.timedelta(minutes=10)
    for row in rows:
        db.refresh(row)
        assert row.state == MailState.PENDING and row.attempts > 8
    report = send_due(sessions, _settings(port), now=later)
    assert report.sent == 2
    assert sorted(_parsed(raw).get_content().splitlines()[0] for _, raw in inbox.messages) == [
        "Thư thứ hai", "Thư thứ nhất"]


def test_a_refused_message_ends_in_the_admins_dead_letters(
        db: Session, sessions, smtp, client: FlaskClient, login_as) -> None:
    inbox, port = smtp
    inbox.refuse = True
    uid = _wants_mail(db, SPECIALIST)
    _tell(db, uid)
    settings = _settings(port, SMTP_MAX_ATTEMPTS=3)
    when = dt.datetime.now(dt.UTC)
    for _ in range(3):
        report = send_due(sessions, settings, now=when)
        when += dt.timedelta(hours=7)
    assert report.dead == 1
    row = db.scalars(select(MailOutbox).where(MailOutbox.user_id == uid)).one()
    db.refresh(row)
    assert row.state == MailState.DEAD and "550" in row.last_error
    login_as("admin.camau" if db.scalar(select(User.id).where(User.username == "admin.camau"))
             else _admin_username(db))
    page = client.get("/quan-tri/thong-bao/").get_data(as_text=True)
    assert "khoi@camau.test" in page and "550" in page
    token = csrf_token(client, "/quan-tri/thong-bao/")
    assert client.post(f"/quan-tri/thong-bao/thu/{row.id}/gui-lai",
                       data={"csrf_token": token}).status_code == 302
    inbox.refuse = False
    assert send_due(sessions, settings).sent == 1 and len(inbox.messages) == 1


def _admin_username(db: Session) -> str:
    from ioffice.agencies.models import Membership, MembershipRole, Role

    return db.scalar(select(User.username).join(Membership, Membership.user_id == User.id)
                     .join(MembershipRole, MembershipRole.membership_id == Membership.id)
                     .where(Membership.agency_id == actor(db, SPECIALIST).agency_id,
                            MembershipRole.role == Role.ADMIN))


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_login(db: Session, sessions, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"mat-khau-thu"
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=ok)

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticator,
                            auth_require_tls=True)
    controller.start()
    try:
        uid = _wants_mail(db, SPECIALIST)
        _tell(db, uid)
        settings = _settings(port, SMTP_SECURITY="starttls", SMTP_USERNAME="ioffice",
                             SMTP_PASSWORD="mat-khau-thu", SMTP_CA_FILE=str(cert))
        assert send_due(sessions, settings).sent == 1
    finally:
        controller.stop()
    assert logins == [(b"ioffice", b"mat-khau-thu")] and len(inbox.messages) == 1


def test_daily_digest_instead_of_one_mail_each(db: Session, sessions, smtp) -> None:
    inbox, port = smtp
    uid = _wants_mail(db, SPECIALIST)
    db.add(MailSettings(user_id=uid, daily_digest=True, digest_after_id=0))
    db.flush()
    _tell(db, uid, "Thông báo một")
    _tell(db, uid, "Thông báo hai")
    assert db.scalars(select(MailOutbox).where(MailOutbox.user_id == uid)).all() == []
    settings = _settings(port)
    morning = dt.datetime(2026, 12, 4, 0, 30, tzinfo=dt.UTC)  # 07:30 in Hà Nội
    assert queue_digests(sessions, settings, now=morning - dt.timedelta(hours=1)) == 0  # too early
    assert queue_digests(sessions, settings, now=morning) == 1
    assert queue_digests(sessions, settings, now=morning + dt.timedelta(hours=2)) == 0  # once a day
    assert send_due(sessions, settings).sent == 1
    [(_, raw)] = inbox.messages
    msg = _parsed(raw)
    assert "Tổng hợp thông báo ngày 04/12/2026 (2)" in str(make_header(decode_header(msg["Subject"])))
    assert "Thông báo một" in msg.get_content() and "Thông báo hai" in msg.get_content()


def test_bad_smtp_security_is_refused() -> None:
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        SmtpSettings.from_config({"SMTP_SECURITY": "ssl3"})
    assert SmtpSettings.from_config({}).host == ""  # no host: nothing is sent, mail waits


def test_the_worker_job_reminds_and_mails(db: Session, sessions, smtp, blobs) -> None:
    """Three PERIODIC_JOBS entries, their timers kept by the worker: the reminders job writes
    the reminders due, the mail job sends the mail they queued; read notifications and sent mail
    are pruned after their keeping time."""
    from types import SimpleNamespace

    from ioffice.exchange.worker import PERIODIC_JOBS, run_due_jobs
    from ioffice.incoming import handling
    from ioffice.incoming.registration import today_vn
    from ioffice.notifications import jobs
    from ioffice.notifications import service as notices
    from tests.support.factories import register

    by_name = {j.name: j for j in PERIODIC_JOBS}
    assert by_name["reminders"].run is jobs.remind
    assert by_name["reminders"].every == jobs.SLOW_SECONDS
    assert by_name["mail"].run is jobs.send_mail
    assert by_name["mail"].every == jobs.EVERY_SECONDS
    assert by_name["notices-prune"].run is jobs.prune
    assert by_name["notices-prune"].every == jobs.PRUNE_SECONDS
    names = [j.name for j in PERIODIC_JOBS]  # the reminders written before the mail goes
    assert names.index("reminders") < names.index("mail")
    inbox, port = smtp
    uid = user_id(db, SPECIALIST)
    db.get(User, uid).email = "khoi@camau.test"
    db.add(Preference(user_id=uid, kind=Kind.DUE_SOON, channel=Channel.EMAIL))
    clerk, leader = actor(db, "vanthu.camau"), actor(db, "lanhdao.camau")
    doc = register(db, blobs, clerk)
    handling.distribute(db, leader, doc.id, handling.DistributionInput(lead=handling.Target(
        "user", uid, today_vn() + dt.timedelta(days=1))))
    db.commit()
    rt = SimpleNamespace(session_factory=sessions, mail=_settings(port))
    due = {"reminders": 0.0, "mail": 0.0}  # both due now
    assert run_due_jobs(rt, due, [by_name["reminders"], by_name["mail"]],
                        now=1.0) == ["reminders", "mail"]
    assert jobs.send_mail(rt).sent == 0  # sent once, by the round above
    assert len(inbox.messages) == 1
    msg = _parsed(inbox.messages[0][1])
    assert "Việc sắp đến hạn" in str(make_header(decode_header(msg["Subject"])))
    assert "còn 1 ngày" in msg.get_content()
    with sessions() as session:
        assert notices.prune(session, dt.datetime.now(dt.UTC)) == (0, 0)  # too recent
        for n in session.scalars(select(MailOutbox)):
            n.sent_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
        session.commit()
    assert jobs.prune(rt)[1] == 1
