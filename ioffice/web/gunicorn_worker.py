"""The gunicorn worker of ``make run``: gthread, where slow clients cannot take the threads.

gunicorn's gthread worker (27.0) hands each new connection to a thread, which waits up to 5 s
for its first byte before parking it in the poller: 200 connections that send nothing hold a
worker's 4 threads for 200 / 8 x 5 s, over two minutes, and no other user gets a page. Once a
byte has come, the thread reads the head until it is complete, however slowly it comes: a few
connections sending their head a byte at a time take every thread for as long as they like.
gunicorn has no setting for either (measured: docs/performance.md, "Slow clients and the front
proxy"). This worker:

- parks a new connection in the poller until its first byte (closed if none comes within
  :data:`HEAD_SECONDS`), as gthread already does for kept-alive ones: no thread waits for it;
- gives each request's head :data:`HEAD_SECONDS` from the moment its first bytes are there;
  past it, a read that would wait ends the connection (bytes already received are still read,
  so a whole head that waited in the queue is served).

The body and the response have no such deadline (uploads may be slow). In production nginx in
front buffers whole requests anyway.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_SECONDS = 5.0
"""Time a client has to send a request's head (a browser sends it in one packet)."""


class _HeadSocket:
    """The connection's socket, whose reads end at :attr:`deadline` while it is set."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline: float | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def recv(self, size: int, *flags: int) -> bytes:
        if self.deadline is None:
            return self._sock.recv(size, *flags)
        prior = self._sock.gettimeout()
        self._sock.settimeout(max(0.0, self.deadline - time.monotonic()))
        try:
            return self._sock.recv(size, *flags)
        except (BlockingIOError, TimeoutError):  # too slow: closed like a client that left
            raise NoMoreData(b"") from None
        finally:
            self._sock.settimeout(prior)


class HeadDeadlineWorker(ThreadWorker):
    """gthread with :data:`HEAD_SECONDS` to send each request's head."""

    def accept(self, listener: Any) -> None:
        """A new connection waits for its first byte in the poller, not on a thread."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        conn.sock = _HeadSocket(conn.sock)
        conn.timeout = time.monotonic() + HEAD_SECONDS  # closed by murder_pending after
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self.on_pending_socket_readable, conn))

    def enqueue_req(self, conn: Any) -> None:
        if not isinstance(conn.sock, _HeadSocket):
            conn.sock = _HeadSocket(conn.sock)
        conn.sock.deadline = time.monotonic() + HEAD_SECONDS
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        conn.sock.deadline = None  # the head is in: the body and the response take their time
        return super().handle_request(req, conn)
