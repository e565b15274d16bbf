"""The installable package (issue 18): the sdist holds what the wheel needs, the wheel built from
it installs into a fresh virtualenv outside the repository, and its ``ioffice`` command alone
migrates, creates the PKI, an agency and its admin, serves (gunicorn) a login over HTTP and runs
the exchange worker. The new venv takes its dependencies from this one (a ``.pth`` file), so no
network is needed; the wheel itself is installed with ``--no-deps``.

SQLite always; PostgreSQL + S3 as well when IOFFICE_TEST_DATABASE_URL / IOFFICE_TEST_STORAGE=s3
are set (a database of its own, dropped after)."""

from __future__ import annotations

import fcntl
import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Mat-khau-goi-1"

try:
    import xdist  # noqa: F401

    pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("package")]
except ImportError:
    pytestmark = [pytest.mark.slow]


def _build(hook: str, source: Path, out: Path) -> Path:
    """A PEP 517 hook of setuptools run in ``source`` (what ``python -m build --no-isolation``
    does), so the test needs neither the network nor the ``build`` package."""
    out.mkdir(parents=True, exist_ok=True)
    code = f"from setuptools import build_meta; print(build_meta.{hook}({str(out)!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=source, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """setuptools stages the sdist in ``ioffice-<version>/`` inside the checkout: two xdist
    workers building it at once removed each other's staging folder (seen in CI), so the
    builds of one checkout take turns."""
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"ioffice-sdist-{checkout}.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            return _build("build_sdist", ROOT, tmp_path_factory.mktemp("sdist"))
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def venv(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv holding only the wheel built from the unpacked sdist (so the sdist is
    proven complete), its dependencies seen through a .pth file."""
    work = tmp_path_factory.mktemp("wheel")
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    (source,) = work.iterdir()
    wheel = _build("build_wheel", source, work / "dist")
    env_dir = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "_ioffice_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--no-index", "--ignore-installed", "--quiet", str(wheel)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env_dir


def test_the_sdist_holds_migrations_templates_static_files_and_alembic_ini(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for expected in ("alembic.ini", "setup.py", "setup.cfg", "migrations/env.py",
                     "migrations/script.py.mako", "ioffice/web/templates/base.html",
                     "ioffice/web/static/app.css", "signing/assets/NotoSans-Vietnamese.ttf",
                     "axis_connector/edxml/edxml.xsd", "axis_connector/hub/migrations/env.py",
                     "axis_connector/vxp_standin/migrations/env.py",
                     "axis_connector/vxp_standin/migrations/script.py.mako",
                     "ioffice/deploy/ioffice-web.service"):
        assert expected in names, expected
    assert any(n.startswith("migrations/versions/") and n.endswith(".py") for n in names)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# [sqlite] is the same installation in both CI runs: run once (tests/support/backend_split.py)
@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.backend_free), "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings of the installation: SQLite and local files, or (when the run has them)
    a PostgreSQL database of its own and an S3 bucket."""
    if request.param == "sqlite":
        yield {"IOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'ioffice.db'}"}
        return
    base = os.environ.get("IOFFICE_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("IOFFICE_TEST_DATABASE_URL is not PostgreSQL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"i18_package_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    settings = {"IOFFICE_DATABASE_URL": make_url(base).set(database=name)
                .render_as_string(hide_password=False)}
    if os.environ.get("IOFFICE_TEST_STORAGE") == "s3":
        server = request.getfixturevalue("s3_server")
        settings |= {"IOFFICE_STORAGE": "s3", "IOFFICE_S3_ENDPOINT": server.endpoint,
                     "IOFFICE_S3_ACCESS_KEY": server.access_key or "",
                     "IOFFICE_S3_SECRET_KEY": server.secret_key or "",
                     "IOFFICE_S3_BUCKET": f"ioffice-package-{os.getpid()}"}
    try:
        yield settings
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _env(tmp_path: Path, backend: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("IOFFICE_", "PYTHON", "FLASK_", "VIRTUAL_ENV"))}
    hubs = [{"name": "tinh", "url": f"http://127.0.0.1:{_free_port()}/truc", "system_id": "ioffice",
             "secret": "s" * 32}]  # nobody listens: the worker's round logs it and goes on
    return {**keep, **backend, "IOFFICE_INSTANCE_PATH": str(tmp_path / "instance"),
            "IOFFICE_PLAIN_HTTP": "1", "IOFFICE_EXCHANGE_HUBS": json.dumps(hubs),
            "IOFFICE_LOG_LEVEL": "WARNING"}


def _ioffice(venv: Path, cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(venv / "bin" / "ioffice"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"ioffice {' '.join(args)}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s:\n{log.read_text()[-3000:]}")


def _log_in(base: str) -> tuple[str, str]:
    """GET the login page for its CSRF token, POST the admin's credentials, follow to the home
    page; the home page's HTML and its stylesheet's."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/dang-nhap", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "username": "quantri",
                                   "password": PASSWORD}).encode()
    with opener.open(f"{base}/dang-nhap", data=form, timeout=30) as resp:
        assert urllib.parse.urlsplit(resp.url).path == "/", resp.url
        home = resp.read().decode()
    css = re.search(r'<link rel="stylesheet" href="([^"]+\.css[^"]*)"', home).group(1)
    with opener.open(urllib.parse.urljoin(base, css), timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/css")
        return home, resp.read().decode()


def test_the_installed_command_migrates_serves_a_login_and_runs_the_worker(
        venv: Path, backend: dict[str, str], tmp_path: Path) -> None:
    cwd = tmp_path / "elsewhere"  # nothing of the repository on the path
    cwd.mkdir()
    env = _env(tmp_path, backend)
    assert "Đã nâng cấp" in _ioffice(venv, cwd, env, "db", "upgrade")
    assert "Đã tạo PKI" in _ioffice(venv, cwd, env, "pki", "init")
    _ioffice(venv, cwd, env, "agency", "create", "--code", "000.00.00.H12",
             "--name", "Ủy ban nhân dân tỉnh Cà Mau", "--short-name", "UBND")
    _ioffice(venv, cwd, env, "user", "create", "--agency", "000.00.00.H12", "--username", "quantri",
             "--full-name", "Quản trị viên", "--role", "admin", "--password", PASSWORD)

    port = _free_port()  # the folder as the web unit names it: not made beforehand
    metrics = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "run" / "metrics")}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(venv / "bin" / "ioffice"), "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "1", "--threads", "2"],
                                  cwd=cwd, env=env | metrics, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", server, log)
        home, css = _log_in(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert '<html lang="vi">' in home and "Trang chủ" in home and "Quản trị viên" in home
    assert len(css) > 1000

    out = _ioffice(venv, cwd, env, "exchange", "worker", "--once")
    assert out.startswith("gửi 0, nhận 0")
    # served from the installed package, not from a checkout
    code = "import ioffice, ioffice.migrate as m; print(ioffice.__file__, m.migrations_dir())"
    site = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in site and "_migrations" in site


def test_deploy_files_are_written_with_this_installation_s_paths(venv: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, {"IOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    out = tmp_path / "deploy"
    _ioffice(venv, tmp_path, env, "deploy-files", str(out), "--bind", "127.0.0.1:8010")
    web = (out / "ioffice-web.service").read_text()
    assert f"ExecStart={venv}/bin/ioffice serve --bind 127.0.0.1:8010" in web
    assert f"ExecStart={venv}/bin/ioffice exchange worker" in (out / "ioffice-worker.service").read_text()
    nginx = (out / "nginx-ioffice.conf").read_text()
    assert "server 127.0.0.1:8010;" in nginx and not re.search(r"@[A-Z]+@", nginx)
    static = re.search(r"alias (\S+)/;", nginx).group(1)
    assert (Path(static) / "app.css").is_file() and str(ROOT) not in static
    assert "IOFFICE_DATABASE_URL=" in (out / "ioffice.env.example").read_text()

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit files were not verified")
    proc = subprocess.run([analyze, "verify", str(out / "ioffice-web.service"),
                           str(out / "ioffice-worker.service")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
