"""iOffice: document management and inter-agency dispatch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. No side effects beyond that: no migrations, no network.

    One process-wide step: the signing library's speed-ups (faster, equivalent pyHanko and
    asn1crypto hot spots, ``signing/_pyhanko_speedups.py``) are installed here, for the web
    processes, the exchange worker and every ``flask``/``ioffice`` command alike, since
    ``import signing`` itself leaves those libraries as they are. Idempotent."""
    from ioffice import cli, db_session, logs, metrics, services
    from ioffice.config import load_config
    from ioffice.web import init_app as init_web
    from signing import install_speedups

    install_speedups()

    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path(),
                template_folder="web/templates", static_folder="web/static")
    load_config(app, config)
    if int(app.config["PROXY_COUNT"]) > 0:
        # the audit log records where each action came from: behind a proxy, that is the
        # client address the proxy forwards, trusted only for the configured number of hops
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    logs.init_app(app)
    db_session.init_app(app)
    services.init_app(app)
    init_web(app)
    metrics.init_app(app)
    cli.init_app(app)
    return app


def instance_path() -> str | None:
    """``IOFFICE_INSTANCE_PATH``: the folder of this installation's own files (the SQLite
    database, local blobs, the PKI and secrets when not configured otherwise, the demo hubs'
    databases, the exchange worker's lock), made absolute. Unset: Flask's default, the
    repository's ``instance/``."""
    value = os.environ.get("IOFFICE_INSTANCE_PATH", "").strip()
    return str(Path(value).expanduser().resolve()) if value else None
