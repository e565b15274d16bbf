"""Timestamp authorities on 127.0.0.1 for the tests.

``serve_app``: a WSGI app (the real iOffice app with ``TSA_SERVE``) under werkzeug's threaded
server on a free port, in a thread of the test process: the same HTTP path as a real TSA.
``tsa_double``: a server answering each request through a function the test writes (a TSA
that is slow, refuses credentials, answers garbage, a wrong nonce or another document's
timestamp), for the failures a correct TSA is not made to produce.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug.serving import make_server

from signing.tsa import REPLY_TYPE

# (status, content type, body, seconds to wait before answering)
Answer = tuple[int, str, bytes, float]


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of ``app`` served until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="tsa-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def tsa_double(answer: Callable[[bytes, dict[str, str]], Answer]) -> Iterator[tuple[str, list]]:
    """``(URL, requests seen)``: each POST is answered by ``answer(body, headers)``."""
    seen: list[tuple[bytes, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = dict(self.headers.items())
            seen.append((body, headers))
            status, ctype, out, delay = answer(body, headers)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
            except OSError:  # the client gave up (timeout) and closed the connection
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="tsa-double", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def reply(body: bytes, delay: float = 0.0) -> Answer:
    return 200, REPLY_TYPE, body, delay
