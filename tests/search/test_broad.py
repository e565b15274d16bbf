"""A query matching more documents than can be ranked within a page's time: the newest matches
are listed first (docs/search.md, "Too many matches to rank"), on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.audit.models import AuditEvent
from ioffice.documents.vocabulary import Confidentiality
from ioffice.incoming.models import DocumentStatus, IncomingDocument, Source
from ioffice.search import service
from ioffice.search.models import SearchEntry
from ioffice.search.service import search

BROAD = 6_000
"""Matches of the broad word: ranking them takes tens of milliseconds on either engine, far
over the 1 ms budget the tests give, while the newest of them are found at once."""


def bulk(db: Session, agency_id: int, n: int, word: str) -> list[int]:
    """``n`` registered documents whose subject holds ``word``, indexed, in a few statements."""
    rows = [{"agency_id": agency_id, "status": DocumentStatus.REGISTERED, "source": Source.PAPER,
             "issuer_name": "Sở Xây dựng", "number": str(i), "notation": "SXD-QLN",
             "number_notation": f"{i}/SXD-QLN", "document_date": dt.date(2025, 4, 1),
             "doc_type": "cong_van", "subject": f"Về việc {word} đợt {i}",
             "confidentiality": Confidentiality.NORMAL} for i in range(n)]
    table = IncomingDocument.__table__
    db.execute(insert(table), rows)
    ids = list(db.scalars(select(IncomingDocument.id).where(
        IncomingDocument.agency_id == agency_id, IncomingDocument.subject.like(f"% {word} %"))
        .order_by(IncomingDocument.id)))
    entries = [{"id": doc_id, "agency_id": agency_id, "meta": f"ve viec {word} dot {i}",
                "body": "", "confidential": False, "doc_type": "cong_van",
                "document_date": dt.date(2025, 4, 1), "agency": service.agency_lexeme(agency_id)}
               for i, doc_id in enumerate(ids)]
    if db.get_bind().dialect.name == "postgresql":
        db.execute(service._INSERT_ENTRY, entries)
    else:  # the triggers feed FTS5
        db.execute(insert(SearchEntry.__table__), [
            {"document_id": e["id"], "agency_id": agency_id, "meta": e["meta"], "body": "",
             "confidential": False, "doc_type": "cong_van", "document_date": e["document_date"]}
            for e in entries])
    return ids


@pytest.fixture
def broad(db: Session, clerk: Actor) -> list[int]:
    return bulk(db, clerk.agency_id, BROAD, "rongkhap")


def ids(page) -> list[int]:
    return [r.document.id for r in page.results]


def test_too_many_to_rank_in_time_lists_the_newest_first_and_pages_on(
        db: Session, clerk: Actor, actor_for, make_doc, broad: list[int]) -> None:
    newest = sorted(broad, reverse=True)
    first = search(db, clerk, "rongkhap", rank_budget_ms=1)
    assert first.newest_first
    assert ids(first) == newest[:20]
    assert {r.score for r in first.results} == {service.NEWEST_FIRST}
    # the next pages follow the same order without ranking again (the cursor says so)
    second = search(db, clerk, "rongkhap", cursor=first.next_cursor, rank_budget_ms=10_000)
    assert second.newest_first and ids(second) == newest[20:40]
    # the transaction went on after the cancelled ranking: the search was audited
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "search:query:run")
                       .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.details["newest_first"] is True

    # a narrow query in the same register is ranked as always, within the usual budget
    low = make_doc(clerk.agency_id, "Báo cáo tháng", "có nhắc đến hẹpkhớp một lần")
    high = make_doc(clerk.agency_id, "Kế hoạch hẹpkhớp hẹpkhớp")
    page = search(db, clerk, "hepkhop")
    assert not page.newest_first and ids(page) == [high.id, low.id]

    # the newest-first order keeps the read rule and the agency's walls
    secret = make_doc(clerk.agency_id, "Phương án mật rongkhap",
                      confidentiality=Confidentiality.SECRET)
    assert ids(search(db, clerk, "rongkhap", rank_budget_ms=1))[0] == secret.id
    specialist = search(db, actor_for("chuyenvien.camau"), "rongkhap", rank_budget_ms=1)
    assert specialist.newest_first and ids(specialist) == newest[:20]
    assert search(db, actor_for("vanthu.uminh"), "rongkhap", rank_budget_ms=1).results == []


def test_the_search_page_says_why_the_order_changed(db: Session, clerk: Actor, broad: list[int],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    login_as) -> None:
    monkeypatch.setattr(service, "RANK_BUDGET_MS", 1)
    client = login_as("vanthu.camau")
    page = client.get("/tim-kiem?q=rongkhap")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-order="newest"' in html and "văn bản mới nhất được liệt kê trước" in html
    assert f'href="/van-ban-den/{max(broad)}"' in html


def test_postgresql_searches_without_jit_so_the_budget_holds(db: Session, clerk: Actor,
                                                             make_doc) -> None:
    """Compiling a plan (JIT) cannot be interrupted by ``statement_timeout``: over a million
    entries it took longer than the whole ranking budget. The search turns it off for its
    transaction, whatever the server's settings, first page and next alike."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    db.execute(text("SET LOCAL jit = on"))
    db.execute(text("SET LOCAL jit_above_cost = 0"))  # any plan would be compiled
    docs = [make_doc(clerk.agency_id, f"Kế hoạch biênjit số {i}") for i in range(3)]
    first = search(db, clerk, "bienjit", limit=2)
    assert db.execute(text("SHOW jit")).scalar_one() == "off"
    assert ids(first) == [d.id for d in docs[::-1][:2]] and first.next_cursor
    db.execute(text("SET LOCAL jit = on"))
    assert ids(search(db, clerk, "bienjit", cursor=first.next_cursor)) == [docs[0].id]
    assert db.execute(text("SHOW jit")).scalar_one() == "off"
