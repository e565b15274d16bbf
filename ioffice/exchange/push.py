"""The hubs' push notifications: "an agency of yours has something waiting on hub X".

A hub calls ``POST <EXCHANGE_CALLBACK_URL>/<hub name>`` after it committed a package for one of
this deployment's agencies (``axis_connector.hub.worker._notify``), signed with this
deployment's secret on that hub exactly as our requests to it are (HMAC-SHA256 over method,
path, system, timestamp, nonce and the body's hash; ``axis_connector.client.signing``). The
body names the hub's message and the recipients, never the document. A notification that is
not the hub's (unknown hub, wrong system, bad signature, stale timestamp, a nonce seen before)
or names an agency this deployment does not serve on that hub is refused and wakes nothing;
an accepted one only wakes the worker, which then pulls from the hubs as its poll would
(nothing is fetched on the hub's request, and the package still goes through every check of
``receipt``). So the worst a replayed or forged-but-valid notification can do is one pull.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from axis_connector.client.signing import (
    NONCE_HEADER,
    SYSTEM_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from ioffice.exchange.runtime import Exchange

__all__ = ["MAX_BODY", "WINDOW_SECONDS", "PushRefused", "accept_notification"]

WINDOW_SECONDS = 300
"""Accepted clock difference (the hub's own ``AXIS_AUTH_WINDOW_SECONDS`` default)."""
MAX_BODY = 16 * 1024
"""A notification is a few hundred bytes."""


class PushRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.status, self.code, self.message = status, code, message


@dataclass
class _Nonces:
    """Nonces of accepted notifications, kept for the window (per process: a replay to
    another process costs one pull, nothing more)."""

    seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def first_use(self, key: str, now: float) -> bool:
        with self.lock:
            if len(self.seen) > 10_000 or (self.seen and min(self.seen.values()) < now):
                self.seen = {k: t for k, t in self.seen.items() if t >= now}
            if key in self.seen:
                return False
            self.seen[key] = now + 2 * WINDOW_SECONDS
            return True


_nonces = _Nonces()


def accept_notification(rt: Exchange, hub_name: str, path: str, headers: Mapping[str, str],
                        body: bytes, *, now: float | None = None) -> list[str]:
    """Check one notification; wake the worker and return the agencies it names, or raise
    :class:`PushRefused` (nothing woken)."""
    hub = rt.hub_named(hub_name)
    if hub is None or not rt.push:
        raise PushRefused(404, "unknown_hub", "không có trục nào tên này gửi thông báo tới đây")
    now = time.time() if now is None else now
    if headers.get(SYSTEM_HEADER, "") != hub.system_id:
        raise PushRefused(401, "unknown_system", "thông báo không phải của trục này")
    try:
        stamp = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        raise PushRefused(401, "stale_request", "thiếu hoặc sai thời điểm ký") from None
    if abs(now - stamp) > WINDOW_SECONDS:
        raise PushRefused(401, "stale_request", "thông báo quá cũ hoặc đồng hồ lệch quá nhiều")
    if len(body) > MAX_BODY or not verify_signature(hub.secret, "POST", path, headers, body):
        raise PushRefused(401, "bad_signature", "chữ ký của thông báo không đúng")
    try:
        payload = json.loads(body)
    except ValueError:
        raise PushRefused(400, "invalid_request", "nội dung thông báo không phải JSON") from None
    organ_ids = payload.get("organ_ids") if isinstance(payload, dict) else None
    if payload.get("event") != "edoc_available" or payload.get("system_id") != hub.system_id \
            or not isinstance(organ_ids, list) or not organ_ids \
            or not all(isinstance(o, str) for o in organ_ids):
        raise PushRefused(400, "invalid_request", "thông báo thiếu sự kiện, hệ thống hoặc cơ quan nhận")
    others = [o for o in organ_ids if not hub.serves(o)]
    if others:
        raise PushRefused(403, "agency_not_yours",
                          f"cơ quan {', '.join(others)} không nhận văn bản qua trục này tại đây")
    if not _nonces.first_use(f"{hub.name}\n{headers.get(NONCE_HEADER, '')}", now):
        raise PushRefused(401, "replayed_request", "thông báo này đã được nhận")
    rt.wake()
    return organ_ids
