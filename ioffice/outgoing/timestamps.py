"""Where the agency seal's timestamp comes from: the configured TSA over HTTP, and whether the
admin allowed sealing without one (PAdES B-B) when it cannot be had.

Built once per process from the settings ``TSA_*`` (README, "Environment variables";
docs/signing.md, "Timestamps over HTTP") by the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from signing import TrustStore
from signing.tsa import HttpTimestamper, TimestampUnavailable, TsaClient

__all__ = ["TimestampPolicy", "from_config"]

NOT_CONFIGURED = ("Chưa cấu hình máy chủ cấp dấu thời gian (TSA) cho hệ thống (IOFFICE_TSA_URL); "
                  "hãy báo quản trị hệ thống.")


@dataclass(frozen=True)
class TimestampPolicy:
    """The TSA to ask (None: none configured) and whether a seal may go without a timestamp."""

    client: TsaClient | None
    fallback_bb: bool = False
    """The admin allowed it: a TSA that cannot answer gives a B-B seal, noted, not a refusal."""

    def timestamper(self, trust: TrustStore) -> HttpTimestamper:
        """A timestamper for one signature; :class:`TimestampUnavailable` if none is set up."""
        if self.client is None:
            raise TimestampUnavailable("not_configured", NOT_CONFIGURED)
        return self.client.timestamper(trust)


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _text(value: object) -> str | None:
    """A text setting; the environment's JSON parsing may have made ``123456`` a number."""
    return None if value is None or value == "" else str(value)


def from_config(config: Mapping[str, Any]) -> TimestampPolicy:
    """The policy the settings describe; ValueError names a bad setting."""
    url = (config.get("TSA_URL") or "").strip()
    fallback = _flag(config.get("TSA_FALLBACK_BB"))
    if not url:
        return TimestampPolicy(None, fallback)
    try:
        timeout = float(config.get("TSA_TIMEOUT") or 10)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"IOFFICE_TSA_TIMEOUT must be a number of seconds, not "
                         f"{config.get('TSA_TIMEOUT')!r}.") from exc
    username, password, bearer = (_text(config.get(k)) for k in
                                  ("TSA_USERNAME", "TSA_PASSWORD", "TSA_BEARER_TOKEN"))
    client = TsaClient(url, timeout=timeout, username=username,
                       password=(password or "") if username else None, bearer_token=bearer)
    return TimestampPolicy(client, fallback)
