"""Saved searches: each user's own, in the agency they were saved in."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.errors import NotFound
from ioffice.search import (
    SearchError,
    delete_saved,
    get_saved,
    list_saved,
    run_saved,
    save_search,
)


def test_save_list_run_delete(db: Session, clerk: Actor, make_doc) -> None:
    doc = make_doc(clerk.agency_id, "Quyết định savedword")
    saved = save_search(db, clerk, "  Quyết  định của tôi ", "quyet dinh savedword")
    assert saved.name == "Quyết định của tôi"
    assert [s.id for s in list_saved(db, clerk)] == [saved.id]
    assert [r.document.id for r in run_saved(db, clerk, saved.id).results] == [doc.id]
    delete_saved(db, clerk, saved.id)
    assert list_saved(db, clerk) == []


def test_only_the_owner(db: Session, clerk: Actor, actor_for) -> None:
    saved = save_search(db, clerk, "Của văn thư", "ke hoach")
    for other in (actor_for("lanhdao.camau"), actor_for("vanthu.uminh")):
        assert list_saved(db, other) == []
        for op in (get_saved, run_saved, delete_saved):
            with pytest.raises(NotFound):
                op(db, other, saved.id)
    assert get_saved(db, clerk, saved.id).id == saved.id


@pytest.mark.parametrize(("name", "query", "message"), [
    ("", "abc", "tên"), ("x" * 121, "abc", "quá dài"), ("Tên", "", "từ khóa"),
    ("Tên", '"*()', "từ khóa"), ("Tên", "x" * 501, "quá dài"),
])
def test_invalid(db: Session, clerk: Actor, name: str, query: str, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        save_search(db, clerk, name, query)


def test_same_name_twice(db: Session, clerk: Actor) -> None:
    save_search(db, clerk, "Trùng", "abc")
    with pytest.raises(SearchError, match="Trùng"):
        save_search(db, clerk, "Trùng", "def")
    assert len(list_saved(db, clerk)) == 1
