"""Gunicorn config for ``make run`` and ``ioffice serve``
(``-c python:ioffice.exchange.gunicorn_hooks``): under ``make run`` one worker process starts
the demo hubs' forwarders and the exchange worker after it boots; the master checks the
database and the storage first (``ioffice/startup.py``); the workers count their metrics in
files of one folder that ``/metrics`` adds up (prometheus-client's multiprocess mode,
``ioffice/metrics.py``)."""

import os
import shutil
import tempfile


def on_starting(server) -> None:
    """Before any worker exists: the metrics folder, empty (counts of an earlier run would be
    added to this one's). ``PROMETHEUS_MULTIPROC_DIR`` when set, else a new temporary folder.
    Set here, in the master, so that every worker imports prometheus-client in multiprocess
    mode (the mode is chosen when the module is first imported)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ioffice-metrics-")
    # the database, its migrations and the object storage, before any worker starts: a service
    # that cannot work says why in one line and exits 1 (ioffice/startup.py)
    from ioffice import create_app
    from ioffice.startup import check_or_exit

    check_or_exit(create_app())


def child_exit(server, worker) -> None:
    """A worker that ended keeps its counters (they add up) but no longer its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    """The served module's ``start_background`` when it has one: the checkout's ``wsgi.py``
    starts ``make run``'s demo hubs and exchange worker; ``ioffice.wsgi`` (``ioffice serve``)
    has none, its exchange worker being a service of its own."""
    import importlib

    module = importlib.import_module(str(worker.cfg.wsgi_app or worker.app.app_uri).split(":")[0])
    start = getattr(module, "start_background", None)
    if start is not None:
        start()
