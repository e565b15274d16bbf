"""The simulated document exchange axis: a Flask service of its own.

``create_app(config=None)`` builds it (configuration from ``AXIS_*`` environment variables);
``flask --app axis_connector.hub run`` serves it, ``... db-upgrade`` migrates its database,
``... forward`` runs the forwarder/puller/pusher.  See docs/axis.md.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import urllib3
from cryptography import x509
from flask import Flask

from axis_connector.client import AxisClient

from .config import load_config
from .db import Database
from .services import HubSettings

__all__ = ["Hub", "create_app"]


class Hub:
    """The composition root of one hub app: database, settings, upstream client, push pool."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.db = Database(str(config["DATABASE_URL"]))
        upstream = config.get("UPSTREAM_URL")
        self.has_upstream = bool(upstream)
        self.settings = HubSettings(
            organ_id=str(config["ORGAN_ID"]),
            name=str(config["NAME"]),
            max_package_bytes=int(config["MAX_PACKAGE_BYTES"]),
            trusted_cas=_load_cas(config),
            has_upstream=self.has_upstream,
            served_patterns=tuple(p.strip() for p in str(config["SERVED_PATTERNS"] or "").split(",")
                                  if p.strip()),
            auth_window=int(config["AUTH_WINDOW_SECONDS"]),
            allow_private_callbacks=_flag(config.get("ALLOW_PRIVATE_CALLBACKS")),
        )
        self.push_pool = urllib3.PoolManager(retries=False)
        self._upstream: AxisClient | None = None

    def upstream_client(self) -> AxisClient:
        if not self.has_upstream:
            raise RuntimeError("AXIS_UPSTREAM_URL is not set")
        if self._upstream is None:
            config = self.config
            self._upstream = AxisClient(str(config["UPSTREAM_URL"]), str(config["UPSTREAM_SYSTEM_ID"]),
                                        str(config["UPSTREAM_SECRET"]),
                                        timeout=float(self.config["UPSTREAM_TIMEOUT"]))
        return self._upstream

    def push_after_commit(self, notification_ids: Sequence[int], *, inline: bool | None = None,
                          forward: bool = False) -> None:
        """Try the pushes (and, with ``forward``, the forwards upstream) now, off the request
        thread; the worker retries any that fail. Each push has a short timeout
        (``PUSH_TIMEOUT``) and never holds the request that committed."""
        forward = forward and _flag(self.config.get("FORWARD_INLINE"))
        if not notification_ids and not forward:
            return
        if inline is None:
            inline = _flag(self.config["PUSH_INLINE"])
        from .worker import WorkReport, forward_once, push_once

        def push() -> None:
            report = WorkReport()
            if forward:
                for _ in range(20):  # what this commit queued; the worker takes the rest
                    if not forward_once(self, report):
                        break
            for _ in notification_ids:
                push_once(self, report, notification_ids)

        if inline:
            threading.Thread(target=push, name="axis-push", daemon=True).start()


def _flag(value: Any) -> bool:
    """A boolean setting, also when it comes from the environment as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _load_cas(config: Mapping[str, Any]) -> tuple[x509.Certificate, ...]:
    pem = config.get("TRUSTED_CA_PEM") or ""
    if config.get("TRUSTED_CA_FILE"):
        pem = Path(str(config["TRUSTED_CA_FILE"])).read_text() + "\n" + pem
    if isinstance(pem, bytes):
        pem = pem.decode()
    return tuple(x509.load_pem_x509_certificates(pem.encode())) if pem.strip() else ()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the hub. No side effects beyond that: no migrations, no network, no threads."""
    from . import api, cli

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese messages stay readable
    load_config(app, config)
    app.extensions["axis_hub"] = Hub(app.config)
    api.init_app(app)
    cli.init_app(app)
    return app
