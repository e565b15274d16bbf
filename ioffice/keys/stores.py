"""Database-backed stores for the signing library's two-phase and PIN flows.

Both work in the caller's session, so they share its transaction: a service that fails after
touching them (a wrong PIN, a used-up signing session) must still commit, or the count / the
single use would roll back with it. ``ioffice.outgoing`` does this through
``errors.PersistedFailure``.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.db import utcnow
from ioffice.keys.models import PendingSignature, PinAttempt


class DbPendingStore:
    """``signing.PendingStore`` in the ``signing_pending`` table; ``take`` is one DELETE ...
    RETURNING, so two concurrent calls for one handle get the record once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, handle: str, record: bytes, document: bytes, expires_at: float) -> None:
        self.session.add(PendingSignature(handle=handle, record=record, document=document,
                                          expires_at=expires_at))
        self.session.flush()

    def take(self, handle: str) -> tuple[bytes, bytes, float] | None:
        row = self.session.execute(
            delete(PendingSignature).where(PendingSignature.handle == handle)
            .returning(PendingSignature.record, PendingSignature.document,
                       PendingSignature.expires_at)).first()
        if row is None:
            return None
        return bytes(row[0]), bytes(row[1]), float(row[2])

    def purge_expired(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        result = self.session.execute(
            delete(PendingSignature).where(PendingSignature.expires_at < now))
        return result.rowcount or 0


class DbAttemptStore:
    """``signing.AttemptStore`` in the ``signing_pin_attempts`` table (row-locked increment)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def failures(self, key_id: str) -> int:
        return self.session.scalar(
            select(PinAttempt.failures).where(PinAttempt.key_id == key_id)) or 0

    def record_failure(self, key_id: str) -> int:
        stmt = (update(PinAttempt).where(PinAttempt.key_id == key_id)
                .values(failures=PinAttempt.failures + 1, updated_at=utcnow())
                .returning(PinAttempt.failures))
        count = self.session.execute(stmt).scalar_one_or_none()
        if count is not None:
            return count
        try:
            with self.session.begin_nested():
                self.session.add(PinAttempt(key_id=key_id, failures=1))
            return 1
        except IntegrityError:  # another process counted the first failure at the same time
            return self.session.execute(stmt).scalar_one()

    def reset(self, key_id: str) -> None:
        self.session.execute(delete(PinAttempt).where(PinAttempt.key_id == key_id))
