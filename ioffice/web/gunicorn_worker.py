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
import mmap
import os
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


_SLOTS = 64
_SHARED = memoryview(mmap.mmap(-1, 16 * _SLOTS)).cast("q")
"""Per worker slot (``age`` modulo :data:`_SLOTS`): its pid and how many connections it holds.
Mapped when gunicorn's master imports the worker class, so every forked worker shares it."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HeadDeadlineWorker(ThreadWorker):
    """gthread with :data:`HEAD_SECONDS` to send each request's head, that leaves a new
    connection to another worker while it holds more than the least loaded one.

    The workers share one listening socket and each keeps the connections it accepted for as
    long as the client keeps them alive. gthread accepts whenever the socket is readable, and
    the busiest worker, whose main loop is awake most, wins the race: measured at 50 users
    (bench/web.py --pg --quick), 36 connections on one worker and 18 on the other, p95 383 ms;
    balanced (27 and 27), 283 ms (docs/performance.md, "Connections between the workers")."""

    def init_process(self) -> None:
        self._slot = 2 * (self.age % _SLOTS)
        _SHARED[self._slot] = os.getpid()
        _SHARED[self._slot + 1] = 0
        super().init_process()

    def _publish(self) -> None:
        _SHARED[self._slot + 1] = self.nr_conns

    def _least_other(self) -> int | None:
        """The fewest connections another live worker holds (None: no other)."""
        least = None
        me = os.getpid()
        for i in range(0, 2 * _SLOTS, 2):
            pid = _SHARED[i]
            if pid and pid != me and (least is None or _SHARED[i + 1] < least) and _alive(pid):
                least = _SHARED[i + 1]
        return least

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not self.alive:  # stopping for good: the others must not leave connections to it
            _SHARED[self._slot] = 0

    def murder_keepalived(self, force: bool = False) -> None:
        super().murder_keepalived(force)
        self._publish()  # once per turn of the main loop

    def accept(self, listener: Any) -> None:
        """A new connection waits for its first byte in the poller, not on a thread."""
        least = self._least_other()
        if least is not None and self.nr_conns > least:
            # another worker holds fewer: leave it this one (the main loop's next turn, after
            # the next event, listens again, in case the other does not take it)
            self.set_accept_enabled(False)
            return
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._publish()
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
