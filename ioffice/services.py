"""The composition root: the ports each capability uses, built once per app from config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from ioffice.keys.tokens import SealTokens
    from ioffice.storage import BlobStore
    from signing import Pki, TrustStore


def init_app(app: Flask) -> None:
    app.extensions["ioffice.services"] = Services(app)


class Services:
    """Built lazily, so that create_app stays cheap and touches nothing outside the process."""

    def __init__(self, app: Flask) -> None:
        self._config = app.config
        self._blobs: BlobStore | None = None
        self._pki: Pki | None = None
        self._seal_tokens: SealTokens | None = None

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
    def seal_tokens(self) -> SealTokens:
        """Agency seals held in PKCS#11 tokens (``IOFFICE_SEAL_TOKENS``)."""
        if self._seal_tokens is None:
            from ioffice.keys.tokens import SealTokens

            self._seal_tokens = SealTokens(self._config.get("SEAL_TOKENS"))
        return self._seal_tokens

    @property
    def trust(self) -> TrustStore:
        return self.pki.trust_store()


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["ioffice.services"]
