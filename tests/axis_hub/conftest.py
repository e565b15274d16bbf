"""Fixtures for the axis hub: its own migrated database, a test PKI, connected systems.

The database is a SQLite file, or, when IOFFICE_TEST_DATABASE_URL is a PostgreSQL URL, a
database ``axis_test_<worker>_<pid>`` of its own on the same server (created at session start,
dropped at the end; see tests/support/pg.py) so the hub's tests never touch the application's
test database, another xdist worker's or another run's. Migrated once per run; every
test starts from empty tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from sqlalchemy import delete, text

from axis_connector.client import AxisClient
from axis_connector.edxml import build_package, sign_package
from axis_connector.hub import create_app, migrate
from axis_connector.hub.models import Base, System
from axis_connector.hub.services import OPERATOR, AgencyInput, add_system, register_agency
from tests.axis_connector.conftest import CA_MAU, SO_TTTT, VPCP, make_document, make_status
from tests.axis_connector.pki import Identity, make_agency, make_ca
from tests.support.flask_pool import FlaskPool
from tests.support.pg import create_owned_database, drop_database

__all__ = ["CA_MAU", "SO_TTTT", "VPCP", "make_document", "make_status"]

HUB_ORGAN_ID = "000.00.00.H12.LGSP"
SECRETS = {"sys-camau": "secret-camau-0123456789", "sys-vpcp": "secret-vpcp-0123456789",
           "sys-sotttt": "secret-sotttt-0123456789", "sys-admin": "secret-admin-0123456789"}
GRANTS = {"sys-camau": "*.H12", "sys-vpcp": "*.G22,000.01.30.H12", "sys-sotttt": "000.*.13.H12"}
"""The codes each system may register (``add-system --may-register``)."""


@pytest.fixture(scope="session")
def hub_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = create_owned_database("axis_test") or f"sqlite:///{tmp_path_factory.mktemp('axis') / 'hub.db'}"
    migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def root_ca() -> Identity:
    return make_ca("Test Root CA for the axis")


@pytest.fixture(scope="session")
def rogue_ca() -> Identity:
    return make_ca("Rogue CA")


@pytest.fixture(scope="session")
def seals(root_ca: Identity) -> dict[str, Identity]:
    return {org.organ_id: make_agency(root_ca, org.organ_id, org.organ_name)
            for org in (CA_MAU, VPCP, SO_TTTT)}


def pem(identity: Identity) -> str:
    return identity.certificate.public_bytes(Encoding.PEM).decode()


def hub_config(url: str, root_ca: Identity, **changes: Any) -> dict[str, Any]:
    config = {"TESTING": True, "DATABASE_URL": url, "ORGAN_ID": HUB_ORGAN_ID, "NAME": "LGSP Cà Mau",
              "TRUSTED_CA_PEM": pem(root_ca), "MAX_PACKAGE_MB": 1, "PUSH_INLINE": False,
              "ALLOW_PRIVATE_CALLBACKS": True}  # the callback receivers listen on 127.0.0.1
    config.update(changes)
    return config


@pytest.fixture
def app(hub_database_url: str, root_ca: Identity, seals: dict[str, Identity]) -> Iterator[Flask]:
    app = create_app(hub_config(hub_database_url, root_ca))
    hub = app.extensions["axis_hub"]
    with hub.db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
        for system_id, secret in SECRETS.items():
            add_system(session, system_id, system_id, secret, is_admin=system_id == "sys-admin",
                       register_patterns=GRANTS.get(system_id, ""))
        for org, system_id in ((CA_MAU, "sys-camau"), (VPCP, "sys-vpcp"), (SO_TTTT, "sys-sotttt")):
            register_agency(session, hub.settings, OPERATOR, AgencyInput(
                org.organ_id, org.organ_name, level="test", certificate_pem=pem(seals[org.organ_id]),
                system_id=system_id))
        session.commit()
    yield app
    hub.db.dispose()


def set_base_url(app: Flask, system_id: str, base_url: str | None) -> None:
    """The operator sets a system's own address (``add-system --base-url``)."""
    with app.extensions["axis_hub"].db.session() as session:
        system = session.get(System, system_id)
        add_system(session, system.id, system.name, system.secret, is_admin=system.is_admin,
                   organ_patterns=system.organ_patterns, register_patterns=system.register_patterns,
                   callback_url=system.callback_url, base_url=base_url)
        session.commit()


@pytest.fixture
def clients(app: Flask) -> dict[str, AxisClient]:
    pool = FlaskPool(app.test_client())
    return {name.removeprefix("sys-"): AxisClient("http://hub", name, secret, pool=pool)
            for name, secret in SECRETS.items()}


@pytest.fixture
def signed_document(seals: dict[str, Identity]) -> bytes:
    seal = seals[CA_MAU.organ_id]
    return sign_package(build_package(make_document()), seal.key, [seal.certificate])


def sign(package: Any, seal: Identity) -> bytes:
    return sign_package(build_package(package), seal.key, [seal.certificate])


def count_messages(app: Flask) -> int:
    with app.extensions["axis_hub"].db.session() as session:
        return session.execute(text("SELECT count(*) FROM axis_messages")).scalar_one()


def tmp_sqlite(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"
