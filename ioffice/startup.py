"""Checks before serving: a service that cannot work says why in one line and exits 1, instead
of starting and answering every request with an error page.

Run by the gunicorn config (``ioffice.exchange.gunicorn_hooks``, in the master before any worker
starts) and by ``flask exchange worker``. Never by ``create_app``: ``flask db upgrade`` must run
on a database that is not yet upgraded.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ioffice.migrate import alembic_config

_PROBE = "startup-check/probe"


def problems(app: Flask) -> list[str]:
    """What stops this installation from serving, one Vietnamese line each (empty: none).
    The database comes first: without it the rest is not worth checking."""
    from ioffice.db_session import database

    url = app.config["DATABASE_URL"]
    shown = make_url(url).render_as_string(hide_password=True)
    engine = database(app).engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return [f"Không kết nối được cơ sở dữ liệu {shown} (IOFFICE_DATABASE_URL): "
                f"{_reason(exc)}"]
    finally:
        engine.dispose()  # the master forks the workers: they open their own connections
    found = []
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    if current != heads:
        state = "chưa có bảng nào" if not current else f"đang ở phiên bản {', '.join(sorted(current))}"
        found.append(f"Cơ sở dữ liệu {shown} chưa được nâng cấp ({state}, cần "
                     f"{', '.join(sorted(heads))}): chạy `ioffice db upgrade` (hoặc "
                     "`flask --app wsgi db upgrade`) trước khi khởi động.")
    try:
        from ioffice.services import services

        blobs = services(app).blobs
        blobs.put_named(_PROBE, b"startup check")  # reachable and writable
        blobs.delete_named(_PROBE)
    except Exception as exc:
        found.append(f"Không truy cập được kho lưu trữ {_store(app)}: {_reason(exc)}")
    public = public_url_problem(app.config.get("PUBLIC_URL"))
    if public:
        found.append(public)
    try:  # read, not contacted: a TSA that is down only refuses seals (or gives B-B ones)
        from ioffice.outgoing.timestamps import from_config

        from_config(app.config)
    except ValueError as exc:
        found.append(f"Cấu hình máy chủ cấp dấu thời gian (IOFFICE_TSA_*) không hợp lệ: {exc}")
    days = app.config.get("RETIMESTAMP_DAYS")
    try:
        if not float(days) >= 0:  # NaN fails too
            raise ValueError
    except (TypeError, ValueError):
        found.append(f"IOFFICE_RETIMESTAMP_DAYS phải là một số ngày không âm, không phải {days!r}.")
    try:
        from ioffice.services import services

        services(app).seal_tokens  # noqa: B018  (parsed: a malformed setting stops here)
    except ValueError as exc:
        found.append(f"Cấu hình token con dấu số không hợp lệ: {exc}")
    return found


def public_url_problem(value: object) -> str | None:
    """IOFFICE_PUBLIC_URL, when set, must be where validators can fetch from: an absolute
    http(s) URL with a host, nothing after the path (certificates issued name it)."""
    if not value:
        return None
    parts = urlsplit(str(value))
    if parts.scheme in ("http", "https") and parts.hostname and not (parts.query or parts.fragment):
        return None
    return (f"IOFFICE_PUBLIC_URL «{value}» không phải địa chỉ http(s) đầy đủ (ví dụ "
            "http://ioffice.camau.gov.vn): các chứng thư số cấp ra ghi địa chỉ này để bên nhận "
            "kiểm tra thu hồi.")


def _store(app: Flask) -> str:
    if app.config.get("STORAGE") == "s3":
        return (f"S3 {app.config.get('S3_ENDPOINT')} bucket {app.config.get('S3_BUCKET')} "
                "(IOFFICE_S3_ENDPOINT, IOFFICE_S3_BUCKET)")
    return f"{app.config.get('BLOB_DIR')} (IOFFICE_BLOB_DIR)"


def _reason(exc: BaseException) -> str:
    """The driver's own first line (it names the host, the refusal, the missing file)."""
    cause = getattr(exc, "orig", None) or exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return first[:300]


def notes(app: Flask) -> list[str]:
    """What works only in part on this installation, one Vietnamese line each: said at start-up
    (and on the administrator's page), but the service starts. Today: OCR of scanned paper
    (ocrmypdf, tesseract-ocr-vie); without it scans register, unsearchable by their text."""
    from ioffice.ocr.engine import problem

    found = []
    ocr = problem()
    if ocr:
        found.append(ocr)
    return found


def check_or_exit(app: Flask) -> None:
    """Print each problem on its own line to standard error and exit 1 if there is any; then
    each note (:func:`notes`), which does not stop the start."""
    found = problems(app)
    if found:
        for line in found:
            print(f"iOffice không khởi động: {line}", file=sys.stderr)
        raise SystemExit(1)
    for line in notes(app):
        print(f"iOffice lưu ý: {line}", file=sys.stderr)
