"""The issue's bad inputs, through the API: each refused with the right status and a field."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.incoming.registration import today_vn
from tests.api.conftest import bearer, department_id, register, user_id


def _error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()["error"]


def test_not_a_pdf_even_if_named_pdf(client: FlaskClient, token_for) -> None:
    error = _error(register(client, token_for("vanthu.camau"), b"<html>not a pdf</html>",
                            filename="cong-van.pdf"), 422)
    assert error["code"] == "invalid_input" and "không phải là PDF" in error["fields"]["files"]


def test_corrupt_pdf(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    error = _error(register(client, token_for("vanthu.camau"), pdf_bytes[:60]), 422)
    assert "files" in error["fields"]


def test_no_file(client: FlaskClient, token_for) -> None:
    error = _error(register(client, token_for("vanthu.camau"), None), 422)
    assert "files" in error["fields"]


def test_file_over_the_size_limit(app, client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    token = token_for("vanthu.camau")
    big = pdf_bytes + b"%" + b"x" * 4096
    error = _error(register(client, token, big), 413)
    assert error["code"] == "too_large" and "vượt quá" in error["message"]


def test_missing_fields(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    resp = register(client, token_for("vanthu.camau"), pdf_bytes, issuer_name=None, number="",
                    document_date=None, doc_type=None, subject=None)
    error = _error(resp, 422)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"issuer_name", "number", "document_date", "doc_type", "subject"}
    assert error["fields"]["subject"] == "Bắt buộc phải có."


def test_wrong_types(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    resp = register(client, token_for("vanthu.camau"), pdf_bytes, page_count="mười",
                    document_date="15/03/2025", doc_type="thu_tay", urgency="gap")
    fields = _error(resp, 422)["fields"]
    assert fields["page_count"] == "Phải là số nguyên."
    assert fields["document_date"] == "Phải là ngày dạng YYYY-MM-DD."
    assert fields["doc_type"].startswith("Giá trị không hợp lệ") and "cong_van" in fields["doc_type"]
    assert "urgency" in fields


def test_date_in_the_future(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    tomorrow = today_vn() + dt.timedelta(days=1)
    fields = _error(register(client, token_for("vanthu.camau"), pdf_bytes,
                             document_date=tomorrow.isoformat()), 422)["fields"]
    assert fields == {"document_date": "Ngày văn bản không thể ở tương lai."}


def test_due_date_before_document_date(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    day = today_vn() - dt.timedelta(days=3)
    fields = _error(register(client, token_for("vanthu.camau"), pdf_bytes,
                             document_date=day.isoformat(),
                             due_date=(day - dt.timedelta(days=1)).isoformat()), 422)["fields"]
    assert "due_date" in fields


def _registered(client: FlaskClient, token_for, pdf_bytes: bytes, **kw) -> dict:
    resp = register(client, token_for("vanthu.camau"), pdf_bytes, **kw)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_deadline_before_document_date(client: FlaskClient, db: Session, token_for,
                                       pdf_bytes: bytes) -> None:
    doc = _registered(client, token_for, pdf_bytes)
    early = dt.date.fromisoformat(doc["document_date"]) - dt.timedelta(days=1)
    resp = client.post(f"/api/v1/documents/{doc['id']}/distribute",
                       headers=bearer(token_for("lanhdao.camau")),
                       json={"lead": {"kind": "department", "id": department_id(db, "TTTT"),
                                      "deadline": early.isoformat()}})
    error = _error(resp, 422)
    assert "trước ngày văn bản" in error["fields"]["deadline_lead"]
    # nothing was distributed
    doc_now = client.get(f"/api/v1/documents/{doc['id']}", headers=bearer(token_for("lanhdao.camau")))
    assert doc_now.get_json()["status"]["code"] == "registered"


def test_distribute_body_validation(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    doc = _registered(client, token_for, pdf_bytes)
    leader = bearer(token_for("lanhdao.camau"))
    url = f"/api/v1/documents/{doc['id']}/distribute"
    fields = _error(client.post(url, headers=leader, json={
        "lead": {"kind": "team", "id": "x"}, "instructions": "typo"}), 422)["fields"]
    assert set(fields) == {"lead.kind", "lead.id", "instructions"}
    assert _error(client.post(url, headers=leader, json=[1, 2]), 422)["fields"] == {
        "body": "Phải là một đối tượng JSON."}
    assert _error(client.post(url, headers=leader, data="{not json",
                              content_type="application/json"), 400)["code"] == "invalid_json"
    assert _error(client.post(url, headers=leader, data="lead=1"), 415)["code"] == \
        "unsupported_media_type"
    # a lead is required on the first distribution (the service's own check)
    assert "lead" in _error(client.post(url, headers=leader, json={}), 422)["fields"]


def test_query_validation(client: FlaskClient, token_for) -> None:
    clerk = bearer(token_for("vanthu.camau"))
    fields = _error(client.get("/api/v1/register?month=13&year=abc", headers=clerk), 422)["fields"]
    assert set(fields) == {"year", "month"}
    fields = _error(client.get("/api/v1/queues/to-handle?which=soon&limit=0", headers=clerk),
                    422)["fields"]
    assert set(fields) == {"which", "limit"}


def test_another_agencys_document_looks_missing(client: FlaskClient, db: Session, token_for,
                                                pdf_bytes: bytes) -> None:
    doc = _registered(client, token_for, pdf_bytes)
    file_id = doc["files"][0]["id"]
    other = bearer(token_for("lanhdao.uminh", "000.00.21.H12"))
    missing_id = doc["id"] + 100000
    for url in ("/api/v1/documents/{}", f"/api/v1/documents/{{}}/files/{file_id}"):
        theirs = client.get(url.format(doc["id"]), headers=other)
        missing = client.get(url.format(missing_id), headers=other)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.get_json() == missing.get_json()
        assert theirs.get_json()["error"]["code"] == "not_found"
    body = {"lead": {"kind": "user", "id": user_id(db, "chuyenvien.uminh")}}
    theirs = client.post(f"/api/v1/documents/{doc['id']}/distribute", headers=other, json=body)
    missing = client.post(f"/api/v1/documents/{missing_id}/distribute", headers=other, json=body)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()


def test_another_agencys_assignment_looks_missing(client: FlaskClient, db: Session, token_for,
                                                  pdf_bytes: bytes) -> None:
    doc = _registered(client, token_for, pdf_bytes)
    [a] = client.post(f"/api/v1/documents/{doc['id']}/distribute",
                      headers=bearer(token_for("lanhdao.camau")),
                      json={"lead": {"kind": "user", "id": user_id(db, "chuyenvien.camau")}}
                      ).get_json()["assignments"]
    other = bearer(token_for("chuyenvien.uminh", "000.00.21.H12"))
    theirs = client.post(f"/api/v1/assignments/{a['id']}/finish", headers=other, json={"result": "x"})
    missing = client.post(f"/api/v1/assignments/{a['id'] + 100000}/finish", headers=other,
                          json={"result": "x"})
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()


def test_a_specialist_cannot_distribute(client: FlaskClient, db: Session, token_for,
                                        pdf_bytes: bytes) -> None:
    doc = _registered(client, token_for, pdf_bytes)
    resp = client.post(f"/api/v1/documents/{doc['id']}/distribute",
                       headers=bearer(token_for("chuyenvien.camau")),
                       json={"lead": {"kind": "department", "id": department_id(db, "TTTT")}})
    error = _error(resp, 403)
    assert error["code"] == "forbidden" and "Lãnh đạo" in error["message"]


@pytest.mark.parametrize("username", ["chuyenvien.camau", "lanhdao.camau"])
def test_only_clerks_register(client: FlaskClient, token_for, pdf_bytes: bytes, username: str) -> None:
    assert _error(register(client, token_for(username), pdf_bytes), 403)["code"] == "forbidden"


def test_the_same_submission_twice(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    first = _registered(client, token_for, pdf_bytes, submission_id="form-42")
    resp = register(client, token_for("vanthu.camau"), pdf_bytes, submission_id="form-42")
    error = _error(resp, 409)
    assert error["code"] == "already_submitted"
    assert error["document"]["id"] == first["id"]
    assert error["document"]["incoming_number"] == first["incoming_number"]
    assert error["document"]["url"] == f"/api/v1/documents/{first['id']}"


def test_suspected_duplicate_then_confirmed(client: FlaskClient, token_for, pdf_bytes: bytes) -> None:
    first = _registered(client, token_for, pdf_bytes, number="501")
    error = _error(register(client, token_for("vanthu.camau"), pdf_bytes, number="501"), 409)
    assert error["code"] == "duplicate_suspected"
    assert [m["id"] for m in error["matches"]] == [first["id"]]
    second = _registered(client, token_for, pdf_bytes, number="501", confirm_duplicate="true")
    assert second["incoming_number"] == first["incoming_number"] + 1


def test_failed_registration_leaves_no_number_used(client: FlaskClient, token_for,
                                                   pdf_bytes: bytes) -> None:
    first = _registered(client, token_for, pdf_bytes, number="601")
    _error(register(client, token_for("vanthu.camau"), io.BytesIO(b"x").getvalue()), 422)
    second = _registered(client, token_for, pdf_bytes, number="602")
    assert second["incoming_number"] == first["incoming_number"] + 1
