"""The logged-in user is read in one statement per request, and nothing about them is kept
between requests: a role taken away, a membership ended, a deactivation, a password reset or
change and a logout all take effect on the very next request (tests/web/test_sessions.py has
the deactivation, password change and logout cases). The menu kept per set of roles follows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, delete, event, func, select
from sqlalchemy.orm import Session

from ioffice.agencies import service
from ioffice.agencies.models import Agency, Membership, MembershipRole, Role, User
from tests.conftest import login


@contextmanager
def selects(connection: Connection) -> Iterator[list[str]]:
    """The SELECT statements sent on ``connection`` (the app's sessions run on it)."""
    seen: list[str] = []

    def _count(_conn, _cursor, statement, *_a) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", _count)


def membership_of(db: Session, username: str) -> Membership:
    user = db.scalars(select(User).where(User.username == username)).one()
    camau = db.scalars(select(Agency).where(Agency.code == "000.00.00.H12")).one()
    membership = service.load_membership(db, user.id, camau.id)
    assert membership is not None
    return membership


def test_a_page_loads_the_login_in_one_statement(client: FlaskClient,
                                                 connection: Connection) -> None:
    """The password form reads nothing of its own: its only statement is the login's (user,
    membership, roles, agency and department together)."""
    assert login(client, "lanhdao.camau").status_code == 302
    client.get("/doi-mat-khau")
    with selects(connection) as seen:
        page = client.get("/doi-mat-khau")
    assert page.status_code == 200
    assert len(seen) == 1, seen
    text = page.get_data(as_text=True)
    assert 'class="agency" title="000.00.00.H12"' in text


def test_a_role_taken_away_takes_effect_on_the_next_request(client: FlaskClient,
                                                            db: Session) -> None:
    assert login(client, "vanthu.camau").status_code == 302  # clerk and admin
    page = client.get("/").get_data(as_text=True)
    assert ">Người dùng</a>" in page and ">Sổ văn bản đến</a>" in page
    membership = membership_of(db, "vanthu.camau")
    db.execute(delete(MembershipRole).where(MembershipRole.membership_id == membership.id,
                                            MembershipRole.role == Role.ADMIN))
    db.commit()
    page = client.get("/").get_data(as_text=True)
    assert ">Người dùng</a>" not in page  # the menu of the roles now held
    assert ">Sổ văn bản đến</a>" in page
    assert client.get("/quan-tri/nguoi-dung").status_code == 403


def test_a_role_given_takes_effect_on_the_next_request(client: FlaskClient,
                                                       db: Session) -> None:
    assert login(client, "chuyenvien.camau").status_code == 302
    assert ">Sổ văn bản đến</a>" not in client.get("/").get_data(as_text=True)
    membership = membership_of(db, "chuyenvien.camau")
    db.add(MembershipRole(membership_id=membership.id, role=Role.CLERK))
    db.commit()
    assert ">Sổ văn bản đến</a>" in client.get("/").get_data(as_text=True)


def test_an_ended_membership_moves_the_session_to_the_users_other_agency(
        app: Flask, client: FlaskClient, db: Session) -> None:
    """A user of two agencies removed from the one they act for goes on in the other (as a new
    login would pick it); removed from every agency, the session ends."""
    user = db.scalars(select(User).join(Membership).group_by(User.id)
                      .having(func.count(Membership.id) > 1).limit(1)).one()
    first, second = sorted(user.memberships, key=lambda m: m.id)[:2]
    login(client, user.username)
    assert client.get("/").status_code == 200
    db.execute(delete(MembershipRole).where(MembershipRole.membership_id == first.id))
    db.execute(delete(Membership).where(Membership.id == first.id))
    db.commit()
    with client.session_transaction() as sess:
        assert sess["agency_id"] == first.agency_id
    page = client.get("/")
    assert page.status_code == 200
    with client.session_transaction() as sess:
        assert sess["agency_id"] == second.agency_id
    assert db.get(Agency, second.agency_id).name in page.get_data(as_text=True)


def test_a_password_reset_leads_to_the_form_on_the_next_request(client: FlaskClient,
                                                                db: Session) -> None:
    assert login(client, "chuyenvien.camau").status_code == 302
    assert client.get("/").status_code == 200
    user = db.scalars(select(User).where(User.username == "chuyenvien.camau")).one()
    user.must_change_password = True
    db.commit()
    resp = client.get("/")
    assert resp.status_code == 302 and resp.location == "/doi-mat-khau"
