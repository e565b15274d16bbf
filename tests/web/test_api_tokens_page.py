"""«Mã truy cập API»: a user creates a token (shown once), sees and revokes their own; the admin
sees and revokes any token of the agency; nobody reaches another user's or agency's token."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.api.models import ApiToken
from ioffice.audit.models import AuditEvent
from tests.conftest import csrf_token, login


def _create(client: FlaskClient, name: str):
    return client.post("/ma-truy-cap", data={"csrf_token": csrf_token(client, "/ma-truy-cap"),
                                             "name": name})


def test_a_token_is_shown_once_works_and_is_revoked(app: Flask, client: FlaskClient,
                                                    db: Session) -> None:
    login(client, "chuyenvien.camau")
    resp = _create(client, "Ứng dụng di động của Sở")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "chỉ hiện một lần" in page
    secret = re.search(r'id="token-secret">([^<]+)<', page).group(1)
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = client.get("/ma-truy-cap").get_data(as_text=True)
    assert secret not in listing and "Ứng dụng di động của Sở" in listing
    assert "Đang dùng được" in listing
    token_id = db.scalar(select(ApiToken.id).where(ApiToken.name == "Ứng dụng di động của Sở"))
    revoked = client.post(f"/ma-truy-cap/{token_id}/thu-hoi",
                          data={"csrf_token": csrf_token(client, "/ma-truy-cap")})
    assert revoked.status_code == 302
    assert "Đã thu hồi mã truy cập" in client.get("/ma-truy-cap").get_data(as_text=True)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "api_token",
                                                       AuditEvent.subject_id == str(token_id))))
    assert tags == {"api:token:create", "api:token:revoke"}
    again = client.post(f"/ma-truy-cap/{token_id}/thu-hoi",
                        data={"csrf_token": csrf_token(client, "/ma-truy-cap")})
    assert "đã bị thu hồi từ trước" in client.get(again.location).get_data(as_text=True)


def test_a_token_needs_a_name(client: FlaskClient, db: Session) -> None:
    login(client, "chuyenvien.camau")
    resp = _create(client, "   ")
    assert resp.status_code == 422
    assert "Phải đặt tên cho mã truy cập" in resp.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_others_tokens_look_missing_and_the_admin_revokes_any(app: Flask, client: FlaskClient,
                                                              db: Session) -> None:
    login(client, "chuyenvien.camau")
    _create(client, "Hệ thống báo cáo")
    token_id = db.scalar(select(ApiToken.id).where(ApiToken.name == "Hệ thống báo cáo"))
    colleague = app.test_client()
    login(colleague, "truongphong.camau")
    assert "Hệ thống báo cáo" not in colleague.get("/ma-truy-cap").get_data(as_text=True)
    assert colleague.post(f"/ma-truy-cap/{token_id}/thu-hoi",
                          data={"csrf_token": csrf_token(colleague, "/ma-truy-cap")}
                          ).status_code == 404
    assert colleague.get("/quan-tri/ma-truy-cap").status_code == 403
    outsider = app.test_client()
    login(outsider, "vanthu.bnv")  # the admin of another agency
    assert "Hệ thống báo cáo" not in outsider.get("/quan-tri/ma-truy-cap").get_data(as_text=True)
    assert outsider.post(f"/quan-tri/ma-truy-cap/{token_id}/thu-hoi",
                         data={"csrf_token": csrf_token(outsider, "/")}).status_code == 404
    admin = app.test_client()
    login(admin, "vanthu.camau")
    page = admin.get("/quan-tri/ma-truy-cap").get_data(as_text=True)
    holder = db.scalar(select(User.full_name).where(User.username == "chuyenvien.camau"))
    assert "Hệ thống báo cáo" in page and holder in page
    assert admin.post(f"/quan-tri/ma-truy-cap/{token_id}/thu-hoi",
                      data={"csrf_token": csrf_token(admin, "/")}).status_code == 302
    db.expire_all()
    assert db.get(ApiToken, token_id).revoked_at is not None
