"""Pages show only what the user may do: the menu follows the role table (``may(Op.X)``)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Membership, User
from ioffice.agencies.permissions import Op, allowed
from tests.conftest import login

MENU = {"/van-ban-den/so": Op.VIEW_INCOMING_REGISTER, "/van-ban-di/so": Op.VIEW_OUTGOING_REGISTER,
        "/van-ban-den/theo-doi": Op.FOLLOW_UP, "/lien-thong/": Op.VIEW_EXCHANGE,
        "/quan-tri/nguoi-dung": Op.ADMIN_USERS, "/quan-tri/phong-ban": Op.ADMIN_DEPARTMENTS,
        "/quan-tri/quy-trinh-duyet": Op.ADMIN_REVIEW_CHAIN, "/thong-ke/": Op.VIEW_DASHBOARD}
USERS = ("vanthu.camau", "lanhdao.camau", "truongphong.camau", "chuyenvien.camau")


def test_the_menu_links_exactly_what_the_role_may_open(app: Flask, db: Session) -> None:
    for username in USERS:
        roles = db.scalars(select(Membership).join(User).where(User.username == username)
                           ).first().roles
        client = app.test_client()
        assert login(client, username).status_code == 302
        home = client.get("/").get_data(as_text=True)
        for path, op in MENU.items():
            assert (f'href="{path}"' in home) == allowed(roles, op), (username, path)
            assert (client.get(path).status_code == 403) != allowed(roles, op), (username, path)
        drafts = client.get("/van-ban-di/").get_data(as_text=True)
        assert ('href="/van-ban-di/moi"' in drafts) == allowed(roles, Op.DRAFT_OUTGOING)
