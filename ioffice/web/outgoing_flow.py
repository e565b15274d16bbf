"""The leader's one-step actions on the outgoing pages: "Duyệt và ký" on a document, and
signing several documents with one PIN entry (``/van-ban-di/cho-toi-ky``). Routes of the
``outgoing`` blueprint, kept apart from ``outgoing.py``."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from ioffice.db_session import get_session
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE
from ioffice.errors import DomainError
from ioffice.outgoing import combined
from ioffice.outgoing.errors import PersistedFailure
from ioffice.services import services
from ioffice.web import forms
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor
from ioffice.web.outgoing import _act, bp

NOT_APPROVED = "Chưa duyệt, chưa ký: "


@bp.route("/<int:document_id>/duyet-va-ky", methods=["POST"])
@operation(Op.SIGN)
def approve_and_sign(document_id: int) -> Any:
    """Approve the last step and sign with the PIN; on any failure nothing of it is kept (a
    wrong PIN is counted) and the page says so."""
    s = services()
    return _act(lambda: combined.approve_and_sign_with_pin(
        get_session(), s.blobs, s.trust, current_actor(), document_id,
        (request.form.get("pin") or "").strip(), forms.text(request.form, "comment")),
        document_id, "Đã duyệt và ký số văn bản; văn bản chuyển văn thư cấp số.",
        error_prefix=NOT_APPROVED)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and len(v) <= 12]


@bp.route("/cho-toi-ky", methods=["GET", "POST"])
@operation(Op.SIGN)
def sign_many() -> Any:
    """Documents waiting for the leader's signature, with check boxes and one PIN."""
    db = get_session()
    actor = current_actor()
    results: list[combined.BatchResult] = []
    error = ""
    chosen: set[int] = set()
    status = 200
    if request.method == "POST":
        chosen = set(_ids(request.form.getlist("document_ids")))
        try:
            results = combined.sign_many_with_pin(
                db, services().blobs, services().trust, actor,
                _ids(request.form.getlist("document_ids")), (request.form.get("pin") or "").strip())
        except PersistedFailure as exc:
            db.commit()
            error, status = exc.message + " Chưa ký văn bản nào.", 422
        except DomainError as exc:
            db.rollback()
            error, status = exc.message, 422
        else:
            db.commit()
            chosen = set()
    return render_template("outgoing/sign_many.html", docs=combined.awaiting_my_signature(db, actor),
                           results=results, error=error, chosen=chosen,
                           signed=sum(r.signed for r in results), doc_types=DOC_TYPES_BY_CODE,
                           max_batch=combined.MAX_BATCH), status
