"""The hub's directory (connected systems and agencies) cached per process.

Every request needs it — who is calling and with what secret, which system serves the sender
and each recipient, which seal certificate is trusted for the sender — and it changes rarely
(``registerAgency``, a system connected or given a callback URL). Loading it row by row cost
up to a dozen queries per ``sendEdoc``; now a request reads one integer, the directory's
version, and reloads the whole directory only when another transaction changed it.

Every write to ``axis_systems`` or ``axis_agencies`` goes through :func:`bump` in the same
transaction (the service functions do it), so a process never uses a directory older than
the last committed change it can see: the check is exact, not a time-to-live.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import upsert_insert
from .models import Agency, DirectoryVersion, System

__all__ = ["AgencyEntry", "Directory", "DirectoryCache", "SystemEntry", "bump"]


@dataclass(frozen=True, slots=True)
class SystemEntry:
    """A connected system as the request handlers need it (read-only)."""

    id: str
    name: str
    secret: str
    is_admin: bool
    patterns: tuple[str, ...]
    callback_url: str | None
    grants: tuple[str, ...] = ()
    """The codes it may register (``add-system --may-register``)."""
    base_url: str | None = None
    """Its own address: callbacks only under it."""

    def serves_pattern(self, organ_id: str) -> bool:
        return _matches(organ_id, self.patterns)

    def may_register(self, organ_id: str) -> bool:
        return _matches(organ_id, self.grants)


def _matches(organ_id: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(organ_id, p) for p in patterns)


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    organ_id: str
    system_id: str
    certificate: x509.Certificate | None
    """The seal certificate registered for it, parsed once per load."""


@dataclass(frozen=True)
class Directory:
    version: int
    systems: dict[str, SystemEntry] = field(default_factory=dict)
    agencies: dict[str, AgencyEntry] = field(default_factory=dict)
    by_pattern: tuple[SystemEntry, ...] = ()
    """The systems serving agencies by pattern, by id: the fallback of :meth:`system_serving`."""

    def system_serving(self, organ_id: str) -> SystemEntry | None:
        """The system that receives for an agency: its registration, else a system's pattern
        (the first by id, as before)."""
        agency = self.agencies.get(organ_id)
        if agency is not None:
            return self.systems.get(agency.system_id)
        return next((s for s in self.by_pattern if s.serves_pattern(organ_id)), None)

    def pattern_systems(self, organ_id: str) -> list[SystemEntry]:
        """Every system that reaches this code by one of its patterns."""
        return [s for s in self.by_pattern if s.serves_pattern(organ_id)]


_SESSION_KEY = "axis_directory"


_VERSION = select(DirectoryVersion.version).where(DirectoryVersion.id == 1)
"""One statement object (its cache key computed once): it runs on every request."""


def _version(session: Session) -> int:
    return session.scalar(_VERSION) or 0


def _certificate(pem: str | None) -> x509.Certificate | None:
    if not pem:
        return None
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:  # registerAgency checks it; an unreadable one is simply not trusted
        return None


def _load(session: Session, version: int) -> Directory:
    systems = {
        s.id: SystemEntry(s.id, s.name, s.secret, s.is_admin, tuple(s.patterns()), s.callback_url,
                          tuple(s.grants()), s.base_url)
        for s in session.scalars(select(System))
    }
    agencies = {
        a.organ_id: AgencyEntry(a.organ_id, a.system_id, _certificate(a.certificate_pem))
        for a in session.scalars(select(Agency))
    }
    by_pattern = tuple(systems[i] for i in sorted(systems) if systems[i].patterns)
    return Directory(version, systems, agencies, by_pattern)


class DirectoryCache:
    """One per hub application (process); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Directory | None = None

    def get(self, session: Session) -> Directory:
        """The directory as of this transaction: one query when nothing changed, none the
        second time in the same transaction."""
        memo = session.info.get(_SESSION_KEY)
        if memo is not None and memo[0] is session.get_transaction() and memo[0] is not None:
            return memo[1]
        return self._get(session)

    def _get(self, session: Session) -> Directory:
        version = _version(session)
        current = self._current
        if current is None or current.version != version:
            current = _load(session, version)
            with self._lock:
                self._current = current
        session.info[_SESSION_KEY] = (session.get_transaction(), current)
        return current


def bump(session: Session) -> None:
    """Record a change to systems or agencies (same transaction as the change)."""
    session.info.pop(_SESSION_KEY, None)
    table = DirectoryVersion.__table__
    statement = upsert_insert(session)(table).values(id=1, version=1)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={"version": table.c.version + 1}))
