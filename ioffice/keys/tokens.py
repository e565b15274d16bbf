"""Agency seals held in PKCS#11 tokens, chosen by the ``SEAL_TOKENS`` setting.

``IOFFICE_SEAL_TOKENS`` is a JSON object keyed by agency code::

    {"000.00.00.H12": {"module": "/usr/lib/softhsm/libsofthsm2.so", "token": "UBND Ca Mau",
                       "key_label": "seal", "key_id": "01",
                       "pin_file": "/etc/ioffice/tokens/h12.pin"}}

(``pin_env`` names an environment variable instead of ``pin_file``; ``certificate``, a
certificate file used instead of the one stored in the token). Why a setting and not a table
the admin edits on the web: see docs/signing.md, "Seals in PKCS#11 tokens".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping

from signing import Credential, TrustStore
from signing.pkcs11 import TokenConfig, TokenError, open_token_credential

__all__ = ["CREDENTIAL_TTL", "SealTokens", "TokenError"]

CREDENTIAL_TTL = 60.0
"""Seconds a found key and certificate are reused before the token is asked again (a
certificate replaced in the token is seen within this time)."""


class SealTokens:
    """The configured tokens, per agency code; empty when the setting is unset."""

    def __init__(self, setting: Mapping[str, Mapping] | str | None) -> None:
        if isinstance(setting, str):
            try:
                setting = json.loads(setting) if setting.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"IOFFICE_SEAL_TOKENS is not JSON: {exc}") from exc
        if not isinstance(setting or {}, Mapping):
            raise ValueError("IOFFICE_SEAL_TOKENS must be a JSON object keyed by agency code")
        self._configs: dict[str, TokenConfig] = {}
        for code, entry in (setting or {}).items():
            try:
                self._configs[str(code)] = TokenConfig.from_dict(dict(entry))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"IOFFICE_SEAL_TOKENS[{code!r}]: {exc}") from exc
        self._cache: dict[str, tuple[float, Credential]] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._configs)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._configs)

    def config(self, agency_code: str) -> TokenConfig | None:
        return self._configs.get(agency_code)

    def credential(self, agency_code: str, trust: TrustStore) -> Credential:
        """The agency's seal in its token, with the chain found in ``trust``
        (:class:`TokenError` with a Vietnamese message if the token cannot be used)."""
        from ioffice.keys.service import certificate_chain

        config = self._configs[agency_code]
        with self._lock:
            cached = self._cache.get(agency_code)
            if cached is not None and time.monotonic() - cached[0] < CREDENTIAL_TTL:
                return cached[1]
        found = open_token_credential(config)
        credential = Credential(certificate=found.certificate, private_key=found.private_key,
                                chain=certificate_chain(trust, found.certificate))
        with self._lock:
            self._cache[agency_code] = (time.monotonic(), credential)
        return credential

    def forget(self, agency_code: str | None = None) -> None:
        """Ask the token again next time (after provisioning)."""
        with self._lock:
            if agency_code is None:
                self._cache.clear()
            else:
                self._cache.pop(agency_code, None)
