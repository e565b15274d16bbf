"""Reading what a signed PDF holds, for assertions."""

from __future__ import annotations

import io

from pyhanko.pdf_utils.reader import PdfFileReader


def signature_widget(pdf: bytes, index: int = -1) -> tuple[int, list[float]]:
    """(page index, ``/Rect`` in points) of the widget of the ``index``-th embedded signature,
    in signing order (-1: the newest)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    field = reader.embedded_signatures[index].sig_field
    widget = field if "/Rect" in field else field["/Kids"][0].get_object()
    pages = [page.idnum for page in reader.root["/Pages"]["/Kids"]]
    return pages.index(widget.raw_get("/P").idnum), [float(v) for v in widget["/Rect"]]
