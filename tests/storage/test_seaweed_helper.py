"""The SeaweedServer test helper itself: isolated ports, clean stop, useful failures."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.storage.conftest import S3Server
from tests.support.seaweed import SeaweedServer, SeaweedStartError


@pytest.mark.s3
@pytest.mark.slow
def test_a_second_server_runs_beside_the_first_and_stops_cleanly(s3_server: S3Server) -> None:
    with SeaweedServer() as second:
        assert second.startup_seconds is not None and second.startup_seconds < 60
        assert second.endpoint != s3_server.endpoint
        assert second.client().list_buckets() == []
        process = second.process
        assert process is not None
        workdir = second.workdir
        assert workdir is not None and workdir.is_dir()
        ports = dict(second.ports)

    assert process.returncode is not None  # reaped
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing left in its process group
    assert not workdir.exists()
    for port in ports.values():
        with socket.socket() as sock:
            # As a Go server binds: TIME_WAIT leftovers of old connections are fine.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))  # released
    s3_server.client().list_buckets()  # the first server is unaffected


def test_a_server_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'F1126 fatal: cannot open data dir' >&2\nexit 3\n")
    fake.chmod(0o755)

    with pytest.raises(SeaweedStartError) as caught:
        SeaweedServer(weed=str(fake), startup_timeout=10).start()

    message = str(caught.value)
    assert "exited with status 3" in message
    assert "cannot open data dir" in message
