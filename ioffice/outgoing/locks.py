"""Slow work (signing, conversion, checking PDFs, storing blobs) runs with no lock held.

The services read what they need, then do the slow part, then take their locks and write in a
short step the caller commits at once. On PostgreSQL reads take no lock, so that order is
enough. On SQLite every transaction takes the database's one write lock when it begins
(``BEGIN IMMEDIATE``, :mod:`ioffice.db`), reads included: the read transaction must end before
the slow part, which :func:`end_reads` does.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def end_reads(session: Session) -> None:
    """End the session's transaction before slow work if it only read (on SQLite, where a
    transaction holds the write lock from its start). Loaded objects stay usable
    (``expire_on_commit=False``); the services re-read what they lock afterwards.

    Nothing is ended when the caller holds a savepoint (its own unit of work, e.g. one
    document of a batch) or has unflushed changes: the services call this first, before they
    write anything."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return
    if session.in_nested_transaction() or session.new or session.dirty or session.deleted:
        return
    session.commit()
