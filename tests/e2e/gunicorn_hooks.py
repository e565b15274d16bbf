"""Gunicorn config for :mod:`tests.e2e.live_wsgi` (what ``ioffice.exchange.gunicorn_hooks``
is for ``wsgi``): one worker starts the hub forwarders and the exchange worker."""


def post_worker_init(worker) -> None:
    from tests.e2e import live_wsgi

    live_wsgi.start_background()
