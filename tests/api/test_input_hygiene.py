"""The input rule through the API: refused characters in JSON bodies, multipart fields and query
strings answer 422 naming the field; NFD arrives as NFC; huge integers are 404/422, never 500."""

from __future__ import annotations

import unicodedata

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.incoming.models import IncomingDocument
from ioffice.incoming.registration import today_vn
from tests.api.conftest import bearer, department_id, register

HUGE = 2**64


def _error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()["error"]


@pytest.mark.parametrize("char", ["\x00", "\x08", "\u202e", "\u2067"])
def test_a_refused_character_in_a_multipart_field(client: FlaskClient, token_for,
                                                  pdf_bytes: bytes, char: str) -> None:
    error = _error(register(client, token_for("vanthu.camau"), pdf_bytes,
                            subject=f"Về việc{char} thử"), 422)
    assert "subject" in error["fields"] and f"U+{ord(char):04X}" in error["fields"]["subject"]


def test_a_refused_character_in_a_json_body_names_the_nested_field(
        client: FlaskClient, token_for, pdf_bytes: bytes, db: Session) -> None:
    clerk, leader = token_for("vanthu.camau"), token_for("lanhdao.camau")
    doc_id = register(client, clerk, pdf_bytes).get_json()["id"]
    resp = client.post(f"/api/v1/documents/{doc_id}/distribute", headers=bearer(leader), json={
        "lead": {"kind": "department", "id": department_id(db, "TTTT")},
        "instruction": "Giao\u202e chủ trì"})
    error = _error(resp, 422)
    assert error["code"] == "validation_error"
    assert "U+202E" in error["fields"]["instruction"]


def test_nfd_metadata_is_stored_as_nfc(client: FlaskClient, token_for, pdf_bytes: bytes,
                                       db: Session) -> None:
    subject = "Về việc tăng cường quản lý hồ sơ điện tử"
    resp = register(client, token_for("vanthu.camau"), pdf_bytes,
                    subject=unicodedata.normalize("NFD", subject),
                    issuer_name=unicodedata.normalize("NFD", "Bộ Nội vụ"))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    doc = db.get(IncomingDocument, resp.get_json()["id"])
    assert doc.subject == subject and doc.issuer_name == "Bộ Nội vụ"


def test_an_nfd_issuer_filter_finds_the_nfc_register_entry(client: FlaskClient, token_for,
                                                           pdf_bytes: bytes) -> None:
    token = token_for("vanthu.camau")
    assert register(client, token, pdf_bytes, issuer_name="Sở Tư pháp tỉnh Kiên Giang"
                    ).status_code == 201
    resp = client.get("/api/v1/register", headers=bearer(token), query_string={
        "year": today_vn().year, "issuer": unicodedata.normalize("NFD", "Tư pháp tỉnh Kiên")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [d["issuer_name"] for d in resp.get_json()["items"]] == ["Sở Tư pháp tỉnh Kiên Giang"]


@pytest.mark.parametrize("path", [f"/api/v1/documents/{HUGE}", f"/api/v1/documents/1/files/{HUGE}",
                                  f"/api/v1/documents/{2**63}"])
def test_huge_ids_in_the_path_are_not_found(client: FlaskClient, token_for, path: str) -> None:
    assert _error(client.get(path, headers=bearer(token_for("vanthu.camau"))), 404)["code"] \
        == "not_found"


def test_huge_integers_in_query_and_body_are_field_errors(client: FlaskClient, token_for,
                                                          pdf_bytes: bytes) -> None:
    clerk, leader = token_for("vanthu.camau"), token_for("lanhdao.camau")
    error = _error(client.get("/api/v1/register", headers=bearer(clerk), query_string={
        "year": today_vn().year, "after_number": HUGE}), 422)
    assert error["fields"] == {"after_number": "Số quá lớn."}
    error = _error(client.get("/api/v1/follow-up", headers=bearer(leader),
                              query_string={"department_id": HUGE}), 422)
    assert "department_id" in error["fields"]
    doc_id = register(client, clerk, pdf_bytes).get_json()["id"]
    error = _error(client.post(f"/api/v1/documents/{doc_id}/distribute", headers=bearer(leader),
                               json={"lead": {"kind": "user", "id": HUGE}}), 422)
    assert "lead.id" in error["fields"]
    error = _error(client.get("/api/v1/queues/to-handle", headers=bearer(clerk),
                              query_string={"after": f"-_{HUGE}"}), 422)
    assert "after" in error["fields"]
