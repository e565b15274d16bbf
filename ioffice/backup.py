"""Backups an IT team can restore: the database, every stored file and the PKI folder, in one
folder with a manifest of SHA-256 hashes.

Layout of a backup folder::

    manifest.json        format, when, code's migration level, database kind, every file's hash
    database.sqlite      SQLite's online backup (consistent while the app keeps serving), or
    database.pgdump      pg_dump's custom format (one snapshot), restored with pg_restore
    blobs/<sha256>       every document file (content-addressed: the name is the hash)
    named/<name>         derived files kept under a name (previews, held uploads, ...)
    pki/...              the PKI folder (keys stay encrypted with the PKI passphrase, which is
                         NOT in the backup: keep it, and the secret key, in the password safe)

Order: the database first, then the files. Files are never changed once written and only
removed by ``maintenance cleanup`` after a grace period when no row refers to them, so every
file the dumped database refers to is still there when the copy reaches it.

Restore refuses a database or a store that holds data unless ``force``, and checks every hash
in the manifest before it writes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import inspect, make_url, text

FORMAT = 1
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on: the message says why, in Vietnamese."""


@dataclass(frozen=True)
class Summary:
    database: str
    blobs: int
    named: int
    pki_files: int
    bytes: int


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no ``+driver``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_env() -> dict[str, str]:
    return {**os.environ, "PGCONNECT_TIMEOUT": "10"}


def _run(args: list[str], what: str) -> None:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, env=_pg_env(), timeout=6 * 3600)
    except FileNotFoundError as exc:
        raise BackupError(f"Không tìm thấy lệnh {args[0]}: cài gói postgresql-client "
                          "(cùng phiên bản chính với máy chủ PostgreSQL).") from exc
    if proc.returncode != 0:
        raise BackupError(f"{what} thất bại: {proc.stderr.strip()[-500:]}")


def create(app: Flask, folder: Path, *, progress: Callable[[str], None] = lambda _m: None) -> Summary:
    from ioffice.services import services

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"Thư mục {folder} không trống: chọn một thư mục mới cho bản sao lưu.")
    folder.mkdir(parents=True, exist_ok=True)
    url = app.config["DATABASE_URL"]
    files: dict[str, dict[str, Any]] = {}
    kind = make_url(url).get_backend_name()
    progress("Sao lưu cơ sở dữ liệu...")
    if kind == "sqlite":
        target = folder / "database.sqlite"
        _sqlite_copy(make_url(url).database or "", target)
    elif kind == "postgresql":
        target = folder / "database.pgdump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file",
              str(target), _libpq_url(url)], "pg_dump")
    else:
        raise BackupError(f"Không hỗ trợ sao lưu cơ sở dữ liệu loại {kind}.")
    files[target.name] = {"sha256": _sha256_file(target), "size": target.stat().st_size}
    revision = _revision(app)

    progress("Sao lưu tệp...")
    blobs = services(app).blobs
    count_blobs = count_named = 0
    (folder / "blobs").mkdir()
    for item in blobs.list_blobs():
        data = blobs.read_bytes(item.key)  # verified against its hash by the store
        (folder / "blobs" / item.key).write_bytes(data)
        files[f"blobs/{item.key}"] = {"sha256": item.key, "size": len(data)}
        count_blobs += 1
    for item in blobs.list_named():
        data = blobs.get_named(item.key)
        path = folder / "named" / item.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[f"named/{item.key}"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        count_named += 1

    progress("Sao lưu thư mục PKI...")
    pki_dir = Path(app.config["PKI_DIR"])
    pki_files = 0
    if pki_dir.is_dir():
        shutil.copytree(pki_dir, folder / "pki")
        for path in sorted((folder / "pki").rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = {"sha256": _sha256_file(path),
                                                              "size": path.stat().st_size}
                pki_files += 1
    manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "database": kind, "revision": revision, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return Summary(kind, count_blobs, count_named, pki_files,
                   sum(f["size"] for f in files.values()))


def _sqlite_copy(source_path: str | Path, target_path: str | Path) -> None:
    """SQLite's online backup API: a consistent copy while others keep using the source."""
    source = sqlite3.connect(source_path)
    try:
        dest = sqlite3.connect(target_path)
        with dest:
            source.backup(dest)
        dest.close()
    finally:
        source.close()


def _revision(app: Flask) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    from ioffice.db_session import database

    with database(app).engine.connect() as conn:
        return sorted(MigrationContext.configure(conn).get_current_heads())


def verify(folder: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present with its hash and size."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} không phải bản sao lưu iOffice (thiếu hoặc hỏng "
                          f"manifest.json): {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Bản sao lưu định dạng {manifest.get('format')!r}, phiên bản này "
                          f"đọc định dạng {FORMAT}.")
    bad = []
    for name, facts in manifest["files"].items():
        path = folder / name
        if ".." in Path(name).parts or not path.is_file():
            bad.append(f"thiếu {name}")
        elif path.stat().st_size != facts["size"] or _sha256_file(path) != facts["sha256"]:
            bad.append(f"sai mã băm {name}")
    if bad:
        shown = "; ".join(bad[:5]) + (f" và {len(bad) - 5} tệp khác" if len(bad) > 5 else "")
        raise BackupError(f"Bản sao lưu bị hỏng, chưa khôi phục gì: {shown}.")
    return manifest


def restore(app: Flask, folder: Path, *, force: bool = False,
            progress: Callable[[str], None] = lambda _m: None) -> Summary:
    from ioffice.db_session import database
    from ioffice.services import services

    folder = Path(folder)
    manifest = verify(folder)
    url = app.config["DATABASE_URL"]
    kind = make_url(url).get_backend_name()
    if manifest["database"] != kind:
        raise BackupError(f"Bản sao lưu là cơ sở dữ liệu {manifest['database']}, cấu hình hiện "
                          f"tại là {kind}: khôi phục vào cùng loại cơ sở dữ liệu.")
    engine = database(app).engine
    if not force and _holds_data(engine):
        raise BackupError("Cơ sở dữ liệu đích đã có dữ liệu: khôi phục sẽ ghi đè. Dùng --force "
                          "nếu chắc chắn.")
    blobs = services(app).blobs
    if not force and (next(iter(blobs.list_blobs()), None) is not None):
        raise BackupError("Kho lưu trữ đích đã có tệp: dùng --force nếu chắc chắn.")
    pki_dir = Path(app.config["PKI_DIR"])
    if not force and pki_dir.is_dir() and any(pki_dir.iterdir()) and (folder / "pki").is_dir():
        raise BackupError(f"Thư mục PKI {pki_dir} đã có dữ liệu: dùng --force nếu chắc chắn.")

    progress("Khôi phục cơ sở dữ liệu...")
    engine.dispose()
    if kind == "sqlite":
        target = Path(make_url(url).database or "")
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _sqlite_copy(folder / "database.sqlite", target)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--dbname", _libpq_url(url),
              str(folder / "database.pgdump")], "pg_restore")

    progress("Khôi phục tệp...")
    count_blobs = count_named = 0
    for name in manifest["files"]:
        if name.startswith("blobs/"):
            info = blobs.put_bytes((folder / name).read_bytes())
            if info.sha256 != name.removeprefix("blobs/"):  # verified above: cannot happen
                raise BackupError(f"Tệp {name} không khớp mã băm khi ghi vào kho.")
            count_blobs += 1
        elif name.startswith("named/"):
            blobs.put_named(name.removeprefix("named/"), (folder / name).read_bytes())
            count_named += 1
    pki_files = 0
    if (folder / "pki").is_dir():
        progress("Khôi phục thư mục PKI...")
        if pki_dir.exists():
            shutil.rmtree(pki_dir)
        shutil.copytree(folder / "pki", pki_dir)
        pki_files = sum(1 for n in manifest["files"] if n.startswith("pki/"))
    return Summary(kind, count_blobs, count_named, pki_files,
                   sum(f["size"] for f in manifest["files"].values()))


def _holds_data(engine: Any) -> bool:
    """Any of the app's tables with a row (an empty, migrated database may be restored onto)."""
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in ("agencies", "users", "incoming_documents", "outgoing_documents"):
            if table in tables and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():
                return True
    return False
