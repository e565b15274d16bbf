"""Paging by key on the lists that had only a bounded page: the leader's queue to distribute,
the clerk's queue to register (same statement), and the follow-up list. Walking the pages
with `next_after` sees every item once, in the list's order; a bad cursor names `after`."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.documents.vocabulary import Urgency
from ioffice.incoming import handling
from ioffice.incoming.registration import today_vn
from ioffice.storage import BlobStore
from tests.api.conftest import bearer
from tests.support.factories import actor, department, register


def _walk(client: FlaskClient, token: str, path: str) -> list[int]:
    seen, after = [], None
    for _ in range(20):
        query = {"limit": 1} | ({"after": after} if after else {})
        page = client.get(path, query_string=query, headers=bearer(token)).get_json()
        seen += [item["id"] for item in page["items"]]
        after = page["next_after"]
        if after is None:
            return seen
    raise AssertionError("the pages did not end")


def test_the_queue_to_distribute_pages_by_key(client: FlaskClient, db: Session, blobs: BlobStore,
                                              token_for) -> None:
    clerk = actor(db, "vanthu.camau")
    docs = [register(db, blobs, clerk, urgency=u) for u in
            (Urgency.NORMAL, Urgency.FLASH, Urgency.URGENT, Urgency.NORMAL)]
    db.commit()
    leader = token_for("lanhdao.camau")
    whole = client.get("/api/v1/queues/to-distribute", query_string={"limit": 200},
                       headers=bearer(leader)).get_json()["items"]
    ids = [d["id"] for d in whole]
    assert _walk(client, leader, "/api/v1/queues/to-distribute") == ids
    assert ids.index(docs[1].id) < ids.index(docs[2].id) < ids.index(docs[0].id) < ids.index(
        docs[3].id)
    for bad in ("x", "flash_2026-01-01_0", "normal_yesterday_5", "normal_2026-01-01T00:00:00_5"):
        resp = client.get("/api/v1/queues/to-distribute", query_string={"after": bad},
                          headers=bearer(leader))
        assert resp.status_code == 422 and "after" in resp.get_json()["error"]["fields"], bad


def test_the_follow_up_list_pages_by_key(client: FlaskClient, db: Session, blobs: BlobStore,
                                         token_for) -> None:
    clerk, leader = actor(db, "vanthu.camau"), actor(db, "lanhdao.camau")
    unit = department(db, clerk, "TTTT").id
    for days in (9, 3, None, 3):
        doc = register(db, blobs, clerk)
        deadline = today_vn() + dt.timedelta(days=days) if days else None
        handling.distribute(db, leader, doc.id, handling.DistributionInput(
            lead=handling.Target("department", unit, deadline=deadline)))
    db.commit()
    token = token_for("lanhdao.camau")
    whole = client.get("/api/v1/follow-up", query_string={"limit": 500},
                       headers=bearer(token)).get_json()["items"]
    assert len(whole) >= 4
    assert _walk(client, token, "/api/v1/follow-up") == [a["id"] for a in whole]
