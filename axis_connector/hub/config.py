"""Hub configuration: defaults, then ``AXIS_*`` environment variables, then an explicit mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

__all__ = ["DEFAULTS", "load_config"]

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": "sqlite:///axis-hub.db",
    "NAME": "Trục liên thông văn bản (mô phỏng)",
    "ORGAN_ID": "000.00.00.AXIS",
    "MAX_PACKAGE_MB": 32,
    "TRUSTED_CA_FILE": None,
    "AUTH_WINDOW_SECONDS": 300,
    "UPSTREAM_URL": None,
    "UPSTREAM_SYSTEM_ID": None,
    "UPSTREAM_SECRET": None,
    "UPSTREAM_TIMEOUT": 30.0,
    "SERVED_PATTERNS": "",
    "FORWARD_MAX_ATTEMPTS": 12,
    "FORWARD_BACKOFF_SECONDS": 2.0,
    "PUSH_TIMEOUT": 5.0,
    "ALLOW_PRIVATE_CALLBACKS": False,
    "PUSH_INLINE": True,
    "FORWARD_INLINE": False,
    "WORKER_INTERVAL": 2.0,
}
"""Keys without the ``AXIS_`` prefix; see docs/axis.md for what each one means."""


def load_config(app: Flask, config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("AXIS")
    if config:
        app.config.from_mapping(config)
    app.config["MAX_PACKAGE_BYTES"] = int(float(app.config["MAX_PACKAGE_MB"]) * 1024 * 1024)
    # JSON carries the package in base64 (4/3) plus a little metadata.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_PACKAGE_BYTES"] * 4 // 3 + 64 * 1024
