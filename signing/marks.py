"""Text written into a document in a signature's own revision: the number and the date the
clerk issues, in the blanks the draft left for them ("Số:      /BNV-VP", "ngày ... tháng ...").

The document is already signed by its competent person, so its content may not change: the
text goes in as new, read-only, unsigned signature fields whose widgets show it, appended in
the same incremental update as the agency's signature, which covers them. That is the one
change after a signature that pyHanko's difference analysis (and our validation: see
:mod:`signing.mdp`) counts as form filling, allowed after an approval signature; a
FreeText annotation would count as "other" there and make the earlier signature invalid at
every recipient; drawing on the page would change the signed content.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBox, TextBoxStyle
from pyhanko.sign import fields

from .appearance import Box, _font

__all__ = ["TextMark", "add_marks"]

_READ_ONLY = 1  # field flag bit 1: viewers offer no signing in these fields
_AT_ORIGIN = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN,
    margins=layout.Margins(0, 0, 0, 0), inner_content_scaling=layout.InnerScaling.NO_SCALING,
)


@dataclass(frozen=True)
class TextMark:
    """One piece of text in a box of a page."""

    name: str
    """The field's name, e.g. ``SoVanBan``; unique in the document."""
    box: Box
    """Where it goes; covered white first (the blank may hold dots or underscores)."""
    text: str
    """What it says, e.g. ``15`` or ``03``."""
    font_size: int = 13
    """In points: the size of the text around the blank."""
    align: str = "center"
    """``left``, ``center`` or ``right`` (a number sits right before the "/" of its
    notation)."""
    description: str = ""
    """The field's readable name (/TU), e.g. "Số văn bản"."""
    baseline: float | None = None
    """The baseline of the line the text belongs on, in page points (None: centred in the
    box)."""


def _appearance(writer: IncrementalPdfFileWriter, mark: TextMark) -> generic.IndirectObject:
    width, height = mark.box.width, mark.box.height
    text = TextBox(TextBoxStyle(font=_font(mark.font_size), font_size=mark.font_size,
                                leading=mark.font_size, box_layout_rule=_AT_ORIGIN),
                   writer=writer)
    text.content = mark.text
    body = text.render()  # its baseline at 0, its left edge at 0
    free = width - text.box.width
    dx = {"left": 1.0, "center": free / 2, "right": free - 0.5}[mark.align]
    dy = (height - 0.7 * mark.font_size) / 2 if mark.baseline is None else \
        mark.baseline - mark.box.y1
    stream = (b"q 1 1 1 rg 0 0 %g %g re f Q q 1 0 0 1 %g %g cm %s Q"
              % (width, height, dx, dy, body))
    xobject = RawContent(stream, box=layout.BoxConstraints(width=width, height=height),
                         resources=text.resources).as_form_xobject()
    return writer.add_object(xobject)


def add_marks(writer: IncrementalPdfFileWriter, marks: tuple[TextMark, ...]) -> None:
    """Append each mark to ``writer``'s pending revision, before it is signed."""
    for mark in marks:
        box = mark.box
        spec = fields.SigFieldSpec(
            sig_field_name=mark.name, on_page=box.page,
            box=(box.x1, box.y1, box.x2, box.y2),
            readable_field_name=mark.description or None,
        )
        fields.append_signature_field(writer, spec)
        field = next(ref.get_object() for name, _value, ref in fields.enumerate_sig_fields(writer)
                     if name == mark.name)
        field[pdf_name("/Ff")] = generic.NumberObject(_READ_ONLY)
        field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): _appearance(writer,
                                                                                     mark)})
