"""The outgoing page's lists are one statement each, with the rules in SQL: checked against the
Python rules (``queries.awaits``, ``access.can_read``) for every member of the agency over a
mix of statuses, review steps, urgencies, assigned reviewers and confidentialities; and the
page costs as many statements with one document as with many."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership
from ioffice.documents.vocabulary import Confidentiality, Urgency
from ioffice.outgoing import access, queries
from ioffice.outgoing.errors import InvalidInput
from ioffice.outgoing.models import (
    OutgoingComment,
    OutgoingDocument,
    OutgoingRecipient,
    OutgoingStatus,
    RecipientKind,
)
from tests.outgoing.conftest import CLERK, HEAD, LEADER, SPECIALIST
from tests.support.factories import actor, department, user_id
from tests.support.statements import page_statements


def _everyone(db: Session, agency_id: int) -> list[Actor]:
    return [Actor.of(m) for m in db.scalars(select(Membership).where(
        Membership.agency_id == agency_id).order_by(Membership.id))]


def _seed(db: Session, n: int, seed: int = 17) -> list[OutgoingDocument]:
    """``n`` documents of the Cà Mau agency in every status, at every review step, some given
    to one reviewer, some confidential, some addressed to a department, some with a step
    taken by a department head."""
    rng = random.Random(seed)
    specialist = actor(db, SPECIALIST)
    people = [user_id(db, u) for u in (SPECIALIST, HEAD, CLERK, LEADER)]
    units = [department(db, specialist, s).id for s in ("KT", "VP", "TTTT")] + [None]
    docs = []
    for i, status in zip(range(n), itertools.cycle(OutgoingStatus)):
        doc = OutgoingDocument(
            agency_id=specialist.agency_id, status=status, doc_type="cong_van",
            subject=f"Công văn thử danh sách số {i}", created_by_id=rng.choice(people),
            signer_id=rng.choice(people), drafting_department_id=rng.choice(units),
            review_step=rng.randint(0, 3), urgency=rng.choice(list(Urgency)),
            confidentiality=rng.choice((Confidentiality.NORMAL, Confidentiality.NORMAL,
                                        Confidentiality.CONFIDENTIAL)),
            assigned_reviewer_id=rng.choice(people) if rng.random() < 0.2 else None,
            dispatched_at=(dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i % 7)
                           if status is OutgoingStatus.DISPATCHED else None))
        if rng.random() < 0.3 and (unit := rng.choice(units)) is not None:
            doc.recipients.append(OutgoingRecipient(kind=RecipientKind.DEPARTMENT,
                                                    department_id=unit, name="Phòng"))
        if rng.random() < 0.2:
            doc.comments.append(OutgoingComment(author_id=user_id(db, HEAD),
                                                kind=rng.choice(("approve", "comment"))))
        db.add(doc)
        docs.append(doc)
    db.flush()
    return docs


def _python_to_act(db: Session, who: Actor, docs: list[OutgoingDocument]) -> list[int]:
    ranked = sorted(docs, key=lambda d: (d.urgency.rank, d.id), reverse=True)
    return [d.id for d in ranked if queries.awaits(db, who, d)]


def _python_recent(db: Session, who: Actor, docs: list[OutgoingDocument]) -> list[int]:
    sent = [d for d in docs if d.status is OutgoingStatus.DISPATCHED]
    ranked = sorted(sent, key=lambda d: (d.dispatched_at, d.id), reverse=True)
    return [d.id for d in ranked if access.can_read(db, who, d)]


def _mine(db: Session, who: Actor, docs: list[OutgoingDocument]) -> list[int]:
    return [d.id for d in sorted(docs, key=lambda d: d.id, reverse=True)
            if who.user_id in (d.created_by_id, d.signer_id)]


def _all_pages(fetch, limit: int) -> list[int]:
    ids, after = [], None
    while True:
        rows, after = fetch(after=after, limit=limit)
        ids += [r.id for r in rows]
        if after is None:
            return ids


def test_the_sql_lists_are_the_python_rules_for_every_member(db: Session) -> None:
    docs = _seed(db, 90)
    first = {d.id for d in docs}
    for who in _everyone(db, docs[0].agency_id):
        listing = queries.listing(db, who)
        # only the seeded documents: the demo's own are left out of the comparison
        assert [r.id for r in listing.to_act if r.id in first] == _python_to_act(db, who, docs), who
        assert [r.id for r in listing.mine if r.id in first] == _mine(db, who, docs), who
        assert [r.id for r in listing.recent if r.id in first] == _python_recent(db, who, docs), who


def test_each_list_pages_by_key_without_losing_or_repeating_a_document(db: Session) -> None:
    docs = _seed(db, 60, seed=3)
    first = {d.id for d in docs}
    for username in (LEADER, CLERK, HEAD, SPECIALIST):
        who = actor(db, username)
        for fetch, expected in ((queries.to_act, _python_to_act(db, who, docs)),
                                (queries.mine, _mine(db, who, docs)),
                                (queries.recent, _python_recent(db, who, docs))):
            got = _all_pages(lambda fetch=fetch, who=who, **kw: fetch(db, who, **kw), 4)
            assert [i for i in got if i in first] == expected, username


@pytest.mark.parametrize("cursor", ["x", "urgent_", "loud_5", "urgent_-1", "9" * 30])
def test_a_bad_cursor_is_refused(db: Session, cursor: str) -> None:
    who = actor(db, LEADER)
    with pytest.raises(InvalidInput):
        queries.to_act(db, who, after=cursor)
    if "_" not in cursor:
        with pytest.raises(InvalidInput):
            queries.mine(db, who, after=cursor)


def test_the_page_shows_the_lists_with_their_next_page(db: Session, client: FlaskClient,
                                                       login_as) -> None:
    _seed(db, 40)
    db.flush()
    login_as(LEADER)
    who = actor(db, LEADER)
    rows, after = queries.to_act(db, who, limit=3)
    page = client.get("/van-ban-di/").get_data(as_text=True)
    assert all(f"/van-ban-di/{r.id}\"" in page for r in rows)
    assert rows[0].signer_name in page
    second = client.get(f"/van-ban-di/?sau_cho_xu_ly={after}")
    assert second.status_code == 200
    assert f"/van-ban-di/{rows[0].id}\"" not in second.get_data(as_text=True).split(
        'id="mine"')[0]
    assert client.get("/van-ban-di/?sau_cho_xu_ly=zz_1").status_code == 422


@pytest.mark.parametrize("username", [LEADER, CLERK, SPECIALIST])
def test_the_page_costs_the_same_statements_for_one_document_or_many(
        db: Session, client: FlaskClient, login_as, username: str) -> None:
    login_as(username)
    _seed(db, 1, seed=5)
    db.flush()
    client.get("/van-ban-di/")  # warm: what a first request of a worker loads once
    few = page_statements(db, client, "/van-ban-di/")
    _seed(db, 60, seed=6)
    db.flush()
    many = page_statements(db, client, "/van-ban-di/")
    assert len(many) == len(few), (few, many)


def test_the_most_urgent_come_first(db: Session) -> None:
    """Hỏa tốc, thượng khẩn, khẩn, thường: the urgency's rank, not its value's text (which
    put «flash» after «normal»)."""
    docs = _seed(db, 40, seed=5)
    first = {d.id for d in docs}
    leader = actor(db, LEADER)
    listed = [r for r in queries.listing(db, leader).to_act if r.id in first]
    ranks = [r.urgency.rank for r in listed]
    assert ranks == sorted(ranks, reverse=True) and Urgency.FLASH.rank in ranks
    assert listed[0].urgency is Urgency.FLASH
