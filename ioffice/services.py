"""The composition root: the ports each capability uses, built once per app from config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from ioffice.outgoing.timestamps import TimestampPolicy
    from ioffice.storage import BlobStore
    from signing import Pki, TrustStore
    from signing.tsa import TsaResponder


def init_app(app: Flask) -> None:
    app.extensions["ioffice.services"] = Services(app)


class Services:
    """Built lazily, so that create_app stays cheap and touches nothing outside the process."""

    def __init__(self, app: Flask) -> None:
        self._config = app.config
        self._blobs: BlobStore | None = None
        self._pki: Pki | None = None
        self._timestamps: TimestampPolicy | None = None
        self._tsa_responder: TsaResponder | None = None

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
    def trust(self) -> TrustStore:
        return self.pki.trust_store()

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
