"""IOFFICE_INSTANCE_PATH: where an installation keeps its own files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ioffice import create_app

ISOLATED = {"IOFFICE_DATABASE_URL", "IOFFICE_BLOB_DIR", "IOFFICE_SECRET_KEY", "IOFFICE_PKI_DIR",
            "IOFFICE_PKI_PASSPHRASE"}


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name in ISOLATED:
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_instance_folder_holds_every_default(clean_env, tmp_path):
    folder = tmp_path / "ioffice-instance"
    clean_env.setenv("IOFFICE_INSTANCE_PATH", str(folder))
    app = create_app()
    assert app.instance_path == str(folder)
    assert app.config["DATABASE_URL"] == f"sqlite:///{folder / 'ioffice.db'}"
    assert app.config["BLOB_DIR"] == str(folder / "blobs")
    assert app.config["PKI_DIR"] == str(folder / "pki")
    # the secrets are made there, kept there, and read back by the next process
    assert (folder / "secret_key").read_text().strip() == app.config["SECRET_KEY"]
    assert (folder / "pki_passphrase").read_text().strip() == app.config["PKI_PASSPHRASE"]
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_a_relative_folder_is_made_absolute(clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    clean_env.setenv("IOFFICE_INSTANCE_PATH", "data/ioffice")
    app = create_app()
    assert app.instance_path == str(tmp_path / "data" / "ioffice")
    assert (tmp_path / "data" / "ioffice" / "secret_key").is_file()


def test_unset_or_blank_keeps_flasks_default(clean_env, tmp_path):
    clean_env.setenv("IOFFICE_SECRET_KEY", "x" * 40)
    clean_env.setenv("IOFFICE_PKI_PASSPHRASE", "p" * 20)
    clean_env.setenv("IOFFICE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    clean_env.delenv("IOFFICE_INSTANCE_PATH", raising=False)
    default = create_app().instance_path
    assert Path(default).name == "instance"
    clean_env.setenv("IOFFICE_INSTANCE_PATH", "  ")
    assert create_app().instance_path == default
