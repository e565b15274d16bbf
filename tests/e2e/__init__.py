"""End-to-end support: a server set up like ``make run`` (both demo hubs mounted, exchange
setup-demo, forwarders and the exchange worker in a gunicorn worker) in an instance folder of
its own, and the service-level steps of the story that the browser tests do not click through."""
