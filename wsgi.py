"""WSGI entry point. ``app`` is the Flask app (``flask --app wsgi ...``); ``application`` adds
the demo hubs at /truc/tinh and /truc/quoc-gia once ``flask --app wsgi exchange setup-demo``
ran (``make run``). Nothing starts here: ``start_background()`` is called by the run path."""

from ioffice import create_app, logs
from ioffice.exchange import demo_run

app = create_app()
logs.configure(app)
demo_run.configure(app)
hubs = demo_run.hub_apps(app) if demo_run.enabled(app) else None
application = demo_run.mount(app, hubs)


def start_background() -> bool:
    return demo_run.start_background(app, hubs)
