"""WSGI entry point of a checkout (``flask --app wsgi ...``, ``make run``). ``app`` is
``ioffice.wsgi``'s app (the installed entry point); ``application`` adds the demo hubs at
/truc/tinh and /truc/quoc-gia once ``flask --app wsgi exchange setup-demo`` ran (``make run``).
Nothing starts here: ``start_background()`` is called by the run path."""

from ioffice.exchange import demo_run
from ioffice.wsgi import app

demo_run.configure(app)
hubs = demo_run.hub_apps(app) if demo_run.enabled(app) else None
application = demo_run.mount(app, hubs)


def start_background() -> bool:
    return demo_run.start_background(app, hubs)
