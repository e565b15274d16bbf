"""What every page's frame (base.html: head, top bar, menu) computes, once per process.

The menu (_nav.html) depends only on the roles held, whether the agency is a top-level one and
the path the application is mounted at, yet it asked the role table and built a URL per link on
every page: it is rendered once per such combination and kept. The frame's fixed links (the
stylesheet, the scripts, the icons, the top bar's own pages) are built once per mount path too.
Neither is kept while templates auto-reload (development), so an edited template shows at once.
"""

from __future__ import annotations

from flask import Flask, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup


def init_app(app: Flask) -> None:
    nav: dict[tuple[frozenset, bool, str], Markup] = {}
    urls: dict[tuple[str, str | None, str], str] = {}

    def main_nav() -> Markup:
        """The rendered menu of the logged-in user (_nav.html)."""
        key = (current_user.roles, current_user.agency.parent_id is None, request.script_root)
        html = nav.get(key)
        if html is None:
            html = Markup(render_template("_nav.html"))
            if not app.jinja_env.auto_reload:
                nav[key] = html
        return html

    def frame_url(endpoint: str, filename: str | None = None) -> str:
        """``url_for`` of a page or static file without arguments of its own, kept per mount
        path (the frame's links are the same on every page)."""
        key = (endpoint, filename, request.script_root)
        url = urls.get(key)
        if url is None:
            url = url_for(endpoint, filename=filename) if filename else url_for(endpoint)
            if not app.jinja_env.auto_reload:
                urls[key] = url
        return url

    app.jinja_env.globals.update(main_nav=main_nav, frame_url=frame_url)
