"""Health and readiness for the load balancer and the monitoring system (no login).

``/healthz``: the process answers (nothing else is touched, so a slow database never makes a
healthy process look dead and get restarted). ``/readyz``: whether this process can serve work
now: the database answers a query, the object storage answers a lookup, and every configured
exchange hub answers HTTP; JSON with each check's outcome and latency, 503 when one fails, so
a load balancer takes the host out of rotation until it recovers.

The answer names what failed and the kind of error, never a connection string, a secret or
an address: the cause goes to the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import urllib3
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ioffice.db_session import get_session
from ioffice.exchange.config import parse_hubs
from ioffice.services import services

bp = Blueprint("health", __name__)

HUB_TIMEOUT = urllib3.Timeout(connect=2.0, read=2.0)
# a blob that never exists: the lookup answers "no" when the store is up
_PROBE_SHA256 = "0" * 64


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks = {"database": _timed(_database), "storage": _timed(_storage)}
    for hub in parse_hubs(current_app.config.get("EXCHANGE_HUBS")):
        checks[f"hub:{hub.name}"] = _timed(lambda url=hub.url: _hub(url))
    ready = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ready else "fail", "checks": checks}
    return jsonify(body), 200 if ready else 503


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        check()
    except Exception as exc:  # reported, not raised: readiness answers about every part
        current_app.logger.warning("readiness check failed: %s: %s", type(exc).__name__, exc)
        return {"ok": False, "ms": _ms(start), "error": type(exc).__name__}
    return {"ok": True, "ms": _ms(start)}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _database() -> None:
    get_session().execute(text("SELECT 1")).scalar_one()


def _storage() -> None:
    services().blobs.exists(_PROBE_SHA256)


_pool = urllib3.PoolManager(num_pools=4, retries=False, timeout=HUB_TIMEOUT)


def _hub(url: str) -> None:
    """Any HTTP answer from the hub's address counts (its operations need signed POSTs; a GET
    is answered 404 or 405): what is checked is that it is reachable and serving."""
    resp = _pool.request("GET", url, redirect=False, preload_content=True)
    if resp.status >= 500:
        raise HubUnavailable(f"HTTP {resp.status}")


class HubUnavailable(Exception):
    pass
