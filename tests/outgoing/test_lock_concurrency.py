"""While one clerk's seal is slow, other users are not held up (issue 17): another user's read
and another clerk's numbering of a different document complete at once, on SQLite and
PostgreSQL, because the seal is made with no lock held.

Real transactions on several connections, so a database of its own (a schema on PostgreSQL),
migrated and loaded with the demo province like the run's."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ioffice import migrate
from ioffice.agencies.models import Agency, User
from ioffice.db import make_engine
from ioffice.keys import service as keys
from ioffice.outgoing import issue, numbering, signatures
from ioffice.outgoing.access import get_document
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.storage import BlobStore
from signing import AgencyStamp, Pki
from tests.conftest import _load_demo, reset_schema, with_schema
from tests.outgoing.conftest import CLERK, LEADER, PIN
from tests.outgoing.test_issue import signed
from tests.support.factories import actor

SLOW_SEAL = 3.0
"""Seconds the first clerk's seal is made to take."""
PROMPT = 1.5
"""Seconds the other users' work may take meanwhile (alone: a few hundredths)."""


@pytest.fixture(scope="module")
def own_engine(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Engine]:
    tmp = tmp_path_factory.mktemp("locks")
    url = os.environ.get("IOFFICE_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'locks.db'}"
    schema = f"locks_{os.getpid()}"
    if url.startswith("postgresql"):
        reset_schema(url, schema)
        url = with_schema(url, schema)
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        _load_demo(engine, tmp / "instance", pki)
        yield engine
        engine.dispose()
    finally:
        if schema in url:
            reset_schema(url, schema, drop_only=True)


def test_a_slow_seal_holds_up_no_one(own_engine: Engine, blobs: BlobStore, pki: Pki, tsa,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    trust = pki.trust_store()
    with Session(own_engine, expire_on_commit=False) as s:
        leader = actor(s, LEADER)
        keys.issue_pin_key(s, pki, leader.ctx, s.get(User, leader.user_id),
                           s.get(Agency, leader.agency_id), PIN, key_type="ec")
        slow_id, other_id = signed(s, blobs, trust).id, signed(s, blobs, trust).id
        s.commit()
    sealing, real = threading.Event(), signatures.sign_pdf

    def slow_sign(*args, **kwargs):
        if isinstance(kwargs.get("stamp"), AgencyStamp) and not sealing.is_set():
            sealing.set()
            time.sleep(SLOW_SEAL)
        return real(*args, **kwargs)

    monkeypatch.setattr(signatures, "sign_pdf", slow_sign)
    errors: list[BaseException] = []

    def first_clerk() -> None:
        try:
            with Session(own_engine, expire_on_commit=False) as s:
                issue.issue(s, blobs, pki, trust, actor(s, CLERK), slow_id, tsa=tsa)
                s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=first_clerk)
    thread.start()
    assert sealing.wait(60)
    start = time.monotonic()
    with Session(own_engine) as s:  # another user reads
        assert get_document(s, actor(s, LEADER), other_id).subject
        s.scalars(select(OutgoingDocument.id).limit(20)).all()
        s.commit()
    read = time.monotonic() - start
    start = time.monotonic()
    with Session(own_engine, expire_on_commit=False) as s:  # another clerk numbers another one
        other = numbering.assign_number(s, actor(s, CLERK), other_id)
        s.commit()
    numbered = time.monotonic() - start
    thread.join(120)
    assert not errors, errors
    assert read < PROMPT and numbered < PROMPT, (read, numbered)
    with Session(own_engine) as s:
        slow = s.get(OutgoingDocument, slow_id)
        assert slow.status is OutgoingStatus.DISPATCHED
        assert slow.number == other.number + 1  # the number taken meanwhile was not reused
