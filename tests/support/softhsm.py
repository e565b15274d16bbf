"""A real SoftHSM2 token store for the tests (Debian package ``softhsm2``).

SoftHSM reads ``SOFTHSM2_CONF`` and lists its tokens when the module is initialized, once per
process; tokens created later are not seen until it is initialized again, which would close
every session of the process. So each test process gets its own configuration and token
directory (under pytest's temporary directory), and every token the tests need is created up
front, before the module is first loaded. Tokens are named by what the tests do with them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246810"
SO_PIN = "13579135"

SEAL = "iOffice Seal"
"""Holds the agency seal keys the tests sign with (RSA label ``seal``, EC label ``seal-ec``)."""
WRONG_PIN = "Wrong PIN"
"""Never logged in with the right PIN in the tests: a wrong PIN is refused by the token."""
EMPTY = "Empty"
"""Logged in, holds nothing: key missing."""
PROVISION = "Provision"
"""Empty at first: the CLI generates a key and stores a certificate in it."""
TOKENS = (SEAL, WRONG_PIN, EMPTY, PROVISION)


def available() -> bool:
    return Path(MODULE).exists() and shutil.which("softhsm2-util") is not None


@dataclass(frozen=True)
class SoftHsm:
    directory: Path
    module: str = MODULE
    pin: str = PIN

    def util(self, *args: str) -> str:
        return subprocess.run(["softhsm2-util", *args], check=True, capture_output=True,
                              text=True, env=os.environ | {"SOFTHSM2_CONF": self.conf}).stdout

    @property
    def conf(self) -> str:
        return str(self.directory / "softhsm2.conf")


_instance: SoftHsm | None = None


def softhsm(base: Path) -> SoftHsm:
    """This process's token store (made on the first call; ``base``: a temporary folder)."""
    global _instance
    if _instance is None:
        tokens = base / "tokens"
        tokens.mkdir(parents=True)
        conf = base / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                        "log.level = ERROR\nslots.removable = false\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the module, in this process
        hsm = SoftHsm(base)
        for label in TOKENS:
            hsm.util("--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN)
        _instance = hsm
    return _instance


PIN_ENV = "IOFFICE_TEST_TOKEN_PIN"
"""The tests' token PIN comes from this environment variable (as a deployment's would)."""


def setting(hsm: SoftHsm, label: str = SEAL, key_label: str = "seal", key_id: str = "01",
            **extra: str) -> dict[str, str]:
    """One agency's entry of ``IOFFICE_SEAL_TOKENS``."""
    return {"module": hsm.module, "token": label, "key_label": key_label, "key_id": key_id,
            "pin_env": PIN_ENV, **extra}


def provision(hsm: SoftHsm, pki, entry: dict[str, str], agency_id: str, agency_name: str,
              key_type: str = "rsa"):
    """A key made in the token and its seal certificate, issued by ``pki`` from the token's
    CSR and stored in the token beside it; done once per key and process. Returns the
    certificate (asn1crypto)."""
    from signing.pkcs11 import (
        TokenConfig,
        check_token,
        generate_token_key,
        open_token_credential,
        store_certificate,
        token_csr,
    )

    os.environ.setdefault(PIN_ENV, hsm.pin)
    config = TokenConfig.from_dict(entry)
    if not check_token(config).signature_ok:
        generate_token_key(config, key_type)
        cert = pki.issue_from_csr(token_csr(config, agency_name), kind="seal",
                                  agency_id=agency_id, agency_name=agency_name)
        store_certificate(config, cert)
    return open_token_credential(config).certificate
