"""The API asks the same role table as the pages (issue 15: "API role checks")."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, Membership, User
from ioffice.agencies.permissions import Op, allowed
from ioffice.api.routing import ApiBlueprint
from ioffice.api.views import api
from ioffice.documents.vocabulary import Confidentiality
from ioffice.incoming.models import DocumentStatus, IncomingDocument, Source
from ioffice.incoming.registration import today_vn
from tests.api.conftest import CAMAU, bearer

SECRET_SUBJECT = "Về phương án bảo vệ mục tiêu quan trọng (mật)"
DEMO_USERS = ("vanthu.camau", "lanhdao.camau", "truongphong.camau", "chuyenvien.camau")


def _text(resp) -> str:
    return json.dumps(resp.get_json(), ensure_ascii=False)


def _confidential(db: Session, status: DocumentStatus, number: str) -> int:
    agency_id = db.scalars(select(Agency.id).where(Agency.code == CAMAU)).one()
    doc = IncomingDocument(agency_id=agency_id, status=status, source=Source.AXIS,
                           issuer_name="Công an tỉnh", issuer_code="000.00.11.H12", number=number,
                           notation="CAT-PV", number_notation=f"{number}/CAT-PV",
                           document_date=today_vn() - dt.timedelta(days=1), doc_type="cong_van",
                           subject=SECRET_SUBJECT, confidentiality=Confidentiality.CONFIDENTIAL,
                           document_identifier=f"000.00.11.H12,{number}")
    db.add(doc)
    db.commit()
    return doc.id


@pytest.mark.parametrize("queue", ["to-register", "to-distribute"])
def test_a_specialist_token_cannot_list_the_clerk_and_leader_queues(
        client: FlaskClient, db: Session, token_for, queue: str) -> None:
    _confidential(db, DocumentStatus.AWAITING_REGISTRATION, "951")
    _confidential(db, DocumentStatus.REGISTERED, "952")
    for username in ("chuyenvien.camau", "truongphong.camau"):
        resp = client.get(f"/api/v1/queues/{queue}", headers=bearer(token_for(username)))
        assert resp.status_code == 403, (username, resp.get_json())
        assert resp.get_json()["error"]["code"] == "forbidden"
        assert SECRET_SUBJECT not in _text(resp)
    owner = "vanthu.camau" if queue == "to-register" else "lanhdao.camau"
    resp = client.get(f"/api/v1/queues/{queue}", headers=bearer(token_for(owner)))
    assert resp.status_code == 200 and SECRET_SUBJECT in _text(resp)


def _path(rule: str) -> str:
    """A concrete path for the rule: ids that exist nowhere."""
    return re.sub(r"<int:\w+>", "987654321", rule)


def test_each_api_route_answers_as_the_role_table_says(client: FlaskClient, db: Session,
                                                       token_for) -> None:
    """Every route of the registry, by each role of the demo agency: 403 exactly when the
    table refuses the route's operation (with ids that exist nowhere, an allowed caller gets
    404, 415 or 422, never 403)."""
    tokens = {u: token_for(u) for u in DEMO_USERS}
    roles = {u: db.scalars(select(Membership).join(User).where(User.username == u)).first().roles
             for u in DEMO_USERS}
    tried = refused = 0
    for op in api.operations.values():
        if not op.auth:
            continue
        for username in DEMO_USERS:
            path = api.url_prefix + _path(op.rule)
            resp = client.open(path, method=op.method, headers=bearer(tokens[username]))
            tried += 1
            expect_refused = op.operation is not None and not allowed(roles[username], op.operation)
            assert (resp.status_code == 403) == expect_refused, (op.endpoint, username,
                                                                 resp.status_code, resp.get_json())
            refused += expect_refused
    assert tried >= 4 * 19
    print(f"\nAPI routes x roles: {tried} calls, {refused} refused (403) as the table says")


def test_a_route_must_declare_its_operation(app: Flask) -> None:
    probe = ApiBlueprint("probe", __name__, url_prefix="/probe")
    with pytest.raises(TypeError):
        probe.get("/x", summary="no operation declared")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        probe.get("/y", summary="not an operation", operation="incoming.read")  # type: ignore[arg-type]
    probe.get("/z", summary="any authenticated caller", operation=None)(lambda call: {})
    assert probe.operations["probe.<lambda>"].operation is None
    assert {op.endpoint: op.operation for op in api.operations.values()}["api_v1.to_distribute"] \
        is Op.VIEW_TO_DISTRIBUTE
