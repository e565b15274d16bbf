"""A scripted HTTP server on a free local port: it answers each request with the next answer
of its script (status, body, delay) or drops the connection (``"drop"``), and records what it
was sent. For the transport failures a real server is not made to produce (non-JSON, 5xx,
timeouts, dropped connections)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, bytes, float] | str


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def vxp(self, name: str) -> str:
        return self.headers.get(f"XroadVnpt-{name}", "")


@dataclass
class Script:
    answers: list[Answer] = field(default_factory=list)
    """Answered in order; when empty, ``default`` answers."""
    requests: list[Seen] = field(default_factory=list)
    default: Callable[[Seen], Answer] | None = None

    def operations(self) -> list[str]:
        return [r.path.rsplit("/", 1)[-1] for r in self.requests]


def ok(**extra: Any) -> tuple[int, bytes, float]:
    """A VXP answer ``status=OK`` with ``extra`` fields."""
    return 200, json.dumps({"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **extra},
                           ensure_ascii=False).encode(), 0.0


def fail(code: str, desc: str, http: int = 200) -> tuple[int, bytes, float]:
    return http, json.dumps({"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc},
                            ensure_ascii=False).encode(), 0.0


@contextmanager
def scripted_server() -> Iterator[tuple[str, Script]]:
    """``(base URL, script)``; the server stops when the block ends."""
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, self.path, dict(self.headers),
                        self.rfile.read(length) if length else b"")
            script.requests.append(seen)
            if script.answers:
                answer = script.answers.pop(0)
            elif script.default is not None:
                answer = script.default(seen)
            else:
                answer = ok()
            if answer == "drop":
                self.close_connection = True
                self.connection.close()
                return
            status, payload, delay = answer
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout)
                pass

        do_POST = do_GET = _serve

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/vxp", script
    finally:
        httpd.shutdown()
        httpd.server_close()
