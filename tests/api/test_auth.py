"""Bearer tokens: stored hashed, bound to one membership, refused when they should be."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.api import tokens
from ioffice.api.models import ApiToken
from ioffice.db import utcnow
from tests.api.conftest import CTX, bearer


def _assert_unauthorized(resp) -> None:
    assert resp.status_code == 401
    error = resp.get_json()["error"]
    assert error["code"] == "unauthorized"
    assert "mã truy cập" in error["message"].lower()
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token(client: FlaskClient) -> None:
    _assert_unauthorized(client.get("/api/v1/counts"))


@pytest.mark.parametrize("header", ["Bearer iof_not-a-real-token", "Basic dmFudGh1OnBhc3M=",
                                    "Bearer", "iof_without_scheme"])
def test_invalid_token(client: FlaskClient, header: str) -> None:
    _assert_unauthorized(client.get("/api/v1/counts", headers={"Authorization": header}))


def test_session_cookie_is_not_a_credential(client: FlaskClient, login_as) -> None:
    login_as("vanthu.camau")
    _assert_unauthorized(client.get("/api/v1/counts"))


def test_token_is_stored_hashed_and_works(client: FlaskClient, db: Session, token_for) -> None:
    token = token_for("lanhdao.camau")
    row = db.scalars(select(ApiToken).where(ApiToken.prefix == token[:12])).one()
    assert row.token_hash == tokens.hash_token(token) and token not in row.token_hash
    assert len(token) > 40 and row.last_used_at is None
    resp = client.get("/api/v1/counts", headers=bearer(token))
    assert resp.status_code == 200 and set(resp.get_json()) >= {"to_distribute", "to_handle"}
    db.refresh(row)
    assert row.last_used_at is not None


def test_last_used_is_kept_when_the_operation_fails(client: FlaskClient, db: Session,
                                                    token_for) -> None:
    token = token_for("chuyenvien.camau")
    resp = client.post("/api/v1/documents/999999/distribute", headers=bearer(token),
                       json={"lead": None})
    assert resp.status_code == 403
    row = db.scalars(select(ApiToken).where(ApiToken.prefix == token[:12])).one()
    db.refresh(row)
    assert row.last_used_at is not None


def test_revoked_token(client: FlaskClient, db: Session, token_for) -> None:
    token = token_for("vanthu.camau")
    assert client.get("/api/v1/counts", headers=bearer(token)).status_code == 200
    tokens.revoke(db, CTX, token[:12])
    db.commit()
    _assert_unauthorized(client.get("/api/v1/counts", headers=bearer(token)))


def test_inactive_user(client: FlaskClient, db: Session, token_for) -> None:
    token = token_for("chuyenvien.camau")
    user = db.scalars(select(User).where(User.username == "chuyenvien.camau")).one()
    user.active = False
    db.commit()
    _assert_unauthorized(client.get("/api/v1/counts", headers=bearer(token)))


def test_token_acts_for_its_agency_only(client: FlaskClient, token_for) -> None:
    uminh = client.get("/api/v1/me", headers=bearer(token_for("kiemnhiem.uminh", "000.00.21.H12")))
    khanhan = client.get("/api/v1/me", headers=bearer(token_for("kiemnhiem.uminh", "000.01.21.H12")))
    assert uminh.get_json()["agency_code"] == "000.00.21.H12"
    assert khanhan.get_json()["agency_code"] == "000.01.21.H12"


def test_issue_needs_a_membership(db: Session) -> None:
    from ioffice.agencies.models import Agency
    from ioffice.errors import NotFound

    user = db.scalars(select(User).where(User.username == "vanthu.uminh")).one()
    camau = db.scalars(select(Agency).where(Agency.code == "000.00.00.H12")).one()
    with pytest.raises(NotFound):
        tokens.issue(db, CTX, user=user, agency_id=camau.id, name="x")


def test_last_used_is_written_at_most_once_a_minute(db: Session, token_for) -> None:
    token = token_for("vanthu.camau")
    now = utcnow()
    tokens.authenticate(db, token, now=now)
    row = db.scalars(select(ApiToken).where(ApiToken.prefix == token[:12])).one()
    assert row.last_used_at == now
    tokens.authenticate(db, token, now=now + dt.timedelta(seconds=30))
    assert row.last_used_at == now
    tokens.authenticate(db, token, now=now + dt.timedelta(minutes=2))
    assert row.last_used_at == now + dt.timedelta(minutes=2)
