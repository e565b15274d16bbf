"""/api/v1/outgoing: the whole way of an outgoing document through the API, each step by the
person whose step it is, with the scopes it needs; and the refusals: signing without the
`sign` scope, a two-phase finish with a signature over other bytes, another agency's id."""

from __future__ import annotations

import base64
import io

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, User
from ioffice.api import tokens
from ioffice.demo import DEMO_PIN
from ioffice.outgoing.models import OutgoingDocument
from signing import make_csr
from tests.api.conftest import CAMAU, CTX, bearer, department_id, user_id
from tests.outgoing.conftest import pdf_bytes

SPECIALIST, HEAD, CLERK, LEADER = ("chuyenvien.camau", "truongphong.camau", "vanthu.camau",
                                   "lanhdao.camau")


def token(db: Session, username: str, scopes=("read", "write"), agency: str = CAMAU) -> str:
    user = db.scalars(select(User).where(User.username == username)).one()
    agency_id = db.scalars(select(Agency.id).where(Agency.code == agency)).one()
    secret = tokens.issue(db, CTX, user=user, agency_id=agency_id, name="thử",
                          scopes=scopes).secret
    db.commit()
    return secret


DRAFT = pdf_bytes()


def new_draft(client: FlaskClient, db: Session, secret: str, key: str | None = None, **fields):
    data = {"doc_type": "bao_cao", "subject": "Báo cáo tiến độ Chính phủ điện tử",
            "signer_id": str(user_id(db, LEADER)),
            "department_ids": [str(department_id(db, "KT"))], **fields,
            "file": (io.BytesIO(DRAFT), "du-thao.pdf", "application/pdf")}
    headers = bearer(secret) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/outgoing", data=data, headers=headers,
                       content_type="multipart/form-data")


def post(client: FlaskClient, secret: str, path: str, body: dict | None = None):
    return client.post(f"/api/v1/outgoing{path}", json=body, headers=bearer(secret))


def approved(client: FlaskClient, db: Session) -> int:
    """A draft made, submitted and approved at each step, through the API."""
    resp = new_draft(client, db, token(db, SPECIALIST))
    assert resp.status_code == 201, resp.get_json()
    doc_id = resp.get_json()["id"]
    assert post(client, token(db, SPECIALIST), f"/{doc_id}/submit", {}).status_code == 200
    for who, comment in ((HEAD, "Nội dung đạt."), (CLERK, "Đúng thể thức."), (LEADER, "")):
        resp = post(client, token(db, who), f"/{doc_id}/approve", {"comment": comment})
        assert resp.status_code == 200, (who, resp.get_json())
    assert resp.get_json()["status"]["code"] == "approved"
    return doc_id


def test_a_draft_goes_all_the_way_to_dispatch(client: FlaskClient, db: Session) -> None:
    specialist = token(db, SPECIALIST)
    resp = new_draft(client, db, specialist, key="draft-1")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["status"]["code"] == "draft" and len(doc["versions"]) == 1
    assert doc["recipients"][0]["kind"] == "department"
    # a retried creation answers the same draft and makes no second one
    before = db.scalar(select(func.count()).select_from(OutgoingDocument))
    again = new_draft(client, db, specialist, key="draft-1")
    assert again.get_json()["id"] == doc["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert db.scalar(select(func.count()).select_from(OutgoingDocument)) == before

    doc_id = doc["id"]
    resp = post(client, specialist, f"/{doc_id}/comments", {"body": "Đã sửa số liệu quý III."})
    assert resp.status_code == 201 and resp.get_json()["body"] == "Đã sửa số liệu quý III."
    version = client.post(f"/api/v1/outgoing/{doc_id}/versions", headers=bearer(specialist),
                          data={"note": "Bản 2", "file": (io.BytesIO(pdf_bytes("Bản 2")),
                                                          "ban-2.pdf")},
                          content_type="multipart/form-data")
    assert version.status_code == 201 and len(version.get_json()["versions"]) == 2
    pdf = client.get(version.get_json()["versions"][1]["download_url"], headers=bearer(specialist))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    assert post(client, specialist, f"/{doc_id}/submit", {}).status_code == 200
    # the specialist cannot approve; the head sends it back, the drafter submits again
    assert post(client, specialist, f"/{doc_id}/approve", {}).status_code == 403
    back = post(client, token(db, HEAD), f"/{doc_id}/send-back", {"comment": "Bổ sung số liệu."})
    assert back.get_json()["status"]["code"] == "draft"
    assert post(client, specialist, f"/{doc_id}/submit", {}).status_code == 200
    for who in (HEAD, CLERK, LEADER):
        assert post(client, token(db, who), f"/{doc_id}/approve", {}).status_code == 200

    signer = token(db, LEADER, scopes=("read", "sign"))
    signed = post(client, signer, f"/{doc_id}/sign-pin", {"pin": DEMO_PIN})
    assert signed.status_code == 200, signed.get_json()
    assert signed.get_json()["status"]["code"] == "signed"

    clerk = token(db, CLERK)
    issued = post(client, clerk, f"/{doc_id}/issue")
    assert issued.status_code == 200, issued.get_json()
    body = issued.get_json()
    assert body["status"]["code"] == "dispatched" and body["number_notation"]
    assert [s["kind"] for s in body["signatures"]] == ["personal", "agency"]
    statuses = client.get(f"/api/v1/outgoing/{doc_id}/recipients", headers=bearer(clerk))
    assert statuses.get_json()["items"][0]["status"]["code"] == "delivered"
    # paging by key: the newest first, then the next page from `next_after`
    newer = new_draft(client, db, specialist, subject="Dự thảo thứ hai").get_json()["id"]
    first = client.get("/api/v1/outgoing?section=mine&limit=1", headers=bearer(specialist))
    page = first.get_json()
    assert [d["id"] for d in page["items"]] == [newer] and page["next_after"]
    page = client.get(f"/api/v1/outgoing?section=mine&limit=1&after={page['next_after']}",
                      headers=bearer(specialist)).get_json()
    assert [d["id"] for d in page["items"]] == [doc_id] and page["next_after"] is None
    bad = client.get("/api/v1/outgoing?section=recent&after=abc", headers=bearer(specialist))
    assert bad.status_code == 422 and "after" in bad.get_json()["error"]["fields"]


def test_signing_needs_the_sign_scope_and_the_pin(client: FlaskClient, db: Session) -> None:
    doc_id = approved(client, db)
    writer = token(db, LEADER, scopes=("read", "write"))
    resp = post(client, writer, f"/{doc_id}/sign-pin", {"pin": DEMO_PIN})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    signer = token(db, LEADER, scopes=("sign",))
    resp = post(client, signer, f"/{doc_id}/sign-pin", {"pin": "000000"})
    assert resp.status_code == 400 and "PIN" in resp.get_json()["error"]["message"]
    assert post(client, signer, f"/{doc_id}/sign-pin", {}).status_code == 422
    # the wrong PIN is counted although the request failed (kept, not rolled back)
    assert "outgoing:signature:wrong-pin" in _tags(client, db, doc_id)


def _tags(client: FlaskClient, db: Session, doc_id: int) -> list[str]:
    doc = client.get(f"/api/v1/outgoing/{doc_id}", headers=bearer(token(db, CLERK))).get_json()
    return [h["action"] for h in doc["history"]]


def _raw_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def test_two_phase_signing_with_the_key_holders_own_key(client: FlaskClient, db: Session) -> None:
    doc_id = approved(client, db)
    signer = token(db, LEADER, scopes=("read", "sign"))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = client.post("/api/v1/keys/csr", json={"csr": make_csr(key, "Hệ thống ký").decode()},
                       headers=bearer(signer))
    assert cert.status_code == 201, cert.get_json()

    prep = post(client, signer, f"/{doc_id}/signing/prepare")
    assert prep.status_code == 200, prep.get_json()
    to_sign = base64.b64decode(prep.get_json()["to_sign"])
    handle = prep.get_json()["handle"]
    # a signature over other bytes is refused, and uses the handle up
    forged = post(client, signer, f"/{doc_id}/signing/finish",
                  {"handle": handle, "signature": _raw_sign(key, to_sign + b"other bytes")})
    assert forged.status_code == 400, forged.get_json()
    assert "outgoing:signature:refused" in _tags(client, db, doc_id)
    again = post(client, signer, f"/{doc_id}/signing/finish",
                 {"handle": handle, "signature": _raw_sign(key, to_sign)})
    assert again.status_code == 400
    # a new session signed right
    prep = post(client, signer, f"/{doc_id}/signing/prepare").get_json()
    done = post(client, signer, f"/{doc_id}/signing/finish",
                {"handle": prep["handle"],
                 "signature": _raw_sign(key, base64.b64decode(prep["to_sign"]))})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["signatures"][0]["method"] == "browser"
    bad = post(client, signer, f"/{doc_id}/signing/finish",
               {"handle": prep["handle"], "signature": "not base64!"})
    assert bad.status_code == 422 and "signature" in bad.get_json()["error"]["fields"]


def test_another_agencys_document_is_404(client: FlaskClient, db: Session) -> None:
    doc_id = new_draft(client, db, token(db, SPECIALIST)).get_json()["id"]
    outsider = token(db, "vanthu.bnv", scopes=("read", "write", "sign"), agency="000.00.00.G09")
    assert client.get(f"/api/v1/outgoing/{doc_id}", headers=bearer(outsider)).status_code == 404
    for path, body in ((f"/{doc_id}/comments", {"body": "x"}), (f"/{doc_id}/submit", {}),
                       (f"/{doc_id}/number", None)):
        resp = post(client, outsider, path, body)
        assert resp.status_code in (403, 404), (path, resp.status_code)
        if resp.status_code == 404:
            assert resp.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("fields", "field"), [
    ({"doc_type": "thu_tinh"}, "doc_type"),
    ({"department_ids": []}, "recipients"),
    ({"signer_id": "1"}, "signer_id"),
    ({"copies": "0"}, "copies"),
])
def test_a_bad_draft_names_its_field(client: FlaskClient, db: Session, fields: dict,
                                     field: str) -> None:
    resp = new_draft(client, db, token(db, SPECIALIST), **fields)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]


def test_a_draft_without_its_file(client: FlaskClient, db: Session) -> None:
    resp = client.post("/api/v1/outgoing", headers=bearer(token(db, SPECIALIST)),
                       data={"doc_type": "bao_cao", "subject": "x",
                             "signer_id": str(user_id(db, LEADER)),
                             "department_ids": [str(department_id(db, "KT"))]},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["file"].startswith("Chưa gửi tệp dự thảo")


def test_withdraw_then_after_dispatch_replace_update_revoke(client: FlaskClient,
                                                          db: Session) -> None:
    specialist = token(db, SPECIALIST)
    doc_id = new_draft(client, db, specialist).get_json()["id"]
    assert post(client, specialist, f"/{doc_id}/submit", {}).status_code == 200
    back = post(client, specialist, f"/{doc_id}/withdraw", {"comment": "Sửa lại số liệu."})
    assert back.status_code == 200 and back.get_json()["status"]["code"] == "draft"
    doc_id = approved(client, db)
    post(client, token(db, LEADER, scopes=("sign",)), f"/{doc_id}/sign-pin", {"pin": DEMO_PIN})
    clerk = token(db, CLERK)
    # step by step this time: number, seal, dispatch
    for step, status in (("number", "numbered"), ("seal", "sealed"), ("dispatch", "dispatched")):
        resp = post(client, clerk, f"/{doc_id}/{step}")
        assert resp.status_code == 200 and resp.get_json()["status"]["code"] == status, resp.json
    assert post(client, clerk, f"/{doc_id}/number").status_code == 409  # numbered already
    # no agency through the axis: nothing to update
    resp = post(client, clerk, f"/{doc_id}/update", {"reason": "Đổi hạn trả lời."})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "conflict"
    new = post(client, clerk, f"/{doc_id}/replace")
    assert new.status_code == 201 and new.get_json()["replaces_id"] == doc_id
    assert new.get_json()["status"]["code"] == "draft"
    assert post(client, clerk, f"/{doc_id}/revoke", {"reason": " "}).status_code == 422
    revoked = post(client, clerk, f"/{doc_id}/revoke", {"reason": "Ban hành nhầm."})
    assert revoked.status_code == 200 and revoked.get_json()["status"]["code"] == "revoked"
    assert revoked.get_json()["recipients"][0]["status"]["code"] == "revoked"


def test_a_draft_from_a_docx_and_a_docx_that_is_not_one(client: FlaskClient, db: Session) -> None:
    from tests.outgoing.hostile import good_docx

    specialist = token(db, SPECIALIST)
    for data, name, status in ((good_docx(), "bao-cao.docx", 201),
                               (b"plain text, not a docx", "bao-cao.docx", 422)):
        resp = client.post("/api/v1/outgoing", headers=bearer(specialist),
                           content_type="multipart/form-data", data={
                               "doc_type": "bao_cao", "subject": "Báo cáo từ tệp Word",
                               "signer_id": str(user_id(db, LEADER)),
                               "department_ids": [str(department_id(db, "KT"))],
                               "file": (io.BytesIO(data), name)})
        assert resp.status_code == status, resp.get_json()
    version = client.get(f"/api/v1/outgoing/{_last_id(db)}", headers=bearer(specialist)
                         ).get_json()["versions"][0]
    assert version["filename"] == "bao-cao.pdf" and version["source_filename"] == "bao-cao.docx"
    assert "không phải văn bản Word" in resp.get_json()["error"]["message"]


def _last_id(db: Session) -> int:
    return db.scalar(select(func.max(OutgoingDocument.id)))
