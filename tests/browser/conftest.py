"""Browser tests: the real app under gunicorn, on its own database, driven by Debian's Chromium.

Fixtures (reuse them from any test under tests/browser/):

- ``live_server`` (session) -> ``str``: base URL (no trailing slash) of gunicorn serving
  ``wsgi:app`` with 2 workers, on a database of its own, migrated and loaded with the demo
  province by the app's own commands (``flask db upgrade``, ``flask demo load``). Every demo
  account's password is ``DEMO_PASSWORD``. On PostgreSQL (``IOFFICE_TEST_DATABASE_URL``) the
  database is ``ioffice_browser_<pid>`` on the same server, created for the run and dropped after;
  otherwise a SQLite file in a temporary folder.
- ``axis_server`` (session) -> ``AxisServer`` (``.url``, ``.env``, ``.log``): another server,
  set up like ``make run`` (hubs mounted, ``exchange setup-demo``, forwarders and the exchange
  worker running), on its own database (``ioffice_story_<pid>``) and instance folder. Only the
  cross-agency story (``test_story.py``) uses it.
- ``browser`` (package: stopped on leaving tests/browser/, see ``playwright``)
  -> ``playwright.sync_api.Browser``: headless /usr/bin/chromium.
- ``page`` (function) -> ``Page``: a fresh context (no cookies) at 1280x800, Vietnamese locale.
  Other viewports: ``new_page(browser, width=390, height=844)``.
- ``console`` (function) -> ``list[ConsoleEntry]``: console messages and uncaught page errors
  of ``page``, collected from the start of the test.

Helpers: ``login(page, base_url, username, password=DEMO_PASSWORD)`` fills the real login form;
``screenshot(page, name)`` saves ``test-artifacts/screenshots/<name>.png`` (full page);
``horizontal_overflow(page)`` is how many CSS pixels the page is wider than its viewport.
A phone as a phone is emulated (touch, mobile viewport, 3x pixels): ``new_page(browser, **PHONE_DEVICE)``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from tests.support.workers import process_alive

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-browser-pass"
BROWSER_DB = "ioffice_browser"
STORY_DB = "ioffice_story"
METRICS_TOKEN = "metrics-browser-token"  # the axis server's /metrics
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# a phone as Chromium emulates one: touch, a mobile viewport (the meta viewport applies), 3x pixels
PHONE_DEVICE = {**PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


# --- the database of the live server ---------------------------------------------------------

def _admin_url(test_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(test_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _browser_database_url(tmp: Path, name: str = BROWSER_DB) -> str:
    """A database of its own: never the one the unit tests roll back in, nor another run's.
    On PostgreSQL it is ``<name>_<pid of this run>``, dropped by :func:`_drop_browser_database`;
    one left by a run that no longer exists (interrupted) is dropped here first."""
    test_url = os.environ.get("IOFFICE_TEST_DATABASE_URL", "")
    if not test_url.startswith("postgresql"):
        return f"sqlite:///{tmp / 'browser.db'}"
    import psycopg
    from sqlalchemy.engine import make_url

    own = f"{name}_{os.getpid()}"
    with psycopg.connect(_admin_url(test_url), autocommit=True) as conn:
        existing = [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
            (name, name.replace("_", r"\_") + r"\_%"))]
        for datname in existing:
            suffix = datname[len(name) + 1:]
            if datname == own or (suffix.isdigit() and process_alive(int(suffix))):
                continue
            # FORCE: a gunicorn left over from an interrupted run must not block the drop
            conn.execute(f'DROP DATABASE IF EXISTS "{datname}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{own}"')
    return make_url(test_url).set(database=own).render_as_string(hide_password=False)


def _drop_browser_database(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(database_url).database
    # connected to the tests' database: PostgreSQL cannot drop the one a session is in
    with psycopg.connect(_admin_url(os.environ["IOFFICE_TEST_DATABASE_URL"]), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')




def _app_env(database_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOFFICE_")}
    env.update({
        "IOFFICE_DATABASE_URL": database_url,
        "IOFFICE_SECRET_KEY": secrets.token_urlsafe(32),
        "IOFFICE_STORAGE": "local",
        "IOFFICE_BLOB_DIR": str(tmp / "blobs"),
        "IOFFICE_PKI_DIR": str(tmp / "pki"),
        "IOFFICE_PKI_PASSPHRASE": secrets.token_urlsafe(16),
        "IOFFICE_PLAIN_HTTP": "1",  # http://127.0.0.1: a Secure cookie would not come back
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _serve_tsa(env: dict[str, str], url: str) -> None:
    """The server serves the simulated TSA and seals with timestamps from it, over HTTP, as
    ``make run`` does."""
    env.update({"IOFFICE_TSA_SERVE": "1", "IOFFICE_TSA_URL": f"{url}/pki/tsa"})


def _flask_all(env: dict[str, str], *commands: list[str], app: str = "wsgi") -> None:
    """``flask --app APP COMMAND`` for each command, in one process (tests/browser/setup_commands.py:
    one import of the app instead of one per command, one argon2 hash for the demo accounts)."""
    cmd = [sys.executable, "-m", "tests.browser.setup_commands", json.dumps(commands), app]
    # a guard against a hung command, not a budget: `demo load` took over 120 s on a 2-core
    # machine running two workers and other jobs when it still hashed 37 passwords
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd[1:])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


# --- the server ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode} before answering.\n"
                        f"--- log tail ---\n{_tail(log)}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "/dang-nhap", timeout=2) as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer {url} within {START_TIMEOUT_S:.0f} s ({last}).\n"
                f"--- log tail ---\n{_tail(log)}", pytrace=False)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; the master stops its workers
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group we created: master and its workers
        proc.wait(timeout=STOP_TIMEOUT_S)


LIVE_ENV: dict[str, str] = {}
"""The ``live_server``'s environment once it runs: a test may start a second server on the same
database, instance folder and PKI with a setting changed (:func:`start_gunicorn`)."""


def start_gunicorn(env: dict[str, str], log: Path, workers: int = 1
                   ) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn serving ``wsgi:app`` with ``env`` on a free port, answering: (process, URL).
    Stop it with :func:`stop_gunicorn`."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--graceful-timeout", "3", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(proc, url, log)
    except BaseException:
        _stop(proc)
        raise
    return proc, url


def stop_gunicorn(proc: subprocess.Popen[bytes]) -> None:
    _stop(proc)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("live_server")
    database_url = _browser_database_url(tmp)
    env = _app_env(database_url, tmp)
    # an instance folder of its own: wsgi.py would read the repository's instance/, where a
    # developer's `make run` leaves exchange-demo.json (hubs on, and their PKI is not ours)
    env["IOFFICE_INSTANCE_PATH"] = str(tmp / "instance")
    (tmp / "instance").mkdir()
    app = "wsgi"
    _flask_all(env, ["db", "upgrade"], ["pki", "init"], ["demo", "load", "--password", DEMO_PASSWORD],
               app=app)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    _serve_tsa(env, url)
    log = tmp / "gunicorn.log"
    with log.open("wb") as out:
        # threads: a seal's request to the server's own TSA endpoint is answered by another
        # thread even when both workers are sealing (docs/signing.md, "Timestamps over HTTP")
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4",
             "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--graceful-timeout", "3", f"{app}:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(proc, url, log)
        LIVE_ENV.update(env)
        yield url
    finally:
        LIVE_ENV.clear()
        _stop(proc)
        _drop_browser_database(database_url)


@pytest.fixture(scope="session")
def axis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AxisServer]:
    """A second live server set up like ``make run``: both demo hubs mounted (``/truc/tinh``,
    ``/truc/quoc-gia``), ``exchange setup-demo`` done, the hub forwarders and the exchange worker
    running in one gunicorn worker. Its instance folder (hub databases, worker lock) is a
    temporary one (``IOFFICE_INSTANCE_PATH``), its database ``ioffice_story_<pid>`` on PostgreSQL.
    Polls every 0.3 s (``make run``: 2 s) so a package crosses both hubs in about 2 s."""
    tmp = tmp_path_factory.mktemp("axis_server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = _browser_database_url(tmp, STORY_DB)
    env = _app_env(database_url, tmp)
    env.update({"IOFFICE_INSTANCE_PATH": str(tmp / "instance"),
                "IOFFICE_EXCHANGE_DEMO_URL": url,
                "IOFFICE_EXCHANGE_POLL_INTERVAL": "0.3",
                "IOFFICE_EXCHANGE_BACKOFF_SECONDS": "0.5",
                "IOFFICE_METRICS_TOKEN": METRICS_TOKEN,
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus")})
    _serve_tsa(env, url)
    (tmp / "instance").mkdir()
    (tmp / "prometheus").mkdir()  # the commands below count in it too (the hooks empty it)
    app = "wsgi"
    _flask_all(env, ["db", "upgrade"], ["pki", "init"], ["demo", "load", "--password", DEMO_PASSWORD],
               ["exchange", "setup-demo"], app=app)
    log = tmp / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--graceful-timeout", "3",
             "-c", "python:ioffice.exchange.gunicorn_hooks", f"{app}:application"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(proc, url, log)
        yield AxisServer(url, env, log)
    finally:
        _stop(proc)
        _drop_browser_database(database_url)


@dataclass(frozen=True)
class AxisServer:
    url: str
    env: dict[str, str]  # the server's IOFFICE_* environment, for service-level setup steps
    log: Path


# --- the browser -----------------------------------------------------------------------------

# Package scope, not session: while the sync Playwright API is started, its asyncio loop counts
# as running in this thread, and code run by later tests (asyncio.run, "inside an event loop?"
# checks in signing/) would break. Leaving tests/browser/ stops it.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
    yield browser
    browser.close()


def new_page(browser: Browser, *, width: int = 1280, height: int = 800, **options: object) -> Page:
    """A page in a fresh context (its own cookies); close it with ``page.context.close()``."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh", **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, **DESKTOP)
    yield page
    page.context.close()


@dataclass(frozen=True)
class ConsoleEntry:
    type: str  # "error", "warning", "log", ... or "pageerror" for an uncaught exception
    text: str
    url: str

    def __str__(self) -> str:
        return f"[{self.type}] {self.text} ({self.url})"


def collect_console(page: Page) -> list[ConsoleEntry]:
    """Console messages and uncaught errors of ``page`` from now on (CSP violations land here)."""
    entries: list[ConsoleEntry] = []

    def _message(msg: ConsoleMessage) -> None:
        entries.append(ConsoleEntry(msg.type, msg.text, msg.location.get("url", "")))

    def _page_error(exc: Error) -> None:
        entries.append(ConsoleEntry("pageerror", str(exc), page.url))

    page.on("console", _message)
    page.on("pageerror", _page_error)
    return entries


@pytest.fixture
def console(page: Page) -> list[ConsoleEntry]:
    return collect_console(page)


# --- helpers ---------------------------------------------------------------------------------

_SESSIONS: dict[tuple[str, str], list] = {}
"""(server, username) -> the cookies of a session a form login opened there with the demo password."""


def login(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD, *,
          form: bool = False) -> Page:
    """Log in and wait for the page it leads to.

    The first login of a demo account on a server goes through the real form; later ones put
    that session's cookies into the new context (as a second tab of the same browser would
    have them) and open the home page, which is where the form leads: a login was ~1 s of a
    browser test (argon2 at full cost on the server, the form page and its redirect), and the
    story tests log in 12 times each. A session that has ended meanwhile (logged out, password
    changed, account locked, idle) lands on the login page, and the form is used then.
    ``form``: always the form (the tests of logging in and of sessions)."""
    key = (base_url, username)
    reuse = not form and password == DEMO_PASSWORD
    if reuse and key in _SESSIONS:
        page.context.add_cookies(_SESSIONS[key])
        page.goto(base_url + "/")
        if urllib.parse.urlsplit(page.url).path != "/dang-nhap":
            return page
        del _SESSIONS[key]
        page.context.clear_cookies()
    page.goto(base_url + "/dang-nhap")
    page.get_by_label("Tên đăng nhập", exact=True).fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    if reuse and urllib.parse.urlsplit(page.url).path == "/":
        _SESSIONS[key] = page.context.cookies(base_url)
    return page


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its layout viewport. Measured against
    ``clientWidth``, not ``innerWidth``: on a mobile viewport Chromium zooms out to show a page
    that is too wide, and ``innerWidth`` grows with it."""
    return int(page.evaluate(
        "() => document.scrollingElement.scrollWidth"
        " - Math.min(window.innerWidth, document.documentElement.clientWidth)"))
