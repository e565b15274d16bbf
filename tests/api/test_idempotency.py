"""Idempotency-Key on creating POSTs: a retry answers the first response and creates nothing;
the same key with another body is refused with 409; keys are per token and forgotten after a
week."""

from __future__ import annotations

import datetime as dt
import io

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.api import idempotency
from ioffice.api.models import ApiToken, IdempotencyKey
from ioffice.db import utcnow
from ioffice.incoming.models import IncomingDocument
from tests.api.conftest import bearer, form, issue_token


def _register(client: FlaskClient, token: str, pdf: bytes, key: str | None, **overrides):
    data = form(**overrides)
    data["files"] = [(io.BytesIO(pdf), "van-ban.pdf", "application/pdf")]
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/documents", data=data, headers=headers,
                       content_type="multipart/form-data")


def _documents(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(IncomingDocument))


def test_a_retry_answers_the_first_response_and_creates_nothing(
        client: FlaskClient, db: Session, token_for, pdf_bytes: bytes) -> None:
    token = token_for("vanthu.camau")
    before = _documents(db)
    first = _register(client, token, pdf_bytes, "7d0c1a52-0001")
    assert first.status_code == 201, first.get_json()
    retry = _register(client, token, pdf_bytes, "7d0c1a52-0001")
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert _documents(db) == before + 1
    assert "Idempotent-Replayed" not in first.headers


def test_the_same_key_with_another_body_is_409(client: FlaskClient, db: Session, token_for,
                                               pdf_bytes: bytes) -> None:
    token = token_for("vanthu.camau")
    assert _register(client, token, pdf_bytes, "k-1").status_code == 201
    before = _documents(db)
    resp = _register(client, token, pdf_bytes, "k-1", number="126")
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "idempotency_key_reused" and "đã được dùng cho một yêu cầu khác" in err[
        "message"]
    # another file under the same key is another body too
    resp = _register(client, token, pdf_bytes + b"\n%", "k-1")
    assert resp.status_code == 409
    assert _documents(db) == before


def test_a_failed_request_keeps_no_key(client: FlaskClient, db: Session, token_for,
                                       pdf_bytes: bytes) -> None:
    token = token_for("vanthu.camau")
    bad = _register(client, token, b"not a pdf", "k-2")
    assert bad.status_code == 422
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert _register(client, token, pdf_bytes, "k-2").status_code == 201


def test_keys_are_per_token(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    first = _register(client, token_for("vanthu.camau"), pdf_bytes, "shared")
    other = _register(client, token_for("vanthu.camau"), pdf_bytes, "shared",
                      confirm_duplicate="true")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.get_json()["id"] != first.get_json()["id"]


def test_a_bad_key_is_refused(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    resp = _register(client, token_for("vanthu.camau"), pdf_bytes, "x" * 300)
    assert resp.status_code == 422
    assert "Idempotency-Key" in resp.get_json()["error"]["message"]


def test_old_keys_are_purged(db: Session) -> None:
    issue_token(db, "vanthu.camau")
    token_id = db.scalar(select(ApiToken.id).limit(1))
    idempotency.remember(db, token_id, "old", "0" * 64, 201, {"id": 1})
    db.scalars(select(IdempotencyKey)).one().created_at = utcnow() - dt.timedelta(days=8)
    idempotency.remember(db, token_id, "new", "0" * 64, 201, {"id": 2})
    assert idempotency.purge(db) == 1
    assert db.scalars(select(IdempotencyKey.key)).all() == ["new"]


def test_a_concurrent_twin_rolls_back_and_answers_as_a_retry(
        client: FlaskClient, db: Session, token_for, pdf_bytes: bytes, monkeypatch) -> None:
    """Two requests with one key at the same moment: both miss the key, both create; the
    second's key row meets the unique constraint, everything it did rolls back, and it answers
    the first's response. (The race is made by hiding the first's key from the second's
    look-up; `confirm_duplicate` lets the second registration through the duplicate check.)"""
    token = token_for("vanthu.camau")
    first = _register(client, token, pdf_bytes, "twin", confirm_duplicate="true")
    assert first.status_code == 201
    before = _documents(db)
    real_lookup, calls = idempotency.lookup, []

    def racing_lookup(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(idempotency, "lookup", racing_lookup)
    twin = _register(client, token, pdf_bytes, "twin", confirm_duplicate="true")
    assert len(calls) == 2  # missed, then found after the unique key refused the insert
    assert twin.status_code == 201 and twin.headers["Idempotent-Replayed"] == "true"
    assert twin.get_json() == first.get_json()
    assert _documents(db) == before
