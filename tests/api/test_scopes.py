"""Token scopes and expiry: a token past its expiry gets 401 `token_expired`, a token without
the operation's scope 403 `insufficient_scope`, both in the one error shape; the CLI and the
page «Mã truy cập API» set them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, User
from ioffice.api import tokens
from ioffice.api.models import ApiToken
from ioffice.db import utcnow
from ioffice.errors import DomainError
from tests.api.conftest import CAMAU, CTX, bearer
from tests.conftest import csrf_token, login


def _issue(db: Session, username: str, **kw) -> tokens.IssuedToken:
    user = db.scalars(select(User).where(User.username == username)).one()
    agency = db.scalars(select(Agency).where(Agency.code == CAMAU)).one()
    issued = tokens.issue(db, CTX, user=user, agency_id=agency.id, name="thử", **kw)
    db.commit()
    return issued


def _error(resp) -> dict:
    body = resp.get_json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_a_token_past_its_expiry_is_refused_with_401(client: FlaskClient, db: Session) -> None:
    issued = _issue(db, "vanthu.camau", expires_at=utcnow() + dt.timedelta(days=1))
    assert client.get("/api/v1/me", headers=bearer(issued.secret)).status_code == 200
    issued.token.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.commit()
    resp = client.get("/api/v1/me", headers=bearer(issued.secret))
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    err = _error(resp)
    assert err["code"] == "token_expired" and "đã hết hạn" in err["message"]


def test_a_token_without_the_scope_gets_403(client: FlaskClient, db: Session) -> None:
    reader = _issue(db, "lanhdao.camau", scopes=["read"]).secret
    assert client.get("/api/v1/counts", headers=bearer(reader)).status_code == 200
    resp = client.post("/api/v1/documents/1/reject", json={"reason": "x"}, headers=bearer(reader))
    assert resp.status_code == 403
    err = _error(resp)
    assert err["code"] == "insufficient_scope" and "«write»" in err["message"]
    writer = _issue(db, "lanhdao.camau", scopes=["write"]).secret
    resp = client.get("/api/v1/counts", headers=bearer(writer))
    assert resp.status_code == 403 and _error(resp)["code"] == "insufficient_scope"


def test_the_scope_is_checked_before_the_role(client: FlaskClient, db: Session) -> None:
    """A specialist's read-only token: the scope refuses first, then (with write) the role."""
    reader = _issue(db, "chuyenvien.camau", scopes=["read"]).secret
    body = {"lead": {"kind": "department", "id": 1}}
    resp = client.post("/api/v1/documents/1/distribute", json=body, headers=bearer(reader))
    assert _error(resp)["code"] == "insufficient_scope"
    writer = _issue(db, "chuyenvien.camau", scopes=["read", "write"]).secret
    resp = client.post("/api/v1/documents/1/distribute", json=body, headers=bearer(writer))
    assert resp.status_code == 403 and _error(resp)["code"] == "forbidden"


@pytest.mark.parametrize(("kw", "message"), [
    ({"scopes": []}, "ít nhất một phạm vi"),
    ({"scopes": ["read", "delete"]}, "Phạm vi không hợp lệ: delete"),
    ({"expires_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, "phải ở tương lai"),
    ({"expires_at": utcnow() + dt.timedelta(days=3650)}, "tối đa 730 ngày"),
])
def test_bad_scopes_and_expiry_are_refused(db: Session, kw: dict, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        _issue(db, "vanthu.camau", **kw)


def test_parse_expiry() -> None:
    now = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
    assert tokens.parse_expiry("90d", now=now) == now + dt.timedelta(days=90)
    # through the 31st in Vietnam: until midnight +07:00, 17:00 UTC
    assert tokens.parse_expiry("2026-12-31", now=now) == dt.datetime(2026, 12, 31, 17, 0,
                                                                     tzinfo=dt.UTC)
    assert tokens.parse_expiry("", now=now) is None
    with pytest.raises(DomainError, match="không hợp lệ"):
        tokens.parse_expiry("next week", now=now)


def test_cli_sets_scopes_and_expiry(app: Flask, client: FlaskClient, db: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "--username", "lanhdao.camau", "--name", "ký",
                                 "--scope", "read", "--scope", "sign", "--expires", "30d"])
    assert result.exit_code == 0, result.output
    assert "phạm vi read,sign" in result.stderr and "hết hạn" in result.stderr
    secret = result.stdout.strip().splitlines()[-1]
    token = db.scalars(select(ApiToken).where(ApiToken.prefix == secret[:12])).one()
    assert token.scopes == "read,sign"
    assert dt.timedelta(days=29) < token.expires_at - utcnow() <= dt.timedelta(days=30)
    listing = runner.invoke(args=["token", "list", "--username", "lanhdao.camau"])
    assert "read,sign" in listing.output
    bad = runner.invoke(args=["token", "create", "--username", "lanhdao.camau", "--name", "x",
                              "--scope", "everything"])
    assert bad.exit_code == 1 and "Phạm vi không hợp lệ" in bad.output
    bad = runner.invoke(args=["token", "create", "--username", "lanhdao.camau", "--name", "x",
                              "--expires", "mai"])
    assert bad.exit_code == 1 and "Hạn dùng «mai» không hợp lệ" in bad.output


def _post(client: FlaskClient, **data) -> object:
    return client.post("/ma-truy-cap", data={"csrf_token": csrf_token(client, "/ma-truy-cap"),
                                             "scopes_shown": "1", **data})


def test_the_page_sets_scopes_and_expiry(client: FlaskClient, db: Session) -> None:
    login(client, "lanhdao.camau")
    page = client.get("/ma-truy-cap").get_data(as_text=True)
    assert 'value="sign"' in page and 'value="admin"' not in page  # not an admin
    day = (utcnow() + dt.timedelta(days=60)).date().isoformat()
    resp = _post(client, name="Ký từ xa", scopes=["read", "sign"], expires=day)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    secret = re.search(r'id="token-secret">([^<]+)<', resp.get_data(as_text=True)).group(1)
    token = db.scalars(select(ApiToken).where(ApiToken.prefix == secret[:12])).one()
    assert token.scopes == "read,sign" and token.expires_at is not None
    assert "read, sign" in client.get("/ma-truy-cap").get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x"}, "Phải chọn ít nhất một phạm vi"),
    ({"name": "x", "scopes": ["read"], "expires": "2020-01-01"}, "phải ở tương lai"),
    ({"name": "x", "scopes": ["read"], "expires": "31/12/2026"}, "không hợp lệ"),
    ({"name": "x", "scopes": ["admin"]}, "không có quyền"),
])
def test_the_page_refuses_bad_scopes_and_expiry(client: FlaskClient, data: dict,
                                                message: str) -> None:
    login(client, "chuyenvien.camau")
    resp = _post(client, **data)
    assert resp.status_code in (403, 422)
    assert message in resp.get_data(as_text=True)


def test_the_admin_page_shows_scopes_and_expiry(client: FlaskClient, db: Session) -> None:
    issued = _issue(db, "chuyenvien.camau", scopes=["read"],
                    expires_at=utcnow() + dt.timedelta(days=1))
    issued.token.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.commit()
    login(client, "vanthu.camau")
    page = client.get("/quan-tri/ma-truy-cap").get_data(as_text=True)
    row = page[page.index(f'data-token="{issued.token.id}"'):][:1500]
    assert "read" in row and "Đã hết hạn" in row
