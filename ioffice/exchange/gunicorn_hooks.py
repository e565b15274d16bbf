"""Gunicorn config for ``make run`` (``-c python:ioffice.exchange.gunicorn_hooks``): one worker
process starts the demo hubs' forwarders and the exchange worker after it boots."""


def post_worker_init(worker) -> None:
    import wsgi

    wsgi.start_background()
