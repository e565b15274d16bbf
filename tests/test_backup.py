"""Backup and restore round trip, on the run's database kind and storage: a fresh installation
(migrated, PKI, demo province, a registered document signed with the agency's seal) is backed up
and restored into an empty database, an empty store and no PKI; the documents, their files, the
signature and the audit chain come back intact. A tampered backup and a non-empty target are
refused."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from ioffice import create_app, migrate
from ioffice.agencies.models import Agency, User
from ioffice.audit.models import AuditEvent
from ioffice.audit.service import verify_chain
from ioffice.db_session import database
from ioffice.incoming.models import DocumentFile, IncomingDocument
from ioffice.incoming.registration import UploadedFile, register_paper
from ioffice.keys.service import seal_credential
from ioffice.services import services
from signing import Pki, Verdict, sign_pdf, validate_pdf
from tests.conftest import test_storage
from tests.support.factories import actor, incoming_input, pdf

PASSWORD = "demo-backup-pass"
PASSPHRASE = "backup-pki-passphrase"
TABLES = ("agencies", "users", "memberships", "incoming_documents", "incoming_files",
          "audit_events", "audit_heads", "signing_certificates", "registers")


@pytest.fixture
def two_databases(tmp_path: Path) -> Iterator[tuple[str, str]]:
    base = os.environ.get("IOFFICE_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'source.db'}", f"sqlite:///{tmp_path / 'target.db'}"
        return
    names = [f"ioffice_backup_{side}_{os.getpid()}" for side in ("src", "dst")]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    root = base.rsplit("/", 1)[0]
    try:
        yield f"{root}/{names[0]}", f"{root}/{names[1]}"
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _app(request: pytest.FixtureRequest, tmp_path: Path, url: str, side: str) -> Flask:
    config: dict[str, object] = {
        "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "backup-test-secret", "PLAIN_HTTP": True,
        "PKI_DIR": str(tmp_path / side / "pki"), "PKI_PASSPHRASE": PASSPHRASE}
    if test_storage() == "s3":
        server = request.getfixturevalue("s3_server")
        config.update(STORAGE="s3", S3_ENDPOINT=server.endpoint,
                      S3_ACCESS_KEY=server.access_key or "", S3_SECRET_KEY=server.secret_key or "",
                      S3_BUCKET=f"ioffice-backup-{side}-{os.getpid()}")
    else:
        config.update(STORAGE="local", BLOB_DIR=str(tmp_path / side / "blobs"))
    return create_app(config)


def _counts(app: Flask) -> dict[str, int]:
    with database(app).engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _seed(app: Flask) -> str:
    """The demo province and one incoming document whose PDF carries Cà Mau's seal."""
    migrate.upgrade(app.config["DATABASE_URL"])
    Pki.create(Path(app.config["PKI_DIR"]), PASSPHRASE)
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    ports = services(app)
    with app.app_context(), database(app).session() as session:
        clerk = actor(session, "vanthu.camau")
        signed = sign_pdf(pdf("Quyết định về việc sao lưu dữ liệu"),
                          seal_credential(session, ports.pki, clerk.agency_id), trust=ports.trust)
        doc = register_paper(session, ports.blobs, clerk, incoming_input(
            files=(UploadedFile("quyet-dinh.pdf", signed),)))
        session.commit()
        return session.scalars(select(DocumentFile.sha256).where(
            DocumentFile.document_id == doc.id)).one()


def test_backup_restores_documents_files_signatures_and_audit_chain(
        request: pytest.FixtureRequest, tmp_path: Path, two_databases: tuple[str, str]) -> None:
    source = _app(request, tmp_path, two_databases[0], "source")
    sha256 = _seed(source)
    backup_dir = tmp_path / "backup"
    made = source.test_cli_runner().invoke(args=["backup", "create", str(backup_dir)])
    assert made.exit_code == 0, made.output
    assert "Đã sao lưu" in made.output and (backup_dir / "manifest.json").is_file()
    assert (backup_dir / "blobs" / sha256).is_file()
    expected = _counts(source)
    database(source).engine.dispose()

    target = _app(request, tmp_path, two_databases[1], "target")
    restored = target.test_cli_runner().invoke(args=["backup", "restore", str(backup_dir)])
    assert restored.exit_code == 0, restored.output
    assert _counts(target) == expected
    ports = services(target)
    assert ports.blobs.read_bytes(sha256)  # verified against its hash by the store
    report = validate_pdf(ports.blobs.read_bytes(sha256), ports.trust)
    assert report.verdict is Verdict.VALID
    with database(target).session() as session:
        assert verify_chain(session) == []
        assert session.scalar(select(func.count()).select_from(IncomingDocument)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent)) > 0
        assert session.scalar(select(Agency.name).where(Agency.code == "000.00.00.H12"))
        assert session.scalar(select(User.id).where(User.username == "vanthu.camau"))
    client = target.test_client()
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/dang-nhap", data={"csrf_token": token, "username": "vanthu.camau",
                                           "password": PASSWORD})
    assert resp.status_code == 302

    again = target.test_cli_runner().invoke(args=["backup", "restore", str(backup_dir)])
    assert again.exit_code != 0 and "đã có dữ liệu" in again.output and "--force" in again.output
    forced = target.test_cli_runner().invoke(args=["backup", "restore", "--force", str(backup_dir)])
    assert forced.exit_code == 0, forced.output
    assert _counts(target) == expected
    database(target).engine.dispose()


def test_a_tampered_backup_restores_nothing(request: pytest.FixtureRequest, tmp_path: Path,
                                            two_databases: tuple[str, str]) -> None:
    source = _app(request, tmp_path, two_databases[0], "source")
    sha256 = _seed(source)
    backup_dir = tmp_path / "backup"
    assert source.test_cli_runner().invoke(args=["backup", "create", str(backup_dir)]).exit_code == 0
    database(source).engine.dispose()
    (backup_dir / "blobs" / sha256).write_bytes(b"%PDF-1.7 not the signed file")
    target = _app(request, tmp_path, two_databases[1], "target")
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(backup_dir)])
    assert result.exit_code != 0
    assert "Bản sao lưu bị hỏng, chưa khôi phục gì" in result.output and sha256 in result.output
    with database(target).engine.connect() as conn:  # nothing was written
        assert "agencies" not in {r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master" if conn.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    assert not Path(target.config["PKI_DIR"]).exists()
    database(target).engine.dispose()


def test_a_backup_needs_an_empty_folder(request: pytest.FixtureRequest, tmp_path: Path,
                                        two_databases: tuple[str, str]) -> None:
    source = _app(request, tmp_path, two_databases[0], "source")
    migrate.upgrade(two_databases[0])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    result = source.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "busy")])
    assert result.exit_code != 0 and "không trống" in result.output
    shutil.rmtree(tmp_path / "busy")
    database(source).engine.dispose()
