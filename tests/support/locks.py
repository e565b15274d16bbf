"""Is slow work (signing, conversion, rendering, HTTP) ever called while a transaction holds a
write or a row lock? :class:`LockWatch` records it for the flows the tests drive.

A transaction "holds a lock" from its first ``INSERT``/``UPDATE``/``DELETE``, ``SELECT ... FOR
UPDATE`` (seen in the ORM statement too: SQLite's SQL drops the clause, its write lock being
whole-database) or SQLite ``BEGIN IMMEDIATE`` until the session's top-level transaction ends (in the
test fixtures that is a savepoint of the outer, rolled-back transaction; in production the real
COMMIT or ROLLBACK). Each watched function records, when called, whether a lock was held.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|BEGIN\s+IMMEDIATE)\b|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b",
                   re.IGNORECASE)


@dataclass
class LockWatch:
    held_since: str | None = None
    """The statement that took the lock now held, if any."""
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    """(watched function, the statement whose lock was held when it was called, or None)."""

    def under_lock(self) -> list[tuple[str, str | None]]:
        return [c for c in self.calls if c[1] is not None]

    def called(self) -> set[str]:
        return {name for name, _ in self.calls}


@contextmanager
def lock_watch(engine: Engine, monkeypatch: pytest.MonkeyPatch,
               targets: dict[str, tuple[Any, str]]) -> Iterator[LockWatch]:
    """Watch ``targets`` (a name for each ``(object, attribute)`` to wrap) while the block runs."""
    watch = LockWatch()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if watch.held_since is None and WRITE.search(statement):
            watch.held_since = " ".join(statement.split())[:120]

    def orm(state: Any) -> None:  # SQLite drops FOR UPDATE from the SQL: see it in the ORM
        if (watch.held_since is None and state.is_select
                and getattr(state.statement, "_for_update_arg", None) is not None):
            watch.held_since = "SELECT ... FOR UPDATE"

    def ended(_session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the session's own outermost transaction
            watch.held_since = None

    for name, (owner, attribute) in targets.items():
        monkeypatch.setattr(owner, attribute, _recording(watch, name, getattr(owner, attribute)))
    event.listen(engine, "before_cursor_execute", before)
    event.listen(Session, "after_transaction_end", ended)
    event.listen(Session, "do_orm_execute", orm)
    try:
        yield watch
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(Session, "after_transaction_end", ended)
        event.remove(Session, "do_orm_execute", orm)


def _recording(watch: LockWatch, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        watch.calls.append((name, watch.held_since))
        return function(*args, **kwargs)
    return wrapper
