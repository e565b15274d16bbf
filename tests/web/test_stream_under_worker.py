"""A long streamed response (the bell's server-sent events) under ``make run``'s worker:
``HeadDeadlineWorker`` gives the request *head* 5 s, never the response, so a stream that
lasts longer than that is not cut; other requests are served by the other threads meanwhile."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from ioffice.web.gunicorn_worker import HEAD_SECONDS

STREAM_SECONDS = HEAD_SECONDS + 3

APP = textwrap.dedent(f"""
    import time

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/ping":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"pong"]
        start_response("200 OK", [("Content-Type", "text/event-stream"),
                                  ("Cache-Control", "no-cache")])
        def events():
            yield b"retry: 2000\\n\\n"
            for i in range({int(STREAM_SECONDS)}):
                time.sleep(1)
                yield f"event: count\\ndata: {{i}}\\n\\n".encode()
        return events()
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
        return b"".join(chunks)


def test_a_stream_outlives_the_head_deadline(tmp_path: Path) -> None:
    (tmp_path / "sse_app.py").write_text(APP)
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "ioffice.web.gunicorn_worker.HeadDeadlineWorker",
         "--chdir", str(tmp_path), "--log-level", "warning", "sse_app:app"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert b"pong" in _get(port, "/ping", 2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stdout.read()
                time.sleep(0.2)
        result: dict[str, bytes] = {}
        streamer = threading.Thread(target=lambda: result.update(body=_get(port, "/su-kien", 30)))
        started = time.monotonic()
        streamer.start()
        time.sleep(1)
        assert b"pong" in _get(port, "/ping", 5)  # the other thread serves pages meanwhile
        streamer.join(30)
        took = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(10)
    body = result["body"]
    assert body.count(b"event: count") == int(STREAM_SECONDS), body[-300:]
    assert took >= STREAM_SECONDS - 0.5
