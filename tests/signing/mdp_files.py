"""Building certified PDFs and the later revisions that keep or break their certification.

The signatures here are made with pyHanko directly (``KeySigner`` over our credentials, no
certificate check, no refusal): they stand for what another product, or someone attacking
the document, can produce. Each function takes PDF bytes and returns the next revision.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec

from signing.sign import KeySigner

CERT_FIELD = "ChungThuc"
"""The certification signature's field (invisible)."""
EMPTY_FIELD = "PheDuyet"
"""An empty signature field created before certifying, for a later approval signature."""
SECOND_EMPTY_FIELD = "PheDuyet2"
"""A second empty signature field (for a lock on the first approval signature)."""
TEXT_FIELD = "GhiChu"
"""A text form field a later revision may fill in."""

_EMPTY_BOX = (330, 560, 530, 690)


def _write(w: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _text_field(w: IncrementalPdfFileWriter) -> None:
    page_ref, _ = w.find_page_for_modification(0)
    page = page_ref.get_object()
    field = generic.DictionaryObject({
        pdf_name("/FT"): pdf_name("/Tx"),
        pdf_name("/T"): generic.TextStringObject(TEXT_FIELD),
        pdf_name("/Type"): pdf_name("/Annot"),
        pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in (60, 80, 300, 100)),
        pdf_name("/F"): generic.NumberObject(4),
        pdf_name("/P"): page_ref,
        pdf_name("/DA"): generic.TextStringObject("/Helv 10 Tf 0 g"),
        pdf_name("/V"): generic.TextStringObject(""),
    })
    ref = w.add_object(field)
    annots = page.get("/Annots")
    if annots is None:
        page[pdf_name("/Annots")] = generic.ArrayObject([ref])
    else:
        annots.get_object().append(ref)
    w.update_container(page)
    form = w.root["/AcroForm"]
    form["/Fields"].append(ref)
    form[pdf_name("/DR")] = generic.DictionaryObject({
        pdf_name("/Font"): generic.DictionaryObject({
            pdf_name("/Helv"): w.add_object(generic.DictionaryObject({
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            })),
        }),
    })
    w.update_container(form)


def form_pdf(pdf: bytes, *, lock_first: FieldMDPSpec | None = None,
             lock_first_p: MDPPerm | None = None) -> bytes:
    """``pdf`` with two empty visible signature fields and an empty text field.

    ``lock_first`` puts a /Lock dictionary on :data:`EMPTY_FIELD` (fields locked once it is
    signed); ``lock_first_p`` adds a /P to that lock (PDF 2.0: a DocMDP level for later
    revisions).
    """
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    fields.append_signature_field(w, SigFieldSpec(
        EMPTY_FIELD, on_page=0, box=_EMPTY_BOX, field_mdp_spec=lock_first,
        doc_mdp_update_value=lock_first_p,
    ))
    fields.append_signature_field(w, SigFieldSpec(
        SECOND_EMPTY_FIELD, on_page=0, box=(60, 560, 260, 690),
    ))
    _text_field(w)
    return _write(w)


class _CarelessSigner(signers.PdfSigner):
    """pyHanko's signer without its own refusal to sign a document certified "no changes":
    another product, or an attacker, will not refuse."""

    def _enforce_certification_constraints(self, reader) -> None:
        return None


def _sign(pdf: bytes, credential, meta: signers.PdfSignatureMetadata,
          new_field: SigFieldSpec | None = None) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    pdf_signer = _CarelessSigner(meta, signer=KeySigner(credential), new_field_spec=new_field)
    return pdf_signer.sign_pdf(w, bytes_reserved=12_000).getvalue()


def certify(pdf: bytes, credential, level: int) -> bytes:
    """Certify ``pdf`` (DocMDP ``/P level``) with an invisible signature in :data:`CERT_FIELD`."""
    meta = signers.PdfSignatureMetadata(
        field_name=CERT_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=True, docmdp_permissions=MDPPerm(level),
    )
    return _sign(pdf, credential, meta)


def approve(pdf: bytes, credential, field: str = EMPTY_FIELD, *, new_box=None) -> bytes:
    """An approval signature in ``field``: an existing empty one, or a new one at ``new_box``
    (None: invisible) if the field does not exist yet."""
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
    )
    spec = SigFieldSpec(field, on_page=0, box=new_box)
    return _sign(pdf, credential, meta, new_field=spec)


def fill_text(pdf: bytes, value: str = "Đã xem") -> bytes:
    """Fill :data:`TEXT_FIELD` in (value and appearance) by an incremental update."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    form = w.root["/AcroForm"]
    for ref in form["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == TEXT_FIELD:
            field[pdf_name("/V")] = generic.TextStringObject(value)
            ap = generic.StreamObject(
                {pdf_name("/BBox"): generic.ArrayObject(
                    generic.FloatObject(v) for v in (0, 0, 240, 20))},
                stream_data=b"BT /Helv 10 Tf 2 6 Td (Da xem) Tj ET",
            )
            field[pdf_name("/AP")] = generic.DictionaryObject(
                {pdf_name("/N"): w.add_object(ap)})
            w.update_container(field)
            return _write(w)
    raise AssertionError("no text field")


def add_annotation(pdf: bytes) -> bytes:
    """A sticky-note comment added to page 1 by an incremental update."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref, _ = w.find_page_for_modification(0)
    page = page_ref.get_object()
    note = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"),
        pdf_name("/Subtype"): pdf_name("/Text"),
        pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in (50, 750, 70, 770)),
        pdf_name("/Contents"): generic.TextStringObject("Đề nghị xem lại số liệu"),
        pdf_name("/P"): page_ref,
    }))
    annots = page.get("/Annots")
    if annots is None:
        page[pdf_name("/Annots")] = generic.ArrayObject([note])
        w.update_container(page)
    else:
        raw = page.raw_get("/Annots")
        annots.append(note)
        w.update_container(page if not isinstance(raw, generic.IndirectObject) else annots)
    return _write(w)


def change_content(pdf: bytes) -> bytes:
    """Page 1's content replaced by an incremental update."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref, _ = w.find_page_for_modification(0)
    page = page_ref.get_object()
    page[pdf_name("/Contents")] = w.add_object(generic.StreamObject(
        stream_data=b"BT /F1 24 Tf 72 720 Td (Noi dung khac) Tj ET"))
    w.update_container(page)
    return _write(w)


def lock(action: str, names: tuple[str, ...] = ()) -> FieldMDPSpec:
    """A field lock: ``all``, ``include`` or ``exclude`` of ``names``."""
    return FieldMDPSpec(FieldMDPAction[action.upper()], list(names) or None)
