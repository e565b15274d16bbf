"""Stand-in configuration: defaults, then ``VXP_STANDIN_*`` environment variables (and the JSON
file ``VXP_STANDIN_CONFIG_FILE`` names), then an explicit mapping."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from .services import AgencyConfig, Settings

__all__ = ["DEFAULTS", "load_config", "settings_from"]

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": "sqlite:///vxp-standin.db",
    "SYSTEMS": {},
    "AGENCIES": {},
    "CONFIG_FILE": None,
    "MAX_CLOCK_SKEW_SECONDS": 300,
    "TIMESTAMP_UTC_OFFSET_MINUTES": 7 * 60,
    "MAX_BODY_MB": 32,
    "ADD_TRACE_HEADER": False,
}
"""Keys without the ``VXP_STANDIN_`` prefix; docs/vxp.md says what each one means.

``SYSTEMS``: ``{system_id: secret}``. ``AGENCIES``: ``{system_id: [code, or {"code", "name",
"mail", "pcode", "old_code", "level"}]}``. From the environment both are JSON text."""


def load_config(app: Flask, config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("VXP_STANDIN")  # JSON values (SYSTEMS, AGENCIES) are decoded
    path = (config or {}).get("CONFIG_FILE") or app.config.get("CONFIG_FILE")
    if path:
        app.config.from_mapping(json.loads(Path(path).read_text(encoding="utf-8")))
    if config:
        app.config.from_mapping(config)
    app.config["MAX_BODY_BYTES"] = int(float(app.config["MAX_BODY_MB"]) * 1024 * 1024)
    # one byte more than allowed: a chunked body is cut at MAX_CONTENT_LENGTH without an error,
    # so reading one byte past the cap is how api._body tells "over" from "exactly at"
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"] + 1


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _json(value: Any, key: str) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def settings_from(config: Mapping[str, Any]) -> Settings:
    systems = _json(config["SYSTEMS"], "SYSTEMS") or {}
    agencies = []
    for system_id, entries in (_json(config["AGENCIES"], "AGENCIES") or {}).items():
        if system_id not in systems:
            raise ValueError(f"AGENCIES names the system {system_id!r}, which SYSTEMS does not")
        for entry in entries:
            fields = {"code": entry} if isinstance(entry, str) else dict(entry)
            agencies.append(AgencyConfig(system_id=system_id, **fields))
    return Settings(
        secrets={str(k): str(v) for k, v in systems.items()},
        agencies=tuple(agencies),
        max_skew=dt.timedelta(seconds=float(config["MAX_CLOCK_SKEW_SECONDS"])),
        utc_offset=dt.timedelta(minutes=int(config["TIMESTAMP_UTC_OFFSET_MINUTES"])),
        max_body_bytes=int(config["MAX_BODY_BYTES"]),
        add_trace_header=_flag(config["ADD_TRACE_HEADER"]),
    )
