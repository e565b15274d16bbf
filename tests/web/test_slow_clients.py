"""Clients that open many connections and send nothing, or a request's head a byte at a time,
must not stall other users (issue 17): the Makefile's ``run`` server, started as ``make run``
starts it, still answers a normal request promptly while 200 such connections are open."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IDLE = 200
PROMPT = 8.0
"""Seconds a normal request may take meanwhile (alone: ~0.05 s; the head deadline is 5 s)."""


def run_command(port: int) -> list[str]:
    """The gunicorn command of the Makefile's ``run`` recipe, with this venv and port."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in recipe.splitlines() if "/bin/gunicorn" in line)
    command = line[line.index("$(VENV)/bin/gunicorn"):]
    command = (command.replace("$(VENV)/bin/", f"{BIN}/").replace("$(HOST)", "127.0.0.1")
               .replace("$(PORT)", str(port)))
    assert "$(" not in command, command
    return shlex.split(command)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("slow-clients")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IOFFICE_INSTANCE_PATH": str(tmp / "instance"),
           "IOFFICE_DATABASE_URL": f"sqlite:///{tmp / 'ioffice.db'}", "IOFFICE_PLAIN_HTTP": "1"}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(run_command(port), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp / "gunicorn.log").read_text()[-3000:]
            with contextlib.suppress(OSError):
                if timed_get(base, 2)[0] == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def timed_get(base: str, timeout: float) -> tuple[int, float]:
    start = time.monotonic()
    with urllib.request.urlopen(f"{base}/dang-nhap", timeout=timeout) as resp:
        resp.read()
        return resp.status, time.monotonic() - start


@contextlib.contextmanager
def open_sockets(base: str, count: int, trickle: bytes = b"") -> Iterator[list[socket.socket]]:
    """``count`` connections that send nothing, or ``trickle`` one byte a second (never the
    blank line that ends a request's head)."""
    port = int(base.rsplit(":", 1)[1])
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    stop = threading.Event()

    def drip() -> None:
        for byte in trickle:
            for s in sockets:
                with contextlib.suppress(OSError):
                    s.send(bytes([byte]))
            if stop.wait(1.0):
                return

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(0.5)  # every connection accepted and waiting
        yield sockets
    finally:
        stop.set()
        for s in sockets:
            s.close()


def test_idle_connections_do_not_stall_other_users(server: str) -> None:
    with open_sockets(server, IDLE):
        status, took = timed_get(server, 30)
    assert status == 200 and took < PROMPT, f"{took:.1f} s with {IDLE} idle connections"


def test_a_head_sent_byte_by_byte_does_not_stall_other_users(server: str) -> None:
    with open_sockets(server, IDLE, trickle=b"GET /dang-nhap HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60):
        time.sleep(2)  # the first bytes have arrived: each connection is in a thread now
        status, took = timed_get(server, 30)
    assert status == 200 and took < PROMPT, f"{took:.1f} s with {IDLE} slow heads"


def connections_per_process(port: int) -> dict[int, int]:
    """How many established connections to ``port`` each process holds (Linux's /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "01":  # local port, ESTABLISHED
            inodes.add(f"socket:[{fields[9]}]")
    held: dict[int, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        held[int(pid)] = held.get(int(pid), 0) + 1
    return held


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="counts connections in /proc")
def test_kept_alive_connections_are_shared_between_the_workers(server: str) -> None:
    """Clients that keep their connections alive (browsers, nginx's upstream pool) stay with the
    worker that accepted them: 40 arriving at once are split about evenly between the two."""
    import http.client

    port = int(server.rsplit(":", 1)[1])
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(40)]
    try:
        for client in clients:
            client.request("GET", "/dang-nhap")
        for client in clients:
            response = client.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
        held = connections_per_process(port)  # within the 2 s keep-alive
        workers = sorted(held.values())
        assert len(workers) == 2 and workers[1] - workers[0] <= 6, held
    finally:
        for client in clients:
            client.close()
