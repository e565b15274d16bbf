"""The trust store of a process: the simulated CA's (when enabled) plus the imported anchors,
seen by every web and worker process within ``TRUST_RECHECK_SECONDS`` of a change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from asn1crypto import x509 as asn1_x509
from sqlalchemy.orm import Session

from ioffice.trust.service import AnchorSet, anchor_set
from signing import Pki, TrustStore


def flag(value: object) -> bool:
    """A boolean setting, also when it comes from the environment as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class TrustSource:
    """Builds the :class:`TrustStore` validation and signing checks use.

    The imported anchors are read from the database at most once per ``recheck`` seconds (a
    query of a few rows), and at once after :meth:`invalidate` (this process imported or
    removed one). ``simulated``: the simulated PKI's root, CAs and revocation data are trusted
    too; off, only the imported anchors are, and the PKI directory is not needed."""

    def __init__(self, *, simulated: bool, pki: Callable[[], Pki],
                 session_factory: Callable[[], Session], recheck: float = 10.0) -> None:
        self.simulated = simulated
        self._pki = pki
        self._session_factory = session_factory
        self.recheck = recheck
        self._lock = threading.Lock()
        self._anchors: AnchorSet | None = None
        self._parsed: tuple[tuple[asn1_x509.Certificate, ...], tuple[asn1_x509.Certificate, ...]] = ((), ())
        self._read_at = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = float("-inf")

    def anchors(self) -> AnchorSet:
        return self._current()[0]

    def _current(self) -> tuple[AnchorSet, tuple[asn1_x509.Certificate, ...],
                                tuple[asn1_x509.Certificate, ...]]:
        now = time.monotonic()
        with self._lock:
            if self._anchors is not None and now - self._read_at < self.recheck:
                return (self._anchors, *self._parsed)
        session = self._session_factory()
        try:
            current = anchor_set(session)
        finally:
            session.close()
        with self._lock:
            if self._anchors is None or current.version != self._anchors.version:
                self._parsed = (tuple(asn1_x509.Certificate.load(d) for d in current.roots),
                                tuple(asn1_x509.Certificate.load(d) for d in current.intermediates))
                self._anchors = current
            self._read_at = now
            return (self._anchors, *self._parsed)

    def stamp(self) -> tuple:
        """What changes when the trust changes: the simulated PKI's revocation data (reissued
        on a revocation and weekly) and the anchor set's version."""
        pki = self._pki().revocation_stamp() if self.simulated else ()
        return (pki, self.anchors().version)

    def trust_store(self) -> TrustStore:
        """A new store over the current data (the PKI's files are read again)."""
        anchors, roots, intermediates = self._current()
        base = self._pki().trust_store() if self.simulated else TrustStore(roots=())
        if not anchors.version:
            return base
        return base.with_anchors(roots=roots, intermediates=intermediates)
