"""The composition root: the ports each capability uses, built once per app from config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from ioffice.storage import BlobStore
    from ioffice.trust.source import TrustSource
    from signing import Pki, TrustStore


def init_app(app: Flask) -> None:
    app.extensions["ioffice.services"] = Services(app)


class Services:
    """Built lazily, so that create_app stays cheap and touches nothing outside the process."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._config = app.config
        self._trust_source: TrustSource | None = None
        self._blobs: BlobStore | None = None
        self._pki: Pki | None = None

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            from ioffice.storage import create_blob_store

            self._blobs = create_blob_store(self._config)
        return self._blobs

    @property
    def pki(self) -> Pki:
        if self._pki is None:
            from signing import Pki, PkiError

            try:
                self._pki = Pki.open(self._config["PKI_DIR"], self._config["PKI_PASSPHRASE"])
            except PkiError as exc:
                raise RuntimeError(f"{exc} Chạy `flask --app wsgi pki init` trước.") from exc
        return self._pki

    @property
    def trust_source(self) -> TrustSource:
        """The simulated CA (when ``SIMULATED_CA``) plus the imported anchors (ioffice/trust)."""
        if self._trust_source is None:
            from ioffice.db_session import database
            from ioffice.trust.source import TrustSource, flag

            self._trust_source = TrustSource(
                simulated=flag(self._config.get("SIMULATED_CA", True)),
                pki=lambda: self.pki, session_factory=lambda: database(self._app).session(),
                recheck=float(self._config.get("TRUST_RECHECK_SECONDS", 10.0)))
        return self._trust_source

    @property
    def trust(self) -> TrustStore:
        """A new store per call: the PKI's revocation files as they are now, and the imported
        anchors as this process last read them (at most ``TRUST_RECHECK_SECONDS`` ago)."""
        return self.trust_source.trust_store()

    def trust_if_ready(self) -> TrustStore | None:
        """:attr:`trust`, or None before `flask pki init` (for work that can go on without
        checking signatures, such as registering an uploaded document)."""
        try:
            return self.trust
        except RuntimeError:
            return None


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["ioffice.services"]
