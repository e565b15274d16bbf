"""Uploads held between a refused form and its next submission.

When a form with a file is refused (a missing field, a suspected duplicate, a deadline before
the document date), the file is kept in the blob store under an unguessable token so that the
user need not choose it again: the form carries the token back in a hidden field. A held file
belongs to the user and the agency that uploaded it (a token given by anyone else is unknown),
and expires after :data:`DEFAULT_TTL`; ``flask maintenance cleanup`` removes expired ones.

Each held file is two named blobs: ``held/<token>/file`` (the bytes) and ``held/<token>/meta.json``
(who, when, the file name, its page count).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

from ioffice.storage import BlobNotFound, BlobStore, StoredItem

__all__ = ["DEFAULT_TTL", "PREFIX", "HeldFile", "expired", "hold", "release", "take"]

PREFIX = "held/"
DEFAULT_TTL = dt.timedelta(hours=4)
_TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class HeldFile:
    """A file kept for a form that was refused."""

    token: str
    """32 hex digits (128 random bits); the form's hidden field carries it."""
    filename: str
    """The name the user's file had."""
    size: int
    page_count: int | None
    """Pages of a PDF; None for another type (a DOCX draft) or an unreadable PDF."""


def hold(blobs: BlobStore, *, user_id: int, agency_id: int, filename: str, data: bytes,
         now: dt.datetime, page_count: int | None = None) -> HeldFile:
    token = secrets.token_hex(16)
    blobs.put_named(f"{PREFIX}{token}/file", data)
    meta = {"user_id": user_id, "agency_id": agency_id, "filename": filename, "size": len(data),
            "page_count": page_count, "held_at": now.isoformat()}
    blobs.put_named(f"{PREFIX}{token}/meta.json", json.dumps(meta).encode())
    return HeldFile(token, filename, len(data), page_count)


def take(blobs: BlobStore, token: str, *, user_id: int, agency_id: int, now: dt.datetime,
         ttl: dt.timedelta = DEFAULT_TTL) -> tuple[HeldFile, bytes] | None:
    """The held file and its bytes, or None when the token is unknown, expired, or belongs to
    another user or agency (all look the same to the caller)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    try:
        meta = json.loads(blobs.get_named(f"{PREFIX}{token}/meta.json"))
        held_at = dt.datetime.fromisoformat(meta["held_at"])
        if (meta["user_id"], meta["agency_id"]) != (user_id, agency_id) or now - held_at > ttl:
            return None
        data = blobs.get_named(f"{PREFIX}{token}/file")
    except (BlobNotFound, ValueError, KeyError, TypeError):
        return None
    return HeldFile(token, str(meta["filename"]), len(data), meta.get("page_count")), data


def release(blobs: BlobStore, token: str) -> None:
    """Forget a held file once the form that needed it succeeded."""
    if _TOKEN.fullmatch(token or ""):
        blobs.delete_named(f"{PREFIX}{token}/file")
        blobs.delete_named(f"{PREFIX}{token}/meta.json")


def expired(blobs: BlobStore, *, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL
            ) -> list[StoredItem]:
    """The named blobs of held files older than ``ttl`` (by the store's modification time)."""
    return [i for i in blobs.list_named(PREFIX) if now - i.modified > ttl]
