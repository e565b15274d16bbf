"""Which hub each agency uses: ``IOFFICE_EXCHANGE_HUBS``, a JSON list of
``{"name", "url", "system_id", "secret", "agencies": [glob, ...], "protocol"}``.

``protocol``: ``"ioffice"`` (default: our own hub, ``axis_connector.client``) or ``"vxp"`` (the
national axis's own wire protocol, ``axis_connector.vxp``; ``url`` is the base URL the
operations are appended to). A VXP hub also takes ``connect_timeout`` and ``read_timeout``
(seconds; default ``IOFFICE_EXCHANGE_TIMEOUT`` for both) and ``attempts`` (2-5, default 3).

One deployment may host agencies at every level: it connects as one system to the provincial
platform (``*.H12``) and as another to the national axis (``*.G*``). The first hub whose
patterns match an agency is the one it sends through; every hub is polled for receipt.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HubConfig:
    name: str
    url: str
    system_id: str
    secret: str
    agencies: tuple[str, ...]
    protocol: str = "ioffice"
    connect_timeout: float | None = None
    read_timeout: float | None = None
    attempts: int = 3

    def serves(self, organ_id: str) -> bool:
        return any(fnmatch.fnmatchcase(organ_id, p) for p in self.agencies)


PROTOCOLS = ("ioffice", "vxp")


def _seconds(item: Mapping[str, Any], key: str, i: int) -> float | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    seconds = float(value)
    if seconds <= 0:
        raise ValueError(f"IOFFICE_EXCHANGE_HUBS[{i}].{key} must be positive")
    return seconds


def parse_hubs(value: Any) -> tuple[HubConfig, ...]:
    if not value:
        return ()
    items = json.loads(value) if isinstance(value, str | bytes) else value
    hubs = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"IOFFICE_EXCHANGE_HUBS[{i}] is not an object")
        patterns = item.get("agencies") or ["*"]
        if isinstance(patterns, str):
            patterns = [p.strip() for p in patterns.split(",") if p.strip()]
        protocol = str(item.get("protocol") or "ioffice").strip().lower()
        if protocol not in PROTOCOLS:
            raise ValueError(f"IOFFICE_EXCHANGE_HUBS[{i}].protocol: {protocol!r} is not one of "
                             + ", ".join(PROTOCOLS))
        hubs.append(HubConfig(name=str(item.get("name") or f"hub{i + 1}"), url=str(item["url"]),
                              system_id=str(item["system_id"]), secret=str(item["secret"]),
                              agencies=tuple(patterns), protocol=protocol,
                              connect_timeout=_seconds(item, "connect_timeout", i),
                              read_timeout=_seconds(item, "read_timeout", i),
                              attempts=int(item.get("attempts") or 3)))
    return tuple(hubs)


def hub_for(hubs: tuple[HubConfig, ...], organ_id: str) -> HubConfig | None:
    return next((h for h in hubs if h.serves(organ_id)), None)
