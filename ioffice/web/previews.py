"""A page of a stored PDF as PNG for the document pages: rendered once, kept beside the blob
under :func:`~ioffice.documents.pdf.preview_name` (the renderer's version in the name), and
cached by the browser for a day. The caller has already applied the document's read rule."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from ioffice.documents.pdf import preview_name, render_page_png
from ioffice.services import services
from ioffice.storage import BlobNotFound

__all__ = ["page_png"]


def page_png(sha256: str, page: int, *, before_render: Callable[[], None] | None = None
             ) -> Response:
    """Page ``page`` (from 1) of blob ``sha256``; ``before_render`` runs only when the page
    must be rendered (a check that may abort)."""
    blobs = services().blobs
    name = preview_name(sha256, page)
    try:
        png = blobs.get_named(name)
    except BlobNotFound:
        if before_render is not None:
            before_render()
        png = render_page_png(blobs.read_bytes(sha256), page - 1)
        blobs.put_named(name, png)
    resp = Response(png, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp
