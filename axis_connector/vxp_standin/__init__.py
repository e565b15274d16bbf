"""A stand-in for the national axis's own wire protocol (VXP), written from the spec alone.

It checks every header and signature of the VXP SDK's requests (``wire``) and answers each
operation as ``docs/vxp.md`` describes, so that ``axis_connector.vxp`` (our client) is tested
over real HTTP, and ``make run`` can put a demo agency behind it.

- :func:`create_app` builds the Flask app (no side effects);
- :func:`prepare` migrates its database and seeds the configured directory;
- :func:`mount` puts it under a path of another WSGI app (``/truc/vxp`` in the demo);
- ``python -m axis_connector.vxp_standin`` runs it alone.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from axis_connector.hub.db import Database

from . import migrate, services
from .config import load_config, settings_from
from .services import Settings

__all__ = ["VXP_PATH", "StandIn", "create_app", "mount", "prepare"]

VXP_PATH = "/truc/vxp"
"""Where the demo mounts the stand-in: the VXP base URL is then ``<app URL>/truc/vxp``."""


class StandIn:
    """The composition root of one stand-in app: database and settings."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.db = Database(str(config["DATABASE_URL"]))
        self.settings: Settings = settings_from(config)
        self._seeded = False
        self._lock = threading.Lock()

    def ensure_seeded(self) -> None:
        """Put the configured agencies in the directory, once per process (at the first
        request, not in :func:`create_app`, which has no side effects)."""
        if self._seeded:
            return
        with self._lock:
            if self._seeded:
                return
            with self.db.session() as session:
                services.seed_directory(session, self.settings.agencies)
                session.commit()
            self._seeded = True


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the stand-in. ``config`` (over ``VXP_STANDIN_*`` variables and the defaults):
    ``DATABASE_URL``; ``SYSTEMS`` ``{system_id: secret}``; ``AGENCIES`` ``{system_id: [code or
    {"code", "name", "mail", "pcode", "old_code", "level"}]}``; ``MAX_CLOCK_SKEW_SECONDS``;
    ``MAX_BODY_MB``; ``TIMESTAMP_UTC_OFFSET_MINUTES``; ``ADD_TRACE_HEADER``. No migrations, no
    network, no threads: call :func:`prepare` (or ``migrate.upgrade``) before serving."""
    from . import api

    app = Flask(__name__, static_folder=None)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese messages stay readable
    app.json.sort_keys = False  # type: ignore[attr-defined]  # status, ErrorCode, ErrorDesc first
    load_config(app, config)
    app.extensions["vxp_standin"] = StandIn(app.config)
    api.init_app(app)
    return app


def prepare(app: Flask) -> None:
    """Migrate the stand-in's database to the latest schema and seed its directory."""
    standin: StandIn = app.extensions["vxp_standin"]
    migrate.upgrade(standin.db.url)
    standin.ensure_seeded()


def mount(wsgi_app: Any, standin: Flask, path: str = VXP_PATH) -> DispatcherMiddleware:
    """``wsgi_app`` with the stand-in under ``path``, the way ``ioffice.exchange.demo_run``
    mounts the demo hubs at ``/truc/tinh`` and ``/truc/quoc-gia``::

        standin = vxp_standin.create_app({"DATABASE_URL": "sqlite:///instance/vxp.db",
                                          "SYSTEMS": {"ioffice-demo": secret},
                                          "AGENCIES": {"ioffice-demo": ["000.00.00.H12"]}})
        vxp_standin.prepare(standin)          # once, at setup (migrations, directory)
        application = vxp_standin.mount(application, standin)

    The client's base URL is then ``<app URL>/truc/vxp`` (operations at
    ``/truc/vxp/sendEdoc``...). When ``wsgi_app`` is already a ``DispatcherMiddleware`` its
    mounts are kept and this one added."""
    if isinstance(wsgi_app, DispatcherMiddleware):
        wsgi_app.mounts[path] = standin
        return wsgi_app
    return DispatcherMiddleware(wsgi_app, {path: standin})
