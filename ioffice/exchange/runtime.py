"""The exchange's ports, built once per app from config: hubs and their clients, the PKI and
the trust anchors for XML and PDF signatures (both from the composition root,
``ioffice.services.Signing``), blob storage and the database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from flask import Flask
from sqlalchemy.orm import Session

from axis_connector.client import AxisClient
from axis_connector.vxp import VxpClient, VxpHubClient
from ioffice.exchange.config import HubConfig, hub_for, parse_hubs
from ioffice.exchange.errors import NoHub
from ioffice.services import Signing
from signing import Pki, TrustStore

DEFAULTS = {
    "EXCHANGE_HUBS": None,
    "EXCHANGE_MAX_ATTEMPTS": 8,
    "EXCHANGE_BACKOFF_SECONDS": 2.0,
    "EXCHANGE_UNREACHABLE_BACKOFF_MAX": 300.0,
    "EXCHANGE_UNREACHABLE_GIVE_UP_HOURS": 72.0,
    "EXCHANGE_LEASE_SECONDS": 60,
    "EXCHANGE_POLL_INTERVAL": 2.0,
    "EXCHANGE_MAX_PACKAGE_MB": 32,
    "EXCHANGE_TIMEOUT": 30.0,
    "EXCHANGE_PUSH": True,
    "EXCHANGE_CALLBACK_URL": None,
    "EXCHANGE_PUSH_POLL_INTERVAL": 15.0,
}
"""``EXCHANGE_PUSH``: wake the worker on a dispatch and on the hubs' notifications (off: poll
only, as before issue 17). ``EXCHANGE_CALLBACK_URL``: this deployment's address for the hubs'
notifications (``<url>/<hub name>`` is registered on each hub); unset, the hubs are polled.
``EXCHANGE_PUSH_POLL_INTERVAL``: the fallback poll once every hub pushes (docs/exchange.md "Push")."""

_TEXT_SETTINGS = ("EXCHANGE_HUBS", "EXCHANGE_CALLBACK_URL", "EXCHANGE_PUSH")

TRUST_RECHECK_SECONDS = 10.0
"""How often a long-lived runtime looks whether the PKI's revocation data was reissued (the
reload itself is the composition root's: ``ioffice.services.Signing.trust``)."""


@dataclass
class Exchange:
    hubs: tuple[HubConfig, ...]
    session_factory: Callable[[], Session]
    blobs_factory: Callable[[], object]
    pki_factory: Callable[[], Pki] | None = None
    """Only where no composition root is at hand (a benchmark, a test): the PKI's opener."""
    signing: Signing | None = None
    """The app's signing parts (``services(app).signing``); made from ``pki_factory`` if unset."""
    settings: dict[str, float] = field(default_factory=dict)
    push: bool = True
    callback_url: str | None = None
    database_key: str = ""
    cleanup_grace_hours: float = 24.0
    clients: dict[str, AxisClient | VxpHubClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cas: tuple[x509.Certificate, ...] | None = None
    _cas_from: object | None = None
    _blobs: object | None = None
    seal_tokens: object | None = None
    """Agency seals held in PKCS#11 tokens (:class:`ioffice.keys.tokens.SealTokens`)."""
    timestamps: object | None = None
    """Where timestamps come from (:class:`ioffice.outgoing.timestamps.TimestampPolicy`)."""
    retimestamp_days: float = 180.0
    """``RETIMESTAMP_DAYS``: the re-timestamp job's horizon."""
    mail: object | None = None
    """The SMTP settings of the notification mail
    (:class:`ioffice.notifications.mail.SmtpSettings`)."""

    def __post_init__(self) -> None:
        if self.signing is None:
            self.signing = Signing(self.pki_factory or _no_pki)

    def setting(self, name: str) -> float:
        return float(self.settings.get(name, DEFAULTS[f"EXCHANGE_{name}"]))

    def wake(self) -> None:
        """Wake this deployment's worker, in whichever process of this host it runs."""
        if self.push:
            from ioffice.exchange.wake import notify

            notify(self.database_key)

    def client(self, hub: HubConfig) -> AxisClient | VxpHubClient:
        """The hub's client, by its ``protocol``: both answer the worker's batch calls."""
        with self._lock:
            if hub.name not in self.clients:
                self.clients[hub.name] = make_client(
                    hub, self.setting("TIMEOUT"),
                    max_package_bytes=int(self.setting("MAX_PACKAGE_MB") * 1024 * 1024))
            return self.clients[hub.name]

    def hub_for(self, organ_id: str) -> HubConfig:
        hub = hub_for(self.hubs, organ_id)
        if hub is None:
            raise NoHub(organ_id)
        return hub

    def hub_named(self, name: str) -> HubConfig | None:
        return next((h for h in self.hubs if h.name == name), None)

    @property
    def pki(self) -> Pki:
        return self.signing.pki

    @property
    def trust(self) -> TrustStore:
        """The trust store (the simulated PKI's, when enabled, plus the anchors the
        administrator imported), reloaded when the PKI's revocation data was reissued (a
        revocation, or the periodic refresh) or the anchor set changed: the worker runs for
        weeks, and a revoked seal's PDFs must not keep validating until it restarts, nor a
        newly imported root wait for it. Looked at every TRUST_RECHECK_SECONDS at most."""
        return self.signing.trust(TRUST_RECHECK_SECONDS)

    def forget_trust(self) -> None:
        """Look again at the next use (this process changed the anchors)."""
        self.signing.forget_trust()

    @property
    def trusted_cas(self) -> tuple[x509.Certificate, ...]:
        """The CA certificates (roots and intermediates, not the TSA) an envelope's XML
        signature must chain to: those of the trust store, i.e. the simulated PKI's CAs when
        ``SIMULATED_CA`` is on, plus the roots and intermediates the administrator imported
        (``ioffice/trust``), so that a seal issued by a real CA validates once its root is
        imported. Recomputed when the trust store is reloaded (an import, a removal)."""
        store = self.trust
        if self._cas is None or self._cas_from is not store:
            certs = [*store.roots, *store.intermediates]
            self._cas = tuple(x509.load_der_x509_certificate(c.dump()) for c in certs
                              if c.ca)
            self._cas_from = store
        return self._cas

    @property
    def blobs(self):
        if self._blobs is None:
            self._blobs = self.blobs_factory()
        return self._blobs


def make_client(hub: HubConfig, timeout: float, *,
                max_package_bytes: int | None = None) -> AxisClient | VxpHubClient:
    """Our own hub's client, or the VXP's behind the same batch calls (timeouts always set;
    an answer longer than a package in base64 could be is refused while read)."""
    if hub.protocol == "vxp":
        cap = max_package_bytes * 4 // 3 + (1 << 20) if max_package_bytes else None
        return VxpHubClient(VxpClient(hub.url, hub.system_id, hub.secret,
                                      connect_timeout=hub.connect_timeout or timeout,
                                      read_timeout=hub.read_timeout or timeout,
                                      attempts=hub.attempts, max_answer_bytes=cap))
    return AxisClient(hub.url, hub.system_id, hub.secret, timeout=timeout)


def _flag(value: object) -> bool:
    """A boolean setting, also when it comes from the environment as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _no_pki() -> Pki:
    raise RuntimeError("Exchange built without a PKI (neither signing nor pki_factory given).")


def exchange(app: Flask) -> Exchange:
    """The app's exchange runtime, built on first use (no network, no threads)."""
    runtime = app.extensions.get("ioffice.exchange")
    if runtime is None:
        from ioffice.db_session import database
        from ioffice.exchange.wake import database_key
        from ioffice.notifications.mail import SmtpSettings

        settings = {key.removeprefix("EXCHANGE_"): app.config.get(key, default)
                    for key, default in DEFAULTS.items() if key not in _TEXT_SETTINGS}
        runtime = Exchange(
            hubs=parse_hubs(app.config.get("EXCHANGE_HUBS")),
            session_factory=lambda: database(app).session(),
            blobs_factory=lambda: app.extensions["ioffice.services"].blobs,
            signing=app.extensions["ioffice.services"].signing,
            seal_tokens=app.extensions["ioffice.services"].seal_tokens,  # the web's sessions
            settings={k: float(v) for k, v in settings.items()},
            push=_flag(app.config.get("EXCHANGE_PUSH", True)),
            callback_url=(str(app.config.get("EXCHANGE_CALLBACK_URL") or "").rstrip("/") or None),
            database_key=database_key(app.config.get("DATABASE_URL")),
            cleanup_grace_hours=float(app.config.get("CLEANUP_GRACE_HOURS", 24)),
            timestamps=app.extensions["ioffice.services"].timestamps,
            retimestamp_days=float(app.config.get("RETIMESTAMP_DAYS", 180)),
            mail=SmtpSettings.from_config(app.config))
        app.extensions["ioffice.exchange"] = runtime
    return runtime
