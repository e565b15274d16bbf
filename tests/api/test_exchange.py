"""/api/v1/exchange and /api/v1/search: what the exchange page (/lien-thong) and the search page
(/tim-kiem) do, through the same service functions and role rules; and the refusals: another
agency's package (404), a role the table refuses (403), a token without the scope, a package
that cannot be retried or decided on (409, in Vietnamese), a cursor that is not one (422)."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.audit.models import AuditEvent
from ioffice.documents.vocabulary import Confidentiality
from ioffice.exchange.models import (
    ExchangeInbox,
    ExchangeOutbox,
    ExchangeStatus,
    InboxState,
    OutboxState,
)
from ioffice.incoming.models import DocumentStatus, IncomingDocument
from ioffice.storage import BlobStore
from tests.api.conftest import CAMAU, bearer
from tests.api.test_outgoing import token
from tests.outgoing.conftest import new_draft
from tests.support.factories import actor, register

BNV = "000.00.00.G09"
HAGIANG = "000.00.00.H23"
CLERK, LEADER, SPECIALIST = "vanthu.camau", "lanhdao.camau", "chuyenvien.camau"


def _agency_id(db: Session, code: str) -> int:
    return db.scalars(select(Agency.id).where(Agency.code == code)).one()


def _outbox(db: Session, code: str = CAMAU, state: str = OutboxState.DEAD,
            recipients: tuple[str, ...] = (BNV,), identifier: str = f"{CAMAU},2026/12/01,7/UBND"
            ) -> ExchangeOutbox:
    row = ExchangeOutbox(agency_id=_agency_id(db, code), kind="edoc", document_identifier=identifier,
                         recipients=list(recipients), payload={}, state=state, attempts=8,
                         last_error="Trục liên thông không trả lời" if state == "dead" else "")
    db.add(row)
    db.flush()
    return row


def _request(db: Session, target: IncomingDocument | None, code: str = CAMAU,
             state: str = InboxState.AWAITING_DECISION) -> ExchangeInbox:
    row = ExchangeInbox(hub="test", message_id=f"m-{dt.datetime.now().timestamp()}",
                        recipient_organ_id=code, agency_id=_agency_id(db, code),
                        messagetype="edoc", sender_organ_id=BNV, sender_name="Bộ Nội vụ",
                        business_type="revoke", reason="Ban hành nhầm", state=state,
                        document_identifier=f"{BNV},2026/12/01,12/BNV-VP",
                        response_for=f"{BNV},2026/12/01,12/BNV-VP",
                        target_document_id=target.id if target else None)
    db.add(row)
    db.flush()
    return row


def _get(client: FlaskClient, secret: str, path: str, **query):
    return client.get(f"/api/v1{path}", query_string=query, headers=bearer(secret))


def _post(client: FlaskClient, secret: str, path: str, body: dict | None = None):
    return client.post(f"/api/v1{path}", json=body, headers=bearer(secret))


# ----------------------------------------------------------------------------- exchange


def test_packages_out_listed_by_state_read_with_their_recipients_and_retried(
        client: FlaskClient, db: Session) -> None:
    dead = _outbox(db, recipients=(BNV, HAGIANG))
    sent = _outbox(db, state=OutboxState.SENT, identifier=f"{CAMAU},2026/12/02,8/UBND")
    sent.sent_at = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)
    db.add(ExchangeStatus(agency_id=dead.agency_id, document_identifier=dead.document_identifier,
                          organ_id=BNV, code="03", staff="Văn thư Bộ",
                          occurred_at=dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)))
    db.commit()
    clerk = token(db, CLERK)

    resp = _get(client, clerk, "/exchange/outbox", state="dead")
    assert resp.status_code == 200, resp.get_json()
    ids = [i["id"] for i in resp.get_json()["items"]]
    assert dead.id in ids and sent.id not in ids
    assert all(i["state"]["code"] == "dead" and i["retryable"] for i in resp.get_json()["items"])

    one = _get(client, clerk, f"/exchange/outbox/{dead.id}").get_json()
    assert one["state"] == {"code": "dead", "label": "Gửi không thành công"}
    by_organ = {r["organ_id"]: r for r in one["per_recipient"]}
    assert by_organ[BNV]["status"]["code"] == "03" and by_organ[BNV]["staff"] == "Văn thư Bộ"
    assert by_organ[HAGIANG]["status"] is None
    assert {r["delivery"]["code"] for r in one["per_recipient"]} == {"dead"}

    resp = _post(client, clerk, f"/exchange/outbox/{dead.id}/retry")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"]["code"] == "pending" and resp.get_json()["attempts"] == 0
    db.expire_all()
    assert db.get(ExchangeOutbox, dead.id).state == OutboxState.PENDING
    assert db.scalars(select(AuditEvent).where(AuditEvent.tag == "exchange:outbox:retry",
                                               AuditEvent.subject_id == str(dead.id))).one()

    # now pending, and the sent one: neither can be retried (409, said in Vietnamese)
    for row_id, word in ((dead.id, "đang chờ gửi"), (sent.id, "đã được gửi lên trục")):
        resp = _post(client, clerk, f"/exchange/outbox/{row_id}/retry")
        assert resp.status_code == 409, resp.get_json()
        error = resp.get_json()["error"]
        assert error["code"] == "conflict" and word in error["message"]
        assert error["message"].startswith("Chỉ gửi lại được gói tin gửi không thành công")


def test_the_package_lists_page_by_key(client: FlaskClient, db: Session) -> None:
    rows = [_outbox(db, identifier=f"{CAMAU},2026/12/01,{n}/UBND") for n in range(5)]
    db.commit()
    clerk = token(db, CLERK)
    seen, after = [], None
    for _ in range(20):
        page = _get(client, clerk, "/exchange/outbox", limit=2,
                    **({"after": after} if after else {})).get_json()
        seen += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    whole = [i["id"] for i in _get(client, clerk, "/exchange/outbox", limit=200).get_json()["items"]]
    assert seen == whole and seen == sorted(seen, reverse=True)
    assert {r.id for r in rows} <= set(seen)
    for path in ("/exchange/outbox", "/exchange/inbox"):
        for bad in ("x", "-1", "1.5", "9" * 30):
            resp = _get(client, clerk, path, after=bad)
            assert resp.status_code == 422 and "after" in resp.get_json()["error"]["fields"], bad
    assert _get(client, clerk, "/exchange/outbox", state="lost").status_code == 422


def test_a_revoke_request_is_read_and_agreed_then_cannot_be_decided_again(
        client: FlaskClient, db: Session, blobs: BlobStore) -> None:
    copy = register(db, blobs, actor(db, CLERK), subject="Về việc tổ chức hội nghị")
    request = _request(db, copy)
    delivered = _request(db, None, state=InboxState.DELIVERED)
    db.commit()
    clerk = token(db, CLERK)

    listed = _get(client, clerk, "/exchange/inbox", state="awaiting_decision").get_json()["items"]
    assert [i["id"] for i in listed] == [request.id] and listed[0]["awaiting_decision"]
    one = _get(client, clerk, f"/exchange/inbox/{request.id}").get_json()
    assert one["request"].startswith("Bộ Nội vụ đề nghị thu hồi văn bản số")
    assert one["request"].endswith("Ban hành nhầm")

    resp = _post(client, clerk, f"/exchange/inbox/{request.id}/decision", {"agree": False})
    assert resp.status_code == 400 and resp.get_json()["error"]["message"] == "Phải nêu lý do từ chối."
    resp = _post(client, clerk, f"/exchange/inbox/{request.id}/decision", {"agree": True})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"]["code"] == "agreed" and resp.get_json()["decided_at"]
    db.expire_all()
    assert db.get(IncomingDocument, copy.id).status is DocumentStatus.REVOKED
    # the sender is told (status 15), as from the web page
    assert db.scalars(select(ExchangeOutbox).where(
        ExchangeOutbox.kind == "status", ExchangeOutbox.agency_id == request.agency_id,
        ExchangeOutbox.status_code == "15")).first() is not None

    again = _post(client, clerk, f"/exchange/inbox/{request.id}/decision",
                  {"agree": False, "reason": "Đổi ý"})
    assert again.status_code == 409 and again.get_json()["error"]["message"] == (
        "Yêu cầu này đã được xử lý.")
    other = _post(client, clerk, f"/exchange/inbox/{delivered.id}/decision", {"agree": True})
    assert other.status_code == 409 and other.get_json()["error"]["message"] == (
        "Gói tin này không phải yêu cầu chờ quyết định.")


def test_another_agencys_packages_answer_404(client: FlaskClient, db: Session) -> None:
    theirs_out = _outbox(db, code=BNV, identifier=f"{BNV},2026/12/01,1/BNV")
    theirs_in = _request(db, None, code=BNV)
    db.commit()
    clerk = token(db, CLERK)
    for resp in (_get(client, clerk, f"/exchange/outbox/{theirs_out.id}"),
                 _post(client, clerk, f"/exchange/outbox/{theirs_out.id}/retry"),
                 _get(client, clerk, f"/exchange/inbox/{theirs_in.id}"),
                 _post(client, clerk, f"/exchange/inbox/{theirs_in.id}/decision", {"agree": True})):
        assert resp.status_code == 404, resp.get_json()
        assert resp.get_json()["error"]["message"] in ("Không tìm thấy gói tin.",
                                                       "Không tìm thấy yêu cầu.")
    mine = {i["id"] for i in _get(client, clerk, "/exchange/outbox", limit=200).get_json()["items"]}
    assert theirs_out.id not in mine
    db.expire_all()
    assert db.get(ExchangeOutbox, theirs_out.id).state == OutboxState.DEAD


def test_roles_and_scopes(client: FlaskClient, db: Session) -> None:
    dead = _outbox(db)
    request = _request(db, None)
    db.commit()
    # the leader sees the exchange but neither retries nor decides (the clerk's acts)
    leader = token(db, LEADER)
    assert _get(client, leader, "/exchange/outbox").status_code == 200
    assert _get(client, leader, f"/exchange/inbox/{request.id}").status_code == 200
    for resp in (_post(client, leader, f"/exchange/outbox/{dead.id}/retry"),
                 _post(client, leader, f"/exchange/inbox/{request.id}/decision", {"agree": True})):
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    # a specialist does not see it at all
    specialist = token(db, SPECIALIST)
    for path in ("/exchange/outbox", "/exchange/inbox", f"/exchange/outbox/{dead.id}"):
        assert _get(client, specialist, path).status_code == 403
    # a read-only token of the clerk lists but does not retry; a write-only one does not list
    reader = token(db, CLERK, scopes=("read",))
    assert _get(client, reader, "/exchange/outbox").status_code == 200
    resp = _post(client, reader, f"/exchange/outbox/{dead.id}/retry")
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    writer = token(db, CLERK, scopes=("write",))
    resp = _get(client, writer, "/exchange/outbox")
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    assert _get(client, writer, "/search", q="hội nghị").status_code == 403
    db.expire_all()
    assert db.get(ExchangeOutbox, dead.id).state == OutboxState.DEAD
    assert db.get(ExchangeInbox, request.id).state == InboxState.AWAITING_DECISION


# ----------------------------------------------------------------------------- search


def test_search_both_directions_without_diacritics_and_as_the_page_shows(
        client: FlaskClient, db: Session, blobs: BlobStore, login_as) -> None:
    clerk_actor = actor(db, CLERK)
    plain = register(db, blobs, clerk_actor, subject="Về việc phòng chống bão Khánh Hòa")
    secret_doc = register(db, blobs, clerk_actor, subject="Kế hoạch mật phòng chống bão Khánh Hòa",
                          confidentiality=Confidentiality.SECRET)
    draft = new_draft(db, blobs, subject="Báo cáo phòng chống bão Khánh Hòa")
    db.commit()

    def hits(secret: str, **query) -> set[tuple[str, int]]:
        resp = _get(client, secret, "/search", q="phong chong bao khanh hoa", limit=100, **query)
        assert resp.status_code == 200, resp.get_json()
        return {(h["direction"], h["id"]) for h in resp.get_json()["items"]}

    clerk = token(db, CLERK)
    everything = {("incoming", plain.id), ("incoming", secret_doc.id), ("outgoing", draft.id)}
    assert hits(clerk) == everything
    assert hits(clerk, direction="incoming") == everything - {("outgoing", draft.id)}
    assert hits(clerk, direction="outgoing") == {("outgoing", draft.id)}
    assert hits(clerk, status="di:draft") == {("outgoing", draft.id)}
    first = _get(client, clerk, "/search", q="KHÁNH HÒA", direction="outgoing").get_json()
    assert first["items"][0]["outgoing"]["subject"] == "Báo cáo phòng chống bão Khánh Hòa"
    assert first["items"][0]["incoming"] is None and first["terms"] == ["khanh", "hoa"]

    # the specialist (the drafter) finds the draft and the ordinary document, not the secret
    # one they were not given: what the search page shows them
    specialist = token(db, SPECIALIST)
    assert hits(specialist) == {("incoming", plain.id), ("outgoing", draft.id)}
    html = login_as(SPECIALIST).get("/tim-kiem", query_string={"q": "phong chong bao khanh hoa"}
                                    ).get_data(as_text=True)
    assert f'href="/van-ban-den/{plain.id}"' in html and f'href="/van-ban-di/{draft.id}"' in html
    assert f'href="/van-ban-den/{secret_doc.id}"' not in html


def test_search_pages_by_key_and_refuses_bad_input(client: FlaskClient, db: Session,
                                                   blobs: BlobStore) -> None:
    clerk_actor = actor(db, CLERK)
    docs = {register(db, blobs, clerk_actor, subject=f"Thông báo lịch tiếp dân đợt {n}").id
            for n in range(5)}
    db.commit()
    clerk = token(db, CLERK)
    seen, after = [], None
    for _ in range(20):
        page = _get(client, clerk, "/search", q="lich tiep dan", limit=2,
                    **({"after": after} if after else {})).get_json()
        seen += [h["id"] for h in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert sorted(seen) == sorted(docs)
    for query, field in (({"q": "x", "after": "không-phải"}, "after"),
                         ({"q": "x", "direction": "sideways"}, "direction"),
                         ({"q": "x", "status": "den:lost"}, "status"),
                         ({"q": "x" * 1000}, "q"), ({}, "q")):
        resp = _get(client, clerk, "/search", **query)
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], query
    assert _get(client, clerk, "/search", q="   ").get_json()["items"] == []
