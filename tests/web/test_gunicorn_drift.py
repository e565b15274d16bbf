"""``HeadDeadlineWorker`` subclasses gunicorn's gthread worker and uses its internals (the
pending-connection list and poller callback, TConn's constructor, the connection counter, the
switch that stops and restarts listening, the worker's age): a
gunicorn release other than the pinned one must be checked before it is taken (the slow-client
tests show whether the worker still works; this says why it might not)."""

from __future__ import annotations

import inspect

import gunicorn
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import TConn, ThreadWorker

PINNED = "27.0.1"


def test_gunicorn_is_the_pinned_release() -> None:
    assert gunicorn.__version__ == PINNED, (
        f"gunicorn {gunicorn.__version__} is not {PINNED}: check ioffice/web/gunicorn_worker.py "
        "against its gthread worker, run tests/web/test_slow_clients.py, then move the pin "
        "in setup.cfg and here")


def test_the_internals_the_worker_uses_are_there() -> None:
    for name in ("accept", "enqueue_req", "handle_request", "on_pending_socket_readable",
                 "murder_pending", "murder_keepalived", "set_accept_enabled", "init_process"):
        assert callable(getattr(ThreadWorker, name, None)), name
    assert list(inspect.signature(TConn.__init__).parameters) == ["self", "cfg", "sock",
                                                                   "client", "server"]
    source = inspect.getsource(ThreadWorker)
    for attribute in ("self.pending_conns", "self.nr_conns", "self.poller",
                      # each turn of the main loop listens again after the worker stopped
                      "if can_accept != self._accepting:", "self.murder_keepalived()"):
        assert attribute in source, attribute
    assert "self.age = age" in inspect.getsource(Worker.__init__)
