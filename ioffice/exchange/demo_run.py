"""``make run``: the provincial platform and the national axis mounted beside the app
(``/truc/tinh``, ``/truc/quoc-gia``), their forwarders and the exchange worker in threads;
and the stand-in of the national axis's own wire protocol (VXP) at ``/truc/vxp``, through which
Văn phòng Chính phủ sends (``protocol: vxp``; docs/exchange.md "make run").

Enabled when ``exchange setup-demo`` has written ``instance/exchange-demo.json`` and
``IOFFICE_EXCHANGE_HUBS`` is not set. Nothing here runs at import: ``wsgi.py`` calls
:func:`configure` and :func:`mount`, and the gunicorn hook (or ``exchange worker --with-hubs``)
calls :func:`start_background`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from axis_connector import vxp_standin
from axis_connector.hub import create_app as create_hub
from axis_connector.hub import worker as hub_worker
from ioffice.exchange import federation as fed
from ioffice.exchange.models import DirectoryEntry
from ioffice.exchange.runtime import exchange
from ioffice.exchange.worker import start_background as start_exchange_worker

log = logging.getLogger(__name__)

PROVINCIAL_PATH, NATIONAL_PATH = "/truc/tinh", "/truc/quoc-gia"
VXP_PATH = vxp_standin.VXP_PATH
VXP_HUB, VXP_SYSTEM = "vxp", "ioffice-vxp"
VXP_AGENCIES = ("000.00.00.G22",)
"""The demo agencies that send through the stand-in VXP (Văn phòng Chính phủ). The stand-in's
directory lists every demo agency under this deployment's system, so whatever it sends reaches
its recipient through the VXP, and their statuses go back the way the document came."""


def _paths(app: Flask) -> tuple[Path, str, str]:
    instance = Path(app.instance_path)
    return (instance / "exchange-demo.json", f"sqlite:///{instance / 'axis-tinh.db'}",
            f"sqlite:///{instance / 'axis-quoc-gia.db'}")


def _vxp_paths(app: Flask) -> tuple[Path, str]:
    instance = Path(app.instance_path)
    return instance / "vxp-demo.json", f"sqlite:///{instance / 'vxp-standin.db'}"


def _vxp_secret(app: Flask) -> str:
    """This deployment's secret on the stand-in VXP (generated once, beside the hubs')."""
    path = _vxp_paths(app)[0]
    if path.exists():
        return str(json.loads(path.read_text())["secret"])
    value = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"secret": value}))
    path.chmod(0o600)
    return value


def _vxp_config(app: Flask, cards: list[fed.AgencyCard]) -> dict[str, Any]:
    """The stand-in's config: this deployment's system, and ``cards`` (the agencies seeded
    into its directory by :func:`setup`; a directory once seeded is the database's)."""
    # ADD_TRACE_HEADER: as the real axis, a TraceHeader of its own (no OrganId) on delivery
    return {"DATABASE_URL": _vxp_paths(app)[1], "SYSTEMS": {VXP_SYSTEM: _vxp_secret(app)},
            "ADD_TRACE_HEADER": True,
            "AGENCIES": {VXP_SYSTEM: [{"code": c.code, "name": c.name, "pcode": c.parent or ""}
                                      for c in cards]}}


def base_url() -> str:
    return os.environ.get("IOFFICE_EXCHANGE_DEMO_URL", "http://127.0.0.1:5000").rstrip("/")


def callback_url() -> str:
    """Where the demo hubs push their notifications (``ioffice.exchange.push``)."""
    return base_url() + "/lien-thong/thong-bao"


def enabled(app: Flask) -> bool:
    return _paths(app)[0].exists() and not os.environ.get("IOFFICE_EXCHANGE_HUBS")


def setup(app: Flask, session: Session) -> list[fed.AgencyCard]:
    """Migrate the hub databases, connect the systems, register every agency with its seal."""
    secrets_path, provincial_db, national_db = _paths(app)
    secrets_ = fed.Secrets.load_or_create(secrets_path)
    pki = exchange(app).pki
    cards = fed.agency_cards(session, pki)
    fed.bootstrap(provincial_db, national_db, secrets_, cards, callback_base_url=callback_url())
    vxp_standin.prepare(vxp_standin.create_app(_vxp_config(app, cards)))
    for card in cards:  # the directory the dispatch checks, until the worker refreshes it
        hub = fed.PROVINCIAL if card.code.endswith(".H12") else fed.NATIONAL
        entry = session.get(DirectoryEntry, card.code) or DirectoryEntry(organ_id=card.code)
        entry.name, entry.hub = card.name, hub
        session.add(entry)
    return cards


def configure(app: Flask) -> None:
    if not enabled(app) or app.config.get("EXCHANGE_HUBS"):
        return
    secrets_ = fed.Secrets.load_or_create(_paths(app)[0])
    url = base_url()
    app.config["EXCHANGE_HUBS"] = [
        {"name": VXP_HUB, "protocol": "vxp", "url": url + VXP_PATH, "system_id": VXP_SYSTEM,
         "secret": _vxp_secret(app), "agencies": list(VXP_AGENCIES)},
        *fed.exchange_hubs(url + PROVINCIAL_PATH, url + NATIONAL_PATH, secrets_)]
    app.config.setdefault("EXCHANGE_CALLBACK_URL", callback_url())


def hub_apps(app: Flask) -> tuple[Flask, Flask, Flask]:
    """The provincial platform, the national axis and the stand-in VXP."""
    secrets_path, provincial_db, national_db = _paths(app)
    secrets_ = fed.Secrets.load_or_create(secrets_path)
    provincial, national = fed.hub_configs(provincial_db, national_db, base_url() + NATIONAL_PATH,
                                           secrets_, exchange(app).pki)
    # pushes and forwards right after the commit, in whichever gunicorn process took the request
    now = {"PUSH_INLINE": True, "FORWARD_INLINE": True, "PUSH_TIMEOUT": 2.0}
    # the stand-in's directory was seeded by setup (every demo agency): nothing to seed here
    return (create_hub({**provincial, **now}), create_hub({**national, **now}),
            vxp_standin.create_app(_vxp_config(app, [])))


def mount(app: Flask, hubs: tuple[Flask, ...] | None) -> Any:
    if hubs is None:
        return app
    mounts = {PROVINCIAL_PATH: hubs[0], NATIONAL_PATH: hubs[1]}
    if len(hubs) > 2:
        mounts[VXP_PATH] = hubs[2]
    return DispatcherMiddleware(app, mounts)


_started: list[Any] = []


def start_background(app: Flask, hubs: tuple[Flask, ...] | None) -> bool:
    """Start the hub forwarders and the exchange worker in this process, if no other process
    of this instance runs them (a lock file decides: SQLite wants one worker)."""
    if hubs is None or _started:
        return False
    lock = open(Path(app.instance_path) / "exchange-worker.lock", "w")  # noqa: SIM115 - held for life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return False
    _started.append(lock)
    for hub_app in hubs[:2]:  # the stand-in VXP has no worker: it stores and answers
        _started.append(hub_worker.start_background_worker(hub_app.extensions["axis_hub"]))
    _started.append(start_exchange_worker(exchange(app)))
    log.info("exchange demo: hub forwarders and exchange worker started in pid %s", os.getpid())
    return True


