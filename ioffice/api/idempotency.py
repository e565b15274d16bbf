"""Idempotency keys: a creating POST retried with the same ``Idempotency-Key`` gets the first
answer again and creates nothing; the same key with another request is refused (409).

The key is the client's (a UUID per logical request is usual), scoped to the token that sent it.
Only a successful answer is kept, in the same transaction as what it created: a request that
failed left nothing behind and may be sent again with the same key. Two requests with the
same key at the same moment: the second's insert meets the unique constraint, rolls back
everything it did, and answers as a retry of the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ioffice.api.models import IdempotencyKey
from ioffice.db import utcnow
from ioffice.errors import DomainError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: Kept this long; a retry after that creates again (clients retry within minutes).
RETENTION = dt.timedelta(days=7)


class KeyReused(DomainError):
    """The key was used before with a different request."""

    status_code = 409


class BadKey(DomainError):
    status_code = 422


@dataclass(frozen=True)
class Stored:
    status: int
    body: Any


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise BadKey(f"Tiêu đề {HEADER} phải là chuỗi ASCII in được, 1 đến {MAX_KEY_LENGTH} ký "
                     "tự (ví dụ một UUID).")
    return key


def request_hash(method: str, path: str, body: Any) -> str:
    """``body``: the request in a canonical, JSON-able form (parsed JSON, or form fields and
    files' digests): the same request sent again, whatever its formatting, hashes alike."""
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lookup(session: Session, token_id: int, key: str, digest: str) -> Stored | None:
    """The first answer for this key, or None (a new key); :class:`KeyReused` for another
    request under the same key."""
    row = session.scalars(select(IdempotencyKey).where(
        IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)).one_or_none()
    if row is None:
        return None
    if row.request_hash != digest:
        raise KeyReused(f"Khóa {HEADER} «{key[:60]}» đã được dùng cho một yêu cầu khác; mỗi "
                        "yêu cầu mới cần một khóa mới.")
    return Stored(row.status, json.loads(row.response))


def remember(session: Session, token_id: int, key: str, digest: str, status: int,
             body: Any) -> None:
    session.add(IdempotencyKey(token_id=token_id, key=key, request_hash=digest, status=status,
                               response=json.dumps(body, ensure_ascii=False)))
    session.flush()


def purge(session: Session, *, now: dt.datetime | None = None) -> int:
    """Forget keys older than :data:`RETENTION`; returns how many."""
    cutoff = (now or utcnow()) - RETENTION
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount or 0


#: How often the worker forgets old keys (``PERIODIC_JOBS`` in ioffice/exchange/worker.py).
PURGE_SECONDS = 3600


def purge_job(rt: Any) -> int:
    """The worker's job: :func:`purge` in its own transaction."""
    with rt.session_factory() as session:
        removed = purge(session)
        session.commit()
    return removed
