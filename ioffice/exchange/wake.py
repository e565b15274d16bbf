"""Waking the exchange worker at once instead of at its next poll.

Two things wake it: a commit that queued an outbox row (a clerk's dispatch, a status written by
a registration) and a hub's push notification (``ioffice.exchange.push``). Both may happen in
another process than the worker's (gunicorn runs two; the worker thread lives in one of them),
so a wake is

* an in-process event, for a worker running in this process, and
* one datagram to a UNIX socket the worker binds, named after the database (every process of a
  deployment on one host reaches it, whichever the database, SQLite or PostgreSQL).

A wake is a hint and never carries data: a lost one (the worker on another host, the socket
gone) costs only the wait until the next poll. Many wakes before the worker looks fold into
one round: one pull in flight per worker, whatever the number of notifications.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

__all__ = ["Waker", "database_key", "notify", "request_wake", "socket_path"]

log = logging.getLogger(__name__)

_INFO_KEY = "ioffice.exchange.wake"
_local: dict[str, list[Waker]] = {}
_local_lock = threading.Lock()


def database_key(url: Any) -> str:
    """The deployment's name for wakes: its database URL without the password."""
    return make_url(str(url)).render_as_string(hide_password=True) if url else ""


def socket_path(key: str) -> Path:
    """Where the worker of the database ``key`` listens (short: UNIX socket paths are ≤ 107)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"ioffice-wake-{digest}"


class Waker:
    """The worker's side: an event set by :func:`notify` in this process or by a datagram."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.event = threading.Event()
        self.path = socket_path(key)
        self._sock: socket.socket | None = None
        self._owned = False

    def start(self) -> Waker:
        with _local_lock:
            _local.setdefault(self.key, []).append(self)
        self._bind()
        return self

    def _bind(self) -> None:
        if self.path.exists() and _alive(self.path):
            log.info("another exchange worker listens on %s: wakes from other processes go there",
                     self.path)
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a worker that died
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            log.warning("exchange wake socket %s: %s (wakes from other processes lost)", self.path, exc)
            sock.close()
            return
        self._sock, self._owned = sock, True
        threading.Thread(target=self._read, name="ioffice-exchange-wake", daemon=True).start()

    def _read(self) -> None:
        sock = self._sock
        while sock is not None and sock.fileno() >= 0:
            try:
                sock.recv(64)
            except OSError:
                return
            self.event.set()

    def wake(self) -> None:
        self.event.set()

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Sleep until woken, ``stop`` is set or ``timeout`` passed; True when woken. Wakes that
        came meanwhile are consumed: they all ask for the same thing, one round."""
        remaining = timeout
        woken = False
        while remaining > 0 and not (stop is not None and stop.is_set()):
            step = min(remaining, 0.5)
            if self.event.wait(step):
                woken = True
                break
            remaining -= step
        self.event.clear()
        return woken

    def close(self) -> None:
        with _local_lock:
            listed = _local.get(self.key, [])
            if self in listed:
                listed.remove(self)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._owned:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _alive(path: Path) -> bool:
    """Whether a process still reads the socket at ``path`` (a datagram to a dead one is refused)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.setblocking(False)
        probe.sendto(b"?", str(path))
        return True
    except BlockingIOError:
        return True  # its queue is full: alive
    except OSError:
        return False
    finally:
        probe.close()


def notify(key: str) -> None:
    """Wake the worker of database ``key``: in this process and through its socket."""
    with _local_lock:
        local = list(_local.get(key, ()))
    for waker in local:
        waker.wake()
    if any(w._owned for w in local):
        return
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.sendto(b"w", str(socket_path(key)))
    except OSError:  # no worker on this host, or its queue full (it is awake anyway)
        pass
    finally:
        sock.close()


def request_wake(session: Session) -> None:
    """Wake the worker once ``session`` commits (a dispatch or a status queued an outbox row);
    nothing if it rolls back."""
    session.info[_INFO_KEY] = True


def _session_key(session: Session) -> str:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    return database_key(engine.url)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_INFO_KEY, False):
        try:
            notify(_session_key(session))
        except Exception:  # a hint: never fail the caller's committed work
            log.exception("waking the exchange worker failed")


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_INFO_KEY, None)
