"""WSGI entry point of an installed iOffice (``ioffice serve``, the systemd unit): the app with
its logging, nothing else. No demo province, no demo hubs, no background threads: the exchange
worker is its own service (``ioffice exchange worker``). The repository's top-level ``wsgi.py``
adds ``make run``'s demo hubs on top of this."""

from ioffice import create_app, logs

app = create_app()
logs.configure(app)
application = app
