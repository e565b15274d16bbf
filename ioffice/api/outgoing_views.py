"""/api/v1/outgoing: outgoing documents for other systems, from the draft to the dispatch.

Each handler calls the service function its web page calls (``ioffice.web.outgoing``), with
the same role rule (``operation=``) and the same object rule inside the service. Signing needs
the token's ``sign`` scope and, besides, what the browser needs: the signer's PIN, or the
two-phase prepare/finish where the key holder signs the prepared bytes with their own key (the
server verifies the value against the certificate and those bytes before embedding it).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from flask import Response

from ioffice.agencies.models import Agency, User
from ioffice.agencies.permissions import Op
from ioffice.api import outgoing_schemas as o
from ioffice.api.routing import MULTIPART, Call
from ioffice.api.tokens import Scope
from ioffice.api.views import api
from ioffice.errors import NotFound
from ioffice.keys import service as keys
from ioffice.outgoing import dispatch, drafts, issue, numbering, queries, review, signatures
from ioffice.outgoing.errors import InvalidInput
from ioffice.outgoing.models import OutgoingDocument
from ioffice.records import retention
from ioffice.services import services

OUT = "outgoing"
SIGN = "signing"
SECTIONS = {"to_act": queries.to_act, "mine": queries.mine, "recent": queries.recent}


def _document(call: Call, document_id: int) -> o.OutgoingOut:
    doc = queries.read_document(call.session, call.actor, document_id)
    statuses = {s.organ_id: s for s in dispatch.recipient_statuses(call.session, call.actor, doc)}
    return o.document_out(doc, review.current_step(call.session, doc),
                          queries.history(call.session, doc), statuses)


def _upload(call: Call) -> drafts.Upload:
    files = call.extra["files"]
    if len(files) != 1:
        raise InvalidInput({"file": "Gửi đúng một tệp dự thảo (PDF hoặc DOCX) trong phần «file»."
                            if files else "Chưa gửi tệp dự thảo (PDF hoặc DOCX) trong phần «file»."})
    return drafts.Upload(files[0].filename or "du-thao.pdf", files[0].read())


# ----------------------------------------------------------------------------- drafts


@api.get("/outgoing", summary="Outgoing documents: to act on, mine, or recently dispatched",
         tag=OUT, query=o.OutgoingListQuery, response=o.OutgoingPage, operation=Op.READ_OUTGOING)
def list_outgoing(call: Call) -> o.OutgoingPage:
    """Paginated by key: pass `next_after` as `after` for the next page."""
    q = call.query
    rows, after = SECTIONS[q.section](call.session, call.actor, after=q.after, limit=q.limit)
    return o.OutgoingPage(items=[o.summary_out(r) for r in rows], next_after=after)


@api.post("/outgoing", summary="Start a draft from a PDF or DOCX file", tag=OUT,
          body=o.DraftForm, body_media=MULTIPART, files="file", single_file=True,
          response=o.OutgoingOut, status=201, errors=(403, 404, 413), operation=Op.DRAFT_OUTGOING,
          links=("get_outgoing", "add_comment", "upload_version", "submit", "recipients"))
def create_draft(call: Call) -> o.OutgoingOut:
    """multipart/form-data: the fields plus one `file` part (a DOCX is converted to PDF). At
    least one recipient (`department_ids` or `agency_codes`)."""
    doc = drafts.create_draft(call.session, services().blobs, call.actor, call.body.to_input(),
                              _upload(call))
    return _document(call, doc.id)


@api.get("/outgoing/<int:outgoing_id>", summary="An outgoing document: metadata, versions, "
         "comments, recipients, signatures, history", tag=OUT, response=o.OutgoingOut,
         errors=(404,), operation=Op.READ_OUTGOING,
         links=("approve", "send_back", "withdraw", "sign_pin", "signing_prepare", "issue_document"))
def get_outgoing(call: Call, outgoing_id: int) -> o.OutgoingOut:
    return _document(call, outgoing_id)


@api.get("/outgoing/<int:outgoing_id>/files/<sha256>", summary="Download a version or a signed "
         "revision (PDF)", tag=OUT, response_media="application/pdf", errors=(404, 410),
         operation=Op.READ_OUTGOING)
def download_outgoing_file(call: Call, outgoing_id: int, sha256: str) -> Response:
    """A document destroyed with its dossier answers 410 naming the decision."""
    doc = queries.read_document(call.session, call.actor, outgoing_id)
    if sha256 not in {v.sha256 for v in doc.versions} | {s.sha256 for s in doc.signatures}:
        raise NotFound("Không tìm thấy tệp của văn bản đi.")
    retention.check_not_destroyed(call.session, doc)
    name = (doc.number_notation.replace("/", "-") or f"du-thao-{doc.id}") + ".pdf"
    resp = Response(services().blobs.read_bytes(sha256), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


@api.post("/outgoing/<int:outgoing_id>/versions", summary="Upload a new version (PDF or DOCX)",
          tag=OUT, body=o.VersionForm, body_media=MULTIPART, files="file", single_file=True,
          response=o.OutgoingOut, status=201, errors=(403, 404, 409, 413),
          operation=Op.UPLOAD_VERSION)
def upload_version(call: Call, outgoing_id: int) -> o.OutgoingOut:
    drafts.upload_version(call.session, services().blobs, call.actor, outgoing_id, _upload(call),
                          call.body.note)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/comments", summary="Comment on the draft", tag=OUT,
          body=o.CommentIn, response=o.CommentOut, status=201, errors=(403, 404),
          operation=Op.COMMENT_OUTGOING)
def add_comment(call: Call, outgoing_id: int) -> o.CommentOut:
    c = drafts.add_comment(call.session, call.actor, outgoing_id, call.body.body)
    return o.CommentOut(id=c.id, author=call.actor.full_name, kind=c.kind, step=c.step,
                        version_no=c.version_no, body=c.body, created_at=c.created_at)


# ----------------------------------------------------------------------------- review


@api.post("/outgoing/<int:outgoing_id>/submit", summary="Submit the draft for review (drafter)",
          tag=OUT, body=o.StepIn, response=o.OutgoingOut, errors=(403, 404, 409),
          operation=Op.SUBMIT_DRAFT)
def submit(call: Call, outgoing_id: int) -> o.OutgoingOut:
    review.submit(call.session, call.actor, outgoing_id, call.body.comment)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/withdraw", summary="Withdraw a submitted draft before "
          "anyone acted on it (drafter)", tag=OUT, body=o.StepIn, response=o.OutgoingOut,
          errors=(403, 404, 409), operation=Op.WITHDRAW_DRAFT)
def withdraw(call: Call, outgoing_id: int) -> o.OutgoingOut:
    review.withdraw(call.session, call.actor, outgoing_id, call.body.comment)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/approve", summary="Approve the current review step",
          tag=OUT, body=o.StepIn, response=o.OutgoingOut, errors=(403, 404, 409),
          operation=Op.REVIEW)
def approve(call: Call, outgoing_id: int) -> o.OutgoingOut:
    """Only the person of the current step (department head, office, leader)."""
    review.approve(call.session, call.actor, outgoing_id, call.body.comment)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/send-back", summary="Return the draft to its drafter",
          tag=OUT, body=o.SendBackIn, response=o.OutgoingOut, errors=(403, 404, 409),
          operation=Op.REVIEW)
def send_back(call: Call, outgoing_id: int) -> o.OutgoingOut:
    review.send_back(call.session, call.actor, outgoing_id, call.body.comment)
    return _document(call, outgoing_id)


# ----------------------------------------------------------------------------- signing


@api.post("/outgoing/<int:outgoing_id>/sign-pin", summary="Sign with the signer's PIN key",
          tag=SIGN, body=o.PinIn, response=o.OutgoingOut, errors=(403, 404, 409),
          operation=Op.SIGN, scope=Scope.SIGN)
def sign_pin(call: Call, outgoing_id: int) -> o.OutgoingOut:
    """The designated signer only, with the `sign` scope. A wrong PIN answers 400 and is
    counted (five lock the key)."""
    s = services()
    signatures.sign_with_pin(call.session, s.blobs, s.trust, call.actor, outgoing_id,
                             call.body.pin.strip())
    return _document(call, outgoing_id)


@api.post("/keys/csr", summary="Certify the caller's own signing key (PKCS#10 request)",
          tag=SIGN, body=o.CsrIn, response=o.CertificateOut, status=201, errors=(403,),
          operation=Op.ISSUE_BROWSER_KEY, scope=Scope.SIGN)
def certify_key(call: Call) -> o.CertificateOut:
    """The key stays with the caller; the agency CA issues a certificate for it, used by the
    two-phase signing below (as the browser's key is)."""
    session = call.session
    row = keys.issue_from_csr(session, services().pki, call.actor.ctx,
                              session.get(User, call.actor.user_id),
                              session.get(Agency, call.actor.agency_id), call.body.csr.encode())
    return o.CertificateOut(serial=row.serial, subject=row.subject)


@api.post("/outgoing/<int:outgoing_id>/signing/prepare", summary="Two-phase signing, phase one: "
          "the bytes the signer's key must sign", tag=SIGN, response=o.PreparedOut,
          errors=(400, 403, 404, 409), operation=Op.SIGN, scope=Scope.SIGN)
def signing_prepare(call: Call, outgoing_id: int) -> o.PreparedOut:
    """The designated signer, with a key certified by `keys/csr`. Valid 10 minutes."""
    s = services()
    p = signatures.prepare_browser_signature(call.session, s.blobs, s.pki, s.trust, call.actor,
                                             outgoing_id)
    return o.PreparedOut(handle=p.handle, algorithm=p.algorithm,
                         to_sign=base64.b64encode(p.to_sign).decode(), expires_at=p.expires_at)


@api.post("/outgoing/<int:outgoing_id>/signing/finish", summary="Two-phase signing, phase two: "
          "the signature value", tag=SIGN, body=o.SignatureFinishIn, response=o.OutgoingOut,
          errors=(400, 403, 404, 409), operation=Op.SIGN, scope=Scope.SIGN)
def signing_finish(call: Call, outgoing_id: int) -> o.OutgoingOut:
    """The value is verified against the certificate and the prepared bytes before it is
    embedded; a value over other bytes answers 400 and uses the handle up."""
    try:
        value = base64.b64decode(call.body.signature, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput({"signature": "Giá trị chữ ký không đúng định dạng base64."}) from None
    s = services()
    signatures.finish_browser_signature(call.session, s.blobs, s.trust, call.actor, outgoing_id,
                                        call.body.handle, value)
    return _document(call, outgoing_id)


# ----------------------------------------------------------------------------- issuing


@api.post("/outgoing/<int:outgoing_id>/number", summary="Give the signed document its number "
          "(clerk)", tag=OUT, response=o.OutgoingOut, errors=(403, 404, 409), operation=Op.NUMBER)
def assign_number(call: Call, outgoing_id: int) -> o.OutgoingOut:
    numbering.assign_number(call.session, call.actor, outgoing_id)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/seal", summary="The agency's digital signature (clerk)",
          tag=OUT, response=o.OutgoingOut, errors=(400, 403, 404, 409), operation=Op.SEAL)
def seal(call: Call, outgoing_id: int) -> o.OutgoingOut:
    s = services()
    signatures.apply_agency_signature(call.session, s.blobs, s.pki, s.trust, call.actor,
                                      outgoing_id, tsa=s.timestamps, tokens=s.seal_tokens)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/dispatch", summary="Send to the recipients (clerk)",
          tag=OUT, response=o.OutgoingOut, errors=(400, 403, 404, 409), operation=Op.DISPATCH)
def dispatch_document(call: Call, outgoing_id: int) -> o.OutgoingOut:
    dispatch.dispatch(call.session, call.actor, outgoing_id)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/issue", summary="Number, seal and dispatch in one "
          "transaction (clerk)", tag=OUT, response=o.OutgoingOut, errors=(400, 403, 404, 409),
          operation=Op.NUMBER)
def issue_document(call: Call, outgoing_id: int) -> o.OutgoingOut:
    """What the clerk's one button does: a failed seal takes no number."""
    s = services()
    issue.issue(call.session, s.blobs, s.pki, s.trust, call.actor, outgoing_id,
                tsa=s.timestamps, tokens=s.seal_tokens)
    return _document(call, outgoing_id)


@api.get("/outgoing/<int:outgoing_id>/recipients", summary="Per-recipient statuses", tag=OUT,
         response=o.RecipientList, errors=(404,), operation=Op.READ_OUTGOING)
def recipients(call: Call, outgoing_id: int) -> o.RecipientList:
    """Each recipient with its delivery state and, for agencies reached through the axis, the
    latest status they sent back and its history."""
    doc = queries.read_document(call.session, call.actor, outgoing_id)
    statuses = {s.organ_id: s for s in dispatch.recipient_statuses(call.session, call.actor, doc)}
    return o.RecipientList(items=[o.recipient_out(r, statuses.get(r.agency_code))
                                  for r in doc.recipients])


@api.post("/outgoing/<int:outgoing_id>/revoke", summary="Revoke a dispatched document", tag=OUT,
          body=o.ReasonIn, response=o.OutgoingOut, errors=(403, 404, 409), operation=Op.REVOKE)
def revoke(call: Call, outgoing_id: int) -> o.OutgoingOut:
    dispatch.revoke(call.session, call.actor, outgoing_id, call.body.reason)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/update", summary="Send the recipients an update notice",
          tag=OUT, body=o.ReasonIn, response=o.OutgoingOut, errors=(403, 404, 409),
          operation=Op.SEND_UPDATE)
def send_update(call: Call, outgoing_id: int) -> o.OutgoingOut:
    dispatch.send_update(call.session, call.actor, outgoing_id, call.body.reason)
    return _document(call, outgoing_id)


@api.post("/outgoing/<int:outgoing_id>/replace", summary="Start the draft of a replacing "
          "document", tag=OUT, response=o.OutgoingOut, status=201, errors=(403, 404, 409),
          operation=Op.REPLACE)
def replace(call: Call, outgoing_id: int) -> o.OutgoingOut:
    """A new draft with the same metadata and recipients; upload its content as a version.
    Dispatching it marks this one replaced."""
    new: OutgoingDocument = dispatch.start_replacement(call.session, call.actor, outgoing_id)
    return _document(call, new.id)
