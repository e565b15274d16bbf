"""/api/v1 copies (ioffice/api/copy_views.py): the leader decides, the clerk makes the sealed
copy (the `sign` scope), it is read, downloaded and listed; the page's refusals (422 with its
message), roles (403), another agency (404), a replayed Idempotency-Key."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.copies.models import DocumentCopy
from ioffice.storage import BlobStore
from tests.api.conftest import bearer
from tests.api.test_outgoing import token
from tests.outgoing.conftest import new_draft
from tests.support.factories import actor, register, user_id

CLERK, LEADER = "vanthu.camau", "lanhdao.camau"
SIGN = ("read", "write", "sign")


def _copies(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(DocumentCopy))


def test_the_leader_decides_and_the_clerk_makes_the_sealed_copy(
        client: FlaskClient, db: Session, blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    db.commit()
    path = f"/api/v1/documents/{incoming.id}/copies"
    body = {"kind": "sao_y", "recipients": "Sở Nội vụ\nSở Tài chính\n"}
    leader = {**bearer(token(db, LEADER)), "Idempotency-Key": "sao-y-1"}
    resp = client.post(path, headers=leader, json=body)
    assert resp.status_code == 201, resp.get_json()
    copy = resp.get_json()
    assert (copy["status"]["code"], copy["kind"]["label"], copy["source"], copy["document_id"],
            copy["recipients"], copy["file_url"]) == (
        "requested", "Sao y", "incoming", incoming.id, ["Sở Nội vụ", "Sở Tài chính"], None)
    again = client.post(path, headers=leader, json=body)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json()["id"] == copy["id"]
    assert _copies(db) == 1
    clerk = bearer(token(db, CLERK, scopes=SIGN))
    assert client.get(f"{copy['url']}/file", headers=clerk).status_code == 404  # not made yet
    # making it seals it: the `sign` scope, the clerk's role
    resp = client.post(f"{copy['url']}/make", headers=bearer(token(db, CLERK)))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.post(f"{copy['url']}/make", headers=bearer(token(db, LEADER, scopes=SIGN)))
    assert resp.status_code == 403
    resp = client.post(f"{copy['url']}/make", headers=clerk)
    assert resp.status_code == 200, resp.get_json()
    made = resp.get_json()
    assert made["status"]["code"] == "made" and "/SY-" in made["number_notation"]
    assert made["level"] == "B-LTA" and made["file_url"] == f"{copy['url']}/file"
    twice = client.post(f"{copy['url']}/make", headers=clerk).get_json()
    assert twice["number"] == made["number"]  # a second click makes no second copy
    pdf = client.get(made["file_url"], headers=clerk)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.mimetype == "application/pdf"
    assert client.get(copy["url"], headers=clerk).get_json()["sha256"] == made["sha256"]
    listed = client.get("/api/v1/copies", headers=clerk).get_json()
    assert [c["id"] for c in listed["items"]] == [copy["id"]] and listed["next_after"] is None
    tags = dict(db.execute(select(AuditEvent.tag, func.count()).where(
        AuditEvent.tag.like("copies:%")).group_by(AuditEvent.tag)).all())
    assert tags["copies:copy:request"] == 1 and tags["copies:copy:download"] == 1
    assert tags["copies:copy:read"] == 1


def test_refusals_roles_and_another_agency(client: FlaskClient, db: Session,
                                           blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    db.commit()
    path = f"/api/v1/documents/{incoming.id}/copies"
    clerk = bearer(token(db, CLERK, scopes=SIGN))
    body = {"kind": "sao_y", "recipients": "Sở Xây dựng"}
    resp = client.post(path, headers=clerk, json=body)
    assert resp.status_code == 422
    assert "Chưa có quyết định sao của lãnh đạo" in resp.get_json()["error"]["message"]
    leader_id = user_id(db, LEADER)
    resp = client.post(path, headers=clerk, json={**body, "kind": "trich_sao", "pages": "9",
                                                  "decided_by_id": leader_id})
    assert resp.status_code == 422
    assert "Trích sao: trang 9 nằm ngoài văn bản" in resp.get_json()["error"]["message"]
    resp = client.post(path, headers=clerk, json={**body, "kind": "sao_luc",
                                                  "decided_by_id": leader_id})
    assert resp.status_code == 422 and "hãy sao y trước" in resp.get_json()["error"]["message"]
    resp = client.post(path, headers=clerk, json={**body, "kind": "ban_chup"})
    assert resp.status_code == 422 and "kind" in resp.get_json()["error"]["fields"]
    resp = client.post(path, headers=bearer(token(db, "chuyenvien.camau")), json=body)
    assert resp.status_code == 403
    assert _copies(db) == 0
    # the clerk records the leader's decision; another agency sees nothing of it
    copy = client.post(path, headers=clerk, json={**body, "decided_by_id": leader_id}).get_json()
    assert copy["decided_by_id"] == leader_id
    bnv = bearer(token(db, "vanthu.bnv", scopes=SIGN, agency="000.00.00.G09"))
    assert client.post(path, headers=bnv, json=body).status_code == 404
    for method, url in (("GET", copy["url"]), ("POST", f"{copy['url']}/make"),
                        ("GET", f"{copy['url']}/file")):
        assert client.open(url, method=method, headers=bnv).status_code == 404, url
    assert client.get("/api/v1/copies", headers=bnv).get_json()["items"] == []
    assert client.get("/api/v1/copies", headers=clerk,
                      query_string={"year": 1999}).status_code == 422


def test_an_outgoing_draft_is_not_copied(client: FlaskClient, db: Session,
                                         blobs: BlobStore) -> None:
    draft = new_draft(db, blobs)
    db.commit()
    resp = client.post(f"/api/v1/outgoing/{draft.id}/copies", headers=bearer(token(db, LEADER)),
                       json={"kind": "sao_y", "recipients": "Sở Nội vụ"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["message"].startswith(
        "Chỉ sao được văn bản đi đã ký số của cơ quan (bản chính)")
    assert _copies(db) == 0
