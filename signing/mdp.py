"""Certification (DocMDP) levels and field locks (FieldMDP): what a later revision may change.

A certification signature carries a DocMDP permission P for every later revision: 1, nothing
(only validation data: DSS, document timestamps); 2, form filling and signing; 3, also
annotations. A signature field may carry a /Lock: once signed, the fields it names (All,
Include, Exclude) may no longer change, and (PDF 2.0) a /P like DocMDP's.

What changed after a signature is pyHanko's difference analysis (``pyhanko.sign.diff_analysis``):
its ``ModificationLevel`` and ``changed_form_fields``, and ``docmdp_ok`` in the status
``validate_pdf_signature`` returns. This module reads the permissions, judges the analysis
against them and words the verdict. Two gaps of pyHanko's default policy are filled:

- it has no rule for annotations (``StandardDiffPolicy`` "was not designed to support DocMDP
  level 3"): for a document whose signatures allow annotations,
  :class:`AnnotationAdditionRule` clears comment annotations added to a page, at level
  ``ANNOTATIONS``; deleting or editing an annotation stays "other";
- it reads a field lock only from the signature's /Reference FieldMDP entry (its own TODO):
  :func:`field_lock` falls back to the field's /Lock dictionary, checked against the fields
  the analysis reports changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    ModificationLevel,
    QualifiedWhitelistRule,
    ReferenceUpdate,
    StandardDiffPolicy,
)
from pyhanko.sign.diff_analysis.commons import compare_dicts
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, enumerate_sig_fields
from pyhanko.sign.validation import read_certification_data
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from .errors import ChangesNotPermitted

__all__ = [
    "ALLOWED_AFTER",
    "AnnotationAdditionRule",
    "Certification",
    "MdpBreach",
    "diff_policy_for",
    "document_certification",
    "field_lock",
    "is_certification",
    "judge",
    "refuse_signing",
    "signature_permission",
    "unsigned_changes_allowed",
]

ALLOWED_AFTER = {
    MDPPerm.NO_CHANGES: ModificationLevel.LTA_UPDATES,
    MDPPerm.FILL_FORMS: ModificationLevel.FORM_FILLING,
    MDPPerm.ANNOTATE: ModificationLevel.ANNOTATIONS,
}
"""The most a later revision may change under each DocMDP permission."""

REASONS = {
    MDPPerm.NO_CHANGES: "docmdp_no_changes",
    MDPPerm.FILL_FORMS: "docmdp_form_fill_only",
    MDPPerm.ANNOTATE: "docmdp_annotations",
}
_LEVEL_NAMES = {
    MDPPerm.NO_CHANGES: "không cho phép thay đổi",
    MDPPerm.FILL_FORMS: "chỉ cho phép điền biểu mẫu và ký",
    MDPPerm.ANNOTATE: "chỉ cho phép điền biểu mẫu, ký và thêm chú thích",
}
_CHANGE_NAMES = {
    ModificationLevel.FORM_FILLING: "điền biểu mẫu hoặc ký thêm",
    ModificationLevel.ANNOTATIONS: "thêm chú thích",
    ModificationLevel.OTHER: (
        "thay đổi ngoài phạm vi cho phép (nội dung, chú thích, cấu trúc hoặc ô chữ ký mới)"
    ),
}
# comment (markup) annotations: no form fields (Widget), links, media or actions
_COMMENT_SUBTYPES = frozenset({
    "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine",
    "/Highlight", "/Underline", "/Squiggly", "/StrikeOut", "/Caret", "/Ink", "/Popup",
    "/Stamp",
})
_ACTION_KEYS = ("/A", "/AA")


@dataclass(frozen=True)
class Certification:
    """The document's certification: its first signature, with a DocMDP reference."""

    permission: MDPPerm
    """DocMDP /P: 1 no changes, 2 form filling and signing, 3 also annotations."""

    @property
    def level(self) -> int:
        return int(self.permission.value)


@dataclass(frozen=True)
class MdpBreach:
    """A later revision changed what a signature's certification level or lock forbids."""

    reason: str
    """``docmdp_no_changes``, ``docmdp_form_fill_only``, ``docmdp_annotations`` or
    ``field_locked``."""
    message: str
    """The rule broken and by which signature, in Vietnamese."""


def document_certification(
    embedded: Sequence[EmbeddedPdfSignature],
) -> Certification | None:
    """The certification of a document whose signatures are ``embedded`` (oldest first), or
    None. Read from the first signature's own dictionary, which it signs: the catalog's
    /Perms /DocMDP entry could be added by a later, unsigned revision."""
    if not embedded or not is_certification(embedded[0]):
        return None
    perm = signature_permission(embedded[0])
    return Certification(perm) if perm is not None else None


def signature_permission(embedded: EmbeddedPdfSignature) -> MDPPerm | None:
    """The DocMDP level a signature imposes on later revisions (its certification, or its
    field's /Lock /P), None if none or unreadable."""
    try:
        return embedded.docmdp_level
    except Exception:
        return None


def diff_policy_for(permissions: Iterable[MDPPerm | None]) -> StandardDiffPolicy:
    """pyHanko's default policy, plus :class:`AnnotationAdditionRule` if any of the
    document's signatures allows annotations (P=3)."""
    if MDPPerm.ANNOTATE not in set(permissions):
        return DEFAULT_DIFF_POLICY
    return _ANNOTATING_POLICY


def field_lock(embedded: EmbeddedPdfSignature) -> FieldMDPSpec | None:
    """The fields this signature locks: its FieldMDP reference, else its field's /Lock."""
    try:
        spec = embedded.fieldmdp
    except Exception:
        spec = None
    if spec is not None:
        return spec
    try:
        lock = embedded.sig_field.get("/Lock")
        lock = lock.get_object() if lock is not None else None
        if lock is None or "/Action" not in lock:
            return None
        return FieldMDPSpec.from_pdf_object(lock)
    except Exception:
        return None


def _who(embedded: EmbeddedPdfSignature, signer: str | None) -> str:
    name = embedded.field_name or "?"
    return f"{name} ({signer})" if signer else name


def _lock_text(spec: FieldMDPSpec) -> str:
    if spec.action is FieldMDPAction.ALL:
        return "mọi trường"
    names = ", ".join(spec.fields or ())
    if spec.action is FieldMDPAction.INCLUDE:
        return f"các trường {names}"
    return f"mọi trường trừ {names}"


def _locked_changes(embedded, spec: FieldMDPSpec, diff_result, policy) -> list[str]:
    """Fields changed after ``embedded`` that ``spec`` locks. When pyHanko applied the lock
    itself (FieldMDP reference) it reports only "suspicious": then re-run the analysis
    without the lock to learn whether a lock was the cause."""
    if not isinstance(diff_result, DiffResult):
        try:
            diff_result = policy.review_file(
                embedded.reader, embedded.signed_revision, field_mdp_spec=None,
                doc_mdp=signature_permission(embedded),
            )
        except Exception:
            return []
        if not isinstance(diff_result, DiffResult):
            return []
    return sorted(n for n in diff_result.changed_form_fields if spec.is_locked(n))


def judge(
    embedded: EmbeddedPdfSignature,
    status,
    *,
    signer: str | None,
    policy: StandardDiffPolicy,
) -> MdpBreach | None:
    """The rule (certification level or field lock of ``embedded``) that the revisions after
    it broke, according to pyHanko's ``status`` of it; None if none."""
    perm = signature_permission(embedded)
    level = getattr(status, "modification_level", None)
    who = _who(embedded, signer)
    spec = field_lock(embedded)
    if spec is not None and level is not None and level > ModificationLevel.LTA_UPDATES:
        locked = _locked_changes(embedded, spec, status.diff_result, policy)
        if locked:
            return MdpBreach("field_locked", (
                f"Chữ ký {who} đã khóa {_lock_text(spec)}, nhưng sau khi ký trường "
                f"{', '.join(locked)} đã bị thay đổi."
            ))
    if perm is not None and status.docmdp_ok is False:
        change = _CHANGE_NAMES.get(level, _CHANGE_NAMES[ModificationLevel.OTHER])
        how = "được chứng thực" if is_certification(embedded) else "bị khóa"
        return MdpBreach(REASONS[perm], (
            f"Văn bản đã {how} ở mức '{_LEVEL_NAMES[perm]}' (P={perm.value}) bởi chữ ký "
            f"{who}, nhưng một phiên bản sau đó đã {change}."
        ))
    return None


def is_certification(embedded: EmbeddedPdfSignature) -> bool:
    try:
        refs = embedded.sig_object.get("/Reference") or ()
        return any(r.get_object().get("/TransformMethod") == "/DocMDP" for r in refs)
    except Exception:
        return False


def unsigned_changes_allowed(
    certification: Certification | None, level: ModificationLevel | None
) -> bool:
    """Whether unsigned changes of ``level`` after the newest signature are allowed: form
    filling under P=2, also annotations under P=3. They are then reported, not refused."""
    if certification is None or level is None:
        return False
    return ModificationLevel.LTA_UPDATES < level <= ALLOWED_AFTER[certification.permission]


def refuse_signing(reader: PdfFileReader, *, field_name: str | None, visible: bool) -> None:
    """Raise :class:`ChangesNotPermitted` if a new signature would break the document's
    certification or a field lock: certified "no changes" (P=1, or a signed field's /Lock
    with /P 1); certified P=2/3 and a new visible signature field (pyHanko's analysis, like
    the PDF standard, allows only filling existing fields then); an existing empty field that
    an earlier signature locked."""
    try:
        certification = document_certification(list(reader.embedded_signatures))
        catalog = read_certification_data(reader)  # what pyHanko's own signer goes by
    except Exception:
        certification, catalog = None, None
    if catalog is not None and catalog.permission is not None and certification is None:
        certification = Certification(MDPPerm(catalog.permission))
    if certification is not None and certification.permission is MDPPerm.NO_CHANGES:
        raise ChangesNotPermitted(
            "Văn bản đã được chứng thực ở mức 'không cho phép thay đổi' (P=1): không thể ký "
            "thêm vào văn bản này."
        )
    try:
        sig_fields = list(enumerate_sig_fields(reader))
    except Exception:
        sig_fields = []
    empty = {name for name, value, _ in sig_fields if value is None}
    for name, value, ref in sig_fields:
        if value is None:
            continue
        lock = ref.get_object().get("/Lock")
        if lock is None:
            continue
        lock = lock.get_object()
        if lock.get("/P") == 1:
            raise ChangesNotPermitted(
                f"Chữ ký {name} đã khóa văn bản ở mức 'không cho phép thay đổi' (P=1): không "
                "thể ký thêm vào văn bản này."
            )
        try:
            spec = FieldMDPSpec.from_pdf_object(lock)
        except Exception:
            continue
        if field_name in empty and spec.is_locked(field_name):
            raise ChangesNotPermitted(
                f"Ô chữ ký {field_name} đã bị khóa bởi chữ ký {name}: không thể ký vào ô này."
            )
    if certification is not None and visible and field_name not in empty:
        raise ChangesNotPermitted(
            f"Văn bản đã được chứng thực ở mức '{_LEVEL_NAMES[certification.permission]}' "
            f"(P={certification.level}): chữ ký mới chỉ được đặt vào ô chữ ký có sẵn trong văn "
            "bản, không thêm ô chữ ký mới."
        )


class AnnotationAdditionRule(QualifiedWhitelistRule):
    """Clears comment annotations added to pages, at level ``ANNOTATIONS``.

    A page may change only by new entries in /Annots (old ones kept, in place). Each new
    annotation must be a new object of a comment subtype (no Widget, Link, media or file
    attachment) without actions; its own new dependencies (appearance streams, popup) are
    cleared with it. Anything else is left unexplained, so pyHanko reports "other".
    """

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterator[tuple[ModificationLevel, ReferenceUpdate]]:
        try:
            yield from self._walk(old, old.root["/Pages"], new.root["/Pages"], new, 0)
        except (KeyError, TypeError, ValueError, AttributeError):
            return

    def _walk(self, old, old_node, new_node, new, depth):
        if depth > 64:
            return
        old_kids, new_kids = old_node["/Kids"], new_node["/Kids"]
        old_refs = [k.reference for k in old_kids]
        if [k.reference for k in new_kids] != old_refs:
            return
        for ref, old_kid, new_kid in zip(old_refs, old_kids, new_kids, strict=True):
            old_page, new_page = old_kid.get_object(), new_kid.get_object()
            if old_page.get("/Type") == "/Pages":
                yield from self._walk(old, old_page, new_page, new, depth + 1)
            else:
                yield from self._page(old, new, ref, old_page, new_page)

    def _page(self, old, new, ref, old_page, new_page):
        new_annots = _refs(new_page.get("/Annots"))
        old_annots = _refs(old_page.get("/Annots"))
        if new_annots == old_annots or new_annots[: len(old_annots)] != old_annots:
            return
        added = new_annots[len(old_annots):]
        for annot_ref in added:
            annot = annot_ref.get_object()
            if (not old.is_ref_unassignable(annot_ref)
                    or annot.get("/Subtype") not in _COMMENT_SUBTYPES
                    or any(k in annot for k in _ACTION_KEYS)):
                return
        try:
            compare_dicts(old_page, new_page, frozenset(["/Annots"]))
        except Exception:
            return
        level = ModificationLevel.ANNOTATIONS
        # a page is reachable from many places (widgets' /P, outlines): it is cleared as a
        # whole, which is safe because only its /Annots differ
        yield level, ReferenceUpdate(ref)
        raw = new_page.raw_get("/Annots")
        if isinstance(raw, generic.IndirectObject):
            yield level, ReferenceUpdate(raw.reference)
        since = old.revision + 1
        for annot_ref in added:
            yield level, ReferenceUpdate(annot_ref)
            for dep in new.collect_dependencies(annot_ref.get_object(), since_revision=since):
                yield level, ReferenceUpdate(dep)


def _refs(value) -> list:
    if value is None:
        return []
    value = value.get_object()
    return [item.reference for item in value if isinstance(item, generic.IndirectObject)]


_ANNOTATING_POLICY = StandardDiffPolicy(
    global_rules=[*DEFAULT_DIFF_POLICY.global_rules, AnnotationAdditionRule()],
    form_rule=DEFAULT_DIFF_POLICY.form_rule,
)
