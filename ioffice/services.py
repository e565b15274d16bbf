"""The composition root: the ports each capability uses, built once per process from config.

The web processes, the exchange worker and the ``flask``/``ioffice`` commands all get the PKI,
the trust store and the signing credentials from here (:class:`Signing`): the exchange runtime
(``ioffice/exchange/runtime.py``) is handed this app's :attr:`Services.signing` rather than
opening its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from ioffice.keys.tokens import SealTokens
    from ioffice.outgoing.timestamps import TimestampPolicy
    from ioffice.storage import BlobStore
    from ioffice.trust.source import TrustSource
    from signing import CredentialSource, Pki, TrustStore
    from signing.tsa import TsaResponder


def init_app(app: Flask) -> None:
    app.extensions["ioffice.services"] = Services(app)


class Signing:
    """The signing parts, built once: the simulated CA (:class:`signing.Pki`), the trust store
    its validations use and the credentials (where signing keys live).

    The trust store is kept and shared, so that what validations learn (CRL issuers, validated
    certification paths: ``signing/trust.py``) serves the next ones; it is replaced by a new
    one when the CA's revocation data was reissued (a revocation, the worker's periodic
    refresh; :meth:`signing.Pki.revocation_stamp` changes), looked at no more often than the
    caller asks: the web on every use (a revocation made by another process is seen at once,
    as when each request loaded its own), the long-running worker every
    ``TRUST_RECHECK_SECONDS``."""

    def __init__(self, open_pki: Callable[[], Pki],
                 trust_source: Callable[[], TrustSource | None] | None = None) -> None:
        self._open_pki = open_pki
        self._trust_source_factory = trust_source
        self._trust_source: TrustSource | None = None
        self._lock = threading.Lock()
        self._trust_lock = threading.Lock()
        self._pki: Pki | None = None
        self._trust: TrustStore | None = None
        self._trust_stamp: tuple | None = None
        self._trust_checked = 0.0

    @property
    def pki(self) -> Pki:
        if self._pki is None:
            with self._lock:
                if self._pki is None:
                    self._pki = self._open_pki()
        return self._pki

    @property
    def credentials(self) -> CredentialSource:
        """Where the server-held signing keys live (today the CA's ``keys/`` folder)."""
        return self.pki.credentials

    @property
    def trust_source(self) -> TrustSource | None:
        """The simulated CA (when enabled) plus the anchors the administrator imported
        (``ioffice/trust``); None where no database is at hand (a benchmark): the CA alone."""
        if self._trust_source is None and self._trust_source_factory is not None:
            self._trust_source = self._trust_source_factory()
        return self._trust_source

    def forget_trust(self) -> None:
        """Look again at the next use: this process changed the anchors."""
        if self.trust_source is not None:
            self.trust_source.invalidate()
        self._trust_checked = float("-inf")

    def trust(self, recheck_seconds: float = 0.0) -> TrustStore:
        """The current trust store, reloaded if the revocation data or the anchor set changed
        since it was loaded; whether it changed is looked at every ``recheck_seconds`` at most
        (the anchors themselves are read at most every ``TRUST_RECHECK_SECONDS``)."""
        now = time.monotonic()
        if self._trust is None or now - self._trust_checked >= recheck_seconds:
            source = self.trust_source
            if source is not None and recheck_seconds > 0:
                source.invalidate()  # the caller's recheck is the bound: read the anchors now
            stamp = source.stamp() if source is not None else self.pki.revocation_stamp()
            if self._trust is None or stamp != self._trust_stamp:
                with self._trust_lock:  # one thread builds it; the others keep the old one
                    if self._trust is None or stamp != self._trust_stamp:
                        store = (source.trust_store() if source is not None
                                 else self.pki.trust_store())
                        # asn1crypto parses a certificate's parts on first use, and two threads
                        # doing that at once can fail (KeyError in its lazy parsing): one
                        # validation context built here parses them before threads share it
                        store.validation_context()
                        self._trust, self._trust_stamp = store, stamp
            self._trust_checked = now
        return self._trust


class Services:
    """Built lazily, so that create_app stays cheap and touches nothing outside the process."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._config = app.config
        self._blobs: BlobStore | None = None
        self.signing = Signing(self._open_pki, self._make_trust_source)
        self._timestamps: TimestampPolicy | None = None
        self._tsa_responder: TsaResponder | None = None
        self._seal_tokens: SealTokens | None = None

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            from ioffice.storage import create_blob_store

            self._blobs = create_blob_store(self._config)
        return self._blobs

    def _open_pki(self) -> Pki:
        from signing import Pki, PkiError

        try:
            return Pki.open(self._config["PKI_DIR"], self._config["PKI_PASSPHRASE"],
                            self._config.get("PUBLIC_URL"))
        except PkiError as exc:
            raise RuntimeError(f"{exc} Chạy `flask --app wsgi pki init` trước.") from exc

    @property
    def pki(self) -> Pki:
        return self.signing.pki

    @property
    def seal_tokens(self) -> SealTokens:
        """Agency seals held in PKCS#11 tokens (``IOFFICE_SEAL_TOKENS``)."""
        if self._seal_tokens is None:
            from ioffice.keys.tokens import SealTokens

            self._seal_tokens = SealTokens(self._config.get("SEAL_TOKENS"))
        return self._seal_tokens

    def _make_trust_source(self) -> TrustSource:
        from ioffice.db_session import database
        from ioffice.trust.source import TrustSource, flag

        return TrustSource(
            simulated=flag(self._config.get("SIMULATED_CA", True)),
            pki=lambda: self.pki, session_factory=lambda: database(self._app).session(read=True),
            recheck=float(self._config.get("TRUST_RECHECK_SECONDS", 10.0)))

    @property
    def trust_source(self) -> TrustSource:
        """The simulated CA (when ``SIMULATED_CA``) plus the imported anchors (ioffice/trust)."""
        source = self.signing.trust_source
        assert source is not None
        return source

    @property
    def trust(self) -> TrustStore:
        """The trust store: the simulated CA's (when ``SIMULATED_CA``) and the imported anchors,
        kept while neither the CA's revocation data nor the anchor set changed (the anchors
        are read again at most every ``TRUST_RECHECK_SECONDS``)."""
        return self.signing.trust()

    def trust_if_ready(self) -> TrustStore | None:
        """:attr:`trust`, or None before `flask pki init` (for work that can go on without
        checking signatures, such as registering an uploaded document)."""
        try:
            return self.trust
        except RuntimeError:
            return None

    @property
    def timestamps(self) -> TimestampPolicy:
        """Where seals get their timestamp (``TSA_*`` settings): an HTTP TSA, or none."""
        if self._timestamps is None:
            from ioffice.outgoing.timestamps import from_config

            self._timestamps = from_config(self._config)
        return self._timestamps

    @property
    def tsa_responder(self) -> TsaResponder:
        """The simulated PKI's TSA, answering ``POST /pki/tsa`` when ``TSA_SERVE`` is on."""
        if self._tsa_responder is None:
            from signing.tsa import TsaResponder

            self._tsa_responder = TsaResponder(*self.pki.timestamp_authority())
        return self._tsa_responder


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["ioffice.services"]
