"""``wsgi.py`` for an isolated instance folder: ``IOFFICE_TEST_INSTANCE_PATH``.

``wsgi.py`` uses the repository's ``instance/`` (the hub databases, ``exchange-demo.json`` and
the worker's lock live there), which a developer's ``make run`` uses too. This module builds the
same application, hubs mounted at /truc/tinh and /truc/quoc-gia, with ``app.instance_path``
pointing at the test's folder. Every other setting comes from ``IOFFICE_*`` variables, so
nothing else reads the instance folder.

    flask --app tests.e2e.live_wsgi exchange setup-demo
    gunicorn -c python:tests.e2e.gunicorn_hooks tests.e2e.live_wsgi:application
"""

from __future__ import annotations

import os

from ioffice import create_app
from ioffice.exchange import demo_run

app = create_app()
app.instance_path = os.environ["IOFFICE_TEST_INSTANCE_PATH"]
demo_run.configure(app)
hubs = demo_run.hub_apps(app) if demo_run.enabled(app) else None
application = demo_run.mount(app, hubs)


def start_background() -> bool:
    return demo_run.start_background(app, hubs)
