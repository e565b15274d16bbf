"""Which hub each agency uses: ``IOFFICE_EXCHANGE_HUBS``, a JSON list of
``{"name", "url", "system_id", "secret", "agencies": [glob, ...]}``.

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

    def serves(self, organ_id: str) -> bool:
        return any(fnmatch.fnmatchcase(organ_id, p) for p in self.agencies)


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
        hubs.append(HubConfig(name=str(item.get("name") or f"hub{i + 1}"), url=str(item["url"]),
                              system_id=str(item["system_id"]), secret=str(item["secret"]),
                              agencies=tuple(patterns)))
    return tuple(hubs)


def hub_for(hubs: tuple[HubConfig, ...], organ_id: str) -> HubConfig | None:
    return next((h for h in hubs if h.serves(organ_id)), None)
