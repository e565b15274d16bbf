"""Shared fixtures: one migrated database per run, one rolled-back transaction per test.

The database comes from IOFFICE_TEST_DATABASE_URL (default: a SQLite file in a temporary
folder). On PostgreSQL the schema is dropped and rebuilt at the start of the run.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from ioffice import create_app, migrate
from ioffice.db import make_engine
from ioffice.outgoing import timestamps
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.storage import BlobStore
from signing import Pki, install_speedups
from tests.support.app_caches import share_templates
from tests.support.s3 import S3Server, s3_server_session
from tests.support.workers import owned_name

# What every process of the app runs with (create_app installs them; tests of the signing
# library alone build no app): tests/signing/test_isolation.py checks `import signing` alone.
install_speedups()


def pytest_configure(config: pytest.Config) -> None:
    """Passwords hashed (and verified: the hash carries its parameters) at the test cost in this
    process and its xdist workers: at argon2-cffi's defaults each login verified 64 MiB three
    times, a third of the unit tests' time (docs/testing.md "Suite time"). The servers that the
    browser tests start, and the app's commands run as subprocesses, hash as in production."""
    from ioffice.agencies import passwords
    from signing import remote
    from tests.support import app_caches

    passwords.use_test_cost()
    remote.use_test_cost()  # PIN keys sealed by the tests: scrypt N 2**10, not 2**15
    # one compile of each URL rule's builders per process, not one per test's application
    app_caches.install()

# --seed / IOFFICE_TEST_SEED and the `rng` fixture; the per-worker summary of xdist runs; tests
# touching neither database nor storage deselected on PostgreSQL (--backend-free); pytester
# for the seeds' own tests
pytest_plugins = ["tests.support.seeds", "tests.support.worker_split", "tests.support.backend_split",
                  "pytester"]

DEMO_PASSWORD = "demo-test-pass"


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("IOFFICE_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


def with_schema(url: str, schema: str) -> str:
    """The same PostgreSQL database, every connection working in ``schema``."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def reset_schema(url: str, schema: str, *, drop_only: bool = False) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if not drop_only:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def reset_database(url: str) -> None:
    """Start from an empty database (SQLite: a new file; PostgreSQL: see database_url)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """On PostgreSQL each run, and each xdist worker of a run, works in a schema of its own
    (``run_<worker>_<pid>``) of the given database, created empty and dropped at the end, so
    concurrent runs and workers never collide."""
    url = _database_url(tmp_path_factory.mktemp("db"))
    if not url.startswith("postgresql"):
        yield url
        return
    schema = owned_name("run")
    reset_schema(url, schema)
    try:
        yield with_schema(url, schema)
    finally:
        reset_schema(url, schema, drop_only=True)


PKI_PASSPHRASE = "test-pki-passphrase"


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated government PKI for the whole run."""
    directory = tmp_path_factory.mktemp("pki") / "pki"
    Pki.create(directory, PKI_PASSPHRASE)
    return directory


@pytest.fixture(scope="session")
def pki(pki_dir: Path) -> Pki:
    return Pki.open(pki_dir, PKI_PASSPHRASE)


@pytest.fixture(scope="session")
def tsa_url(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``POST`` URL of the simulated TSA, served over HTTP by the app itself (``TSA_SERVE``)
    on 127.0.0.1 for the whole run: seals in the tests get their timestamps as in production.
    It answers from the PKI alone (no cookie, so no user is loaded; ioffice/web/tsa.py reads
    nothing else): its database is a SQLite file never opened, not the run's database, so the
    tests that only seal with timestamps touch no database (tests/support/backend_split.py)."""
    from tests.support.tsa import serve_app

    instance = tmp_path_factory.mktemp("tsa-instance")
    tsa_app = create_app({"DATABASE_URL": f"sqlite:///{instance / 'unused.db'}",
                          "SECRET_KEY": "test-tsa-server",
                          "PKI_DIR": str(pki_dir), "PKI_PASSPHRASE": PKI_PASSPHRASE,
                          "TSA_SERVE": True, "TSA_RATE_LIMIT": "100000 per minute",
                          "PLAIN_HTTP": True})
    tsa_app.instance_path = str(instance)
    with serve_app(tsa_app) as base:
        yield f"{base}/pki/tsa"
    assert not (instance / "unused.db").exists(), "the TSA server opened a database"


@pytest.fixture(scope="session")
def tsa(tsa_url: str) -> TimestampPolicy:
    """The timestamp policy of the test app: the live TSA above, no fallback."""
    return timestamps.from_config({"TSA_URL": tsa_url})


@pytest.fixture(scope="session")
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Engine]:
    reset_database(database_url)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    _load_demo(engine, tmp_path_factory.mktemp("instance"), pki)
    yield engine
    engine.dispose()


def _load_demo(engine: Engine, instance: Path, pki: Pki) -> None:
    """The demo province, as ``flask demo load`` makes it, but with one argon2 hash of
    DEMO_PASSWORD shared by its 37 accounts: each hash costs ~64 MiB and tens of milliseconds
    (more on a busy machine), and every xdist worker loads the demo. Verification is unchanged
    (the hash carries its own salt and parameters); accounts still differ by everything else."""
    from ioffice import demo
    from ioffice.agencies import service

    hashed = functools.cache(service.hash_password)
    with pytest.MonkeyPatch.context() as patch, Session(engine) as session:
        patch.setattr(service, "hash_password", hashed)
        demo.load(session, password=DEMO_PASSWORD, instance_path=str(instance), pki=pki)
        session.commit()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    yield from s3_server_session()


def test_storage() -> str:
    """``s3`` when the run asks for S3 (IOFFICE_TEST_STORAGE=s3), else ``local``."""
    return os.environ.get("IOFFICE_TEST_STORAGE", "local")


test_storage.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def storage_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    if test_storage() == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        return {"STORAGE": "s3", "S3_ENDPOINT": server.endpoint,
                "S3_ACCESS_KEY": server.access_key or "", "S3_SECRET_KEY": server.secret_key or "",
                "S3_BUCKET": "ioffice-test"}
    return {"STORAGE": "local", "BLOB_DIR": str(tmp_path / "blobs")}


@pytest.fixture
def app_config(database_url: str, storage_config: dict[str, object], pki_dir: Path,
               tsa_url: str) -> dict[str, object]:
    return {
        "TSA_URL": tsa_url,  # the live TSA (the app's own endpoint, on another server)
        "TSA_SERVE": True,
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PLAIN_HTTP": True,  # the test client speaks http://localhost
        "PKI_DIR": str(pki_dir),
        "PKI_PASSPHRASE": PKI_PASSPHRASE,
        "NOTIFY_STREAM_SECONDS": 0,  # the live stream answers its first event and ends
        **storage_config,
    }


@pytest.fixture
def app(app_config: dict[str, object], connection: Connection, tmp_path: Path) -> Flask:
    app = create_app(app_config)
    share_templates(app)  # compiled once per process, not once per test
    app.instance_path = str(tmp_path / "instance")
    app.extensions["ioffice.db"].bind_to(connection)
    return app


@pytest.fixture
def blobs(app: Flask) -> BlobStore:
    """The blob store of this run's configuration (local, or S3 on SeaweedFS)."""
    return app.extensions["ioffice.services"].blobs


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/dang-nhap") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client)
    return client.post("/dang-nhap", data={"csrf_token": token, "username": username,
                                           "password": password})


@pytest.fixture
def login_as(client: FlaskClient):
    def _login(username: str) -> FlaskClient:
        resp = login(client, username)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    return _login
