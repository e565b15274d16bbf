"""Queries nobody should type, typed anyway: never a crash, a clear message or no results."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.search import SearchError, search
from ioffice.search.text import MAX_QUERY_CHARS

HOSTILE = [
    "", "   ", '"', '""', "'", "''", '"quyet dinh', "NEAR(a b)", "a OR", "OR", "AND", "NOT",
    "a AND NOT b", "*", "a*", "^a", "-a", "+a", "a:b", "meta:quyet", "body : x", "()", "(a",
    "a)", "{a b}", "[a]", "a & b", "!a", "a | b", "a <-> b", "a:*", "'; DROP TABLE search_fts; --",
    "\x00", "a\x00b", "\\", "%", "_", "%_%", "😀 văn bản 🚀", "ﷺ", "\u200b", "\u0301\u0300",
    "٣٤٥", "漢字", "a" * 400, " ".join(["từ"] * 150), " ".join(f"w{i}" for i in range(120)),
    "\n\t\r", "<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_does_not_crash(db: Session, clerk: Actor, query: str) -> None:
    page = search(db, clerk, query)
    assert page.results == [] or all(r.document.agency_id == clerk.agency_id for r in page.results)


def test_syntax_characters_are_plain_words(db: Session, clerk: Actor, make_doc) -> None:
    doc = make_doc(clerk.agency_id, "Chỉ đạo NEAR kênh OR và AND không NOT")
    assert [r.document.id for r in search(db, clerk, 'near OR "and" NOT*').results] == [doc.id]


def test_too_long_query_is_refused_clearly(db: Session, clerk: Actor) -> None:
    search(db, clerk, "x" * MAX_QUERY_CHARS)
    with pytest.raises(SearchError, match="quá dài"):
        search(db, clerk, "x" * (MAX_QUERY_CHARS + 1))


@pytest.mark.parametrize("cursor", ["garbage", "", "W10", "WzEsMi4yXQ", "eyJhIjoxfQ", "WyJ4IiwxXQ",
                                    "WzEsdHJ1ZV0", "WzFlOTk5LDFd", "%%%", "a" * 5000])
def test_bad_cursor(db: Session, clerk: Actor, cursor: str) -> None:
    if cursor == "":
        search(db, clerk, "abc", cursor=cursor)  # empty means the first page
        return
    with pytest.raises(SearchError, match="không hợp lệ"):
        search(db, clerk, "abc", cursor=cursor)


def test_limit_is_clamped(db: Session, clerk: Actor) -> None:
    search(db, clerk, "abc", limit=0)
    search(db, clerk, "abc", limit=10**9)
