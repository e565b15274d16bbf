"""The composition root builds the PKI, the trust store and the credentials once per process:
the web and the exchange runtime get the same ones, and a revocation made elsewhere reaches
both (the web at once, the long-running worker within TRUST_RECHECK_SECONDS)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from ioffice import create_app
from ioffice.exchange import runtime
from ioffice.exchange.runtime import exchange
from ioffice.services import services
from signing import CredentialSource, Pki

PASSPHRASE = "root-test"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def own_pki(tmp_path: Path) -> Path:
    Pki.create(tmp_path / "pki", PASSPHRASE)
    return tmp_path / "pki"


@pytest.fixture()
def root_app(app_config: dict, own_pki: Path, tmp_path: Path, engine) -> Flask:
    """An app on the run's migrated database (``engine``: the imported trust anchors are read
    there), with a PKI of its own."""
    app = create_app({**app_config, "PKI_DIR": str(own_pki), "PKI_PASSPHRASE": PASSPHRASE})
    app.instance_path = str(tmp_path / "instance")
    return app


def test_web_and_exchange_share_one_pki_trust_store_and_credentials(root_app: Flask) -> None:
    s, rt = services(root_app), exchange(root_app)
    assert rt.signing is s.signing
    assert rt.pki is s.pki
    assert rt.trust is s.trust  # one store: what a validation learns serves the next, either side
    assert s.trust is s.trust  # kept while the revocation data is unchanged
    assert isinstance(s.signing.credentials, CredentialSource)
    seal = s.pki.issue_seal("000.00.00.G01", "Bộ Nội vụ")
    assert s.signing.credentials.credential(seal.serial).certificate.dump() == seal.certificate.dump()


def test_a_revocation_made_by_another_process_reaches_web_at_once_and_worker_on_recheck(
        root_app: Flask, own_pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, rt = services(root_app), exchange(root_app)
    seal = s.pki.issue_seal("000.00.00.G02", "Bộ Tư pháp")
    monkeypatch.setattr(runtime, "TRUST_RECHECK_SECONDS", 3600.0)
    before = rt.trust
    assert seal.serial not in before.revoked_serials()

    Pki.open(own_pki, PASSPHRASE).revoke(seal.serial)  # as the CLI or another worker would

    assert rt.trust is before  # the worker looks again only after its recheck interval
    web = s.trust
    assert web is not before and seal.serial in web.revoked_serials()
    monkeypatch.setattr(runtime, "TRUST_RECHECK_SECONDS", 0.0)
    assert rt.trust is web


def test_create_app_installs_the_speedups_which_import_alone_does_not(
        app_config: dict, own_pki: Path) -> None:
    config = {**app_config, "PKI_DIR": str(own_pki), "PKI_PASSPHRASE": PASSPHRASE}
    script = (
        "import json, sys\n"
        "from signing import _pyhanko_speedups as s\n"
        "import ioffice, signing\n"
        "imported = any(s.active().values())\n"
        "ioffice.create_app(json.loads(sys.argv[1]))\n"
        "print(json.dumps([imported, s.active()]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, json.dumps(config)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    imported, active = json.loads(out.stdout.strip().splitlines()[-1])
    assert imported is False
    assert active and all(active.values()), active
