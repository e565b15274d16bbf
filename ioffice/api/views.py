"""/api/v1: incoming documents for other systems. Each handler is one service call.

Authentication, input parsing, the transaction and error mapping are done by the route wrapper
(``ioffice.api.routing``); the OpenAPI document is built from the same declarations.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, jsonify

from ioffice.agencies.permissions import Op
from ioffice.api import openapi
from ioffice.api import schemas as s
from ioffice.api.routing import MULTIPART, ApiBlueprint, Call
from ioffice.errors import NotFound
from ioffice.incoming import handling, queries, registration
from ioffice.incoming.registration import UploadedFile, today_vn
from ioffice.records import retention
from ioffice.services import services
from ioffice.storage.base import CHUNK_SIZE

api = ApiBlueprint("api_v1", __name__, url_prefix="/api/v1")
bp = api.bp

DOCS, QUEUES, HANDLING, REGISTER, META = "documents", "queues", "handling", "register", "meta"


# ----------------------------------------------------------------------------- meta


@api.get("/openapi.json", summary="This OpenAPI document", tag=META, auth=False, operation=None)
def openapi_document(_call: Call) -> Response:
    return jsonify(openapi.build(current_app, api))


@api.get("/me", summary="Who the token acts as", tag=META, response=s.MeOut, operation=None)
def me(call: Call) -> s.MeOut:
    from ioffice.agencies.service import load_membership

    m = load_membership(call.session, call.actor.user_id, call.actor.agency_id)
    assert m is not None  # the token was just authenticated on it
    return s.MeOut(user_id=m.user_id, username=m.user.username, full_name=m.user.full_name,
                   agency_id=m.agency_id, agency_code=m.agency.code, agency_name=m.agency.name,
                   department_id=m.department_id, roles=sorted(r.value for r in m.roles))


# ----------------------------------------------------------------------------- documents


@api.post("/documents", summary="Register a document from its PDF file(s)", tag=DOCS,
          body=s.RegisterPaperForm, body_media=MULTIPART, files="files", response=s.DocumentOut,
          status=201, errors=(403, 409, 413, 415), operation=Op.REGISTER_INCOMING,
          links=("get_document", "distribute"))
def register_paper(call: Call) -> s.DocumentOut:
    """Clerk only. multipart/form-data: the metadata fields plus one `files` part per PDF.
    The incoming number is assigned at once. A suspected duplicate answers 409
    `duplicate_suspected` with the earlier records; send `confirm_duplicate=true` to register
    anyway."""
    files = tuple(UploadedFile(filename=f.filename or "", data=f.read(),
                               content_type=f.mimetype or "application/pdf")
                  for f in call.extra["files"])
    data = call.body.to_input(files, call.body.submission_id)
    doc = registration.register_paper(call.session, services().blobs, call.actor, data,
                                       trust=services().trust_if_ready())
    return s.document_out(doc, queries.history(call.session, doc), today_vn())


@api.post("/documents/<int:document_id>/register",
          summary="Register an electronic document awaiting registration", tag=DOCS,
          body=s.DocumentMetadata, response=s.DocumentOut, errors=(400, 403, 404, 409),
          operation=Op.REGISTER_INCOMING)
def register_received(call: Call, document_id: int) -> s.DocumentOut:
    """Clerk only. The metadata may correct what arrived; the document gets its number now."""
    doc = registration.register_received(call.session, call.actor, document_id, call.body.to_input())
    return s.document_out(doc, queries.history(call.session, doc), today_vn())


@api.post("/documents/<int:document_id>/reject", summary="Refuse an electronic document",
          tag=DOCS, body=s.RejectIn, response=s.DocumentSummaryOut, errors=(400, 403, 404),
          operation=Op.REJECT_INCOMING)
def reject_received(call: Call, document_id: int) -> s.DocumentSummaryOut:
    doc = registration.reject_received(call.session, call.actor, document_id, call.body.reason)
    return s.summary_out(doc)


@api.get("/documents/<int:document_id>", summary="A document: metadata, files, assignments, history",
         tag=DOCS, response=s.DocumentOut, errors=(404,), operation=Op.READ_INCOMING)
def get_document(call: Call, document_id: int) -> s.DocumentOut:
    """The read is recorded in the audit log."""
    doc = queries.read_document(call.session, call.actor, document_id)
    return s.document_out(doc, queries.history(call.session, doc), today_vn())


@api.get("/documents/<int:document_id>/files/<int:file_id>", summary="Download a file",
         tag=DOCS, response_media="application/pdf", errors=(404, 410),
         operation=Op.READ_INCOMING)
def download_file(call: Call, document_id: int, file_id: int) -> Response:
    """Recorded in the audit log as a read of the document. A document destroyed with its
    dossier answers 410 naming the decision (its files are gone)."""
    doc = queries.read_document(call.session, call.actor, document_id)
    f = next((f for f in doc.files if f.id == file_id), None)
    if f is None:
        raise NotFound("Không tìm thấy tệp của văn bản.")
    retention.check_not_destroyed(call.session, doc)
    blobs, sha256 = services().blobs, f.sha256

    def chunks():
        with blobs.open(sha256) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                yield chunk

    resp = Response(chunks(), mimetype=f.content_type)
    resp.headers["Content-Length"] = str(f.size)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f.filename)}"
    return resp


# ----------------------------------------------------------------------------- queues


@api.get("/queues/to-register", summary="Electronic documents awaiting registration (clerk)",
         tag=QUEUES, query=s.QueueQuery, response=s.DocumentPage, errors=(403,),
         operation=Op.VIEW_TO_REGISTER)
def to_register(call: Call) -> s.DocumentPage:
    """The most urgent first, then the oldest, paginated by key."""
    q = call.query
    docs = queries.to_register(call.session, call.actor, limit=q.limit, after=q.after)
    return _waiting_page(docs, q.limit)


def _waiting_page(docs: list, limit: int) -> s.DocumentPage:
    return s.DocumentPage(items=[s.summary_out(d) for d in docs],
                          next_after=s.next_after(docs, limit, queries.waiting_cursor))


@api.get("/queues/to-distribute", summary="Registered documents awaiting distribution (leader)",
         tag=QUEUES, query=s.QueueQuery, response=s.DocumentPage, errors=(403,),
         operation=Op.VIEW_TO_DISTRIBUTE)
def to_distribute(call: Call) -> s.DocumentPage:
    """The most urgent first, then the oldest, paginated by key."""
    q = call.query
    docs = queries.to_distribute(call.session, call.actor, limit=q.limit, after=q.after)
    return _waiting_page(docs, q.limit)


@api.get("/queues/to-handle", summary="The caller's open assignments", tag=QUEUES,
         query=s.ToHandleQuery, response=s.AssignmentPage, operation=Op.VIEW_TO_HANDLE)
def to_handle(call: Call) -> s.AssignmentPage:
    """Soonest deadline first (no deadline last), paginated by key."""
    q, today = call.query, today_vn()
    items = queries.to_handle(call.session, call.actor, today=today, which=q.which, after=q.after,
                              limit=q.limit)
    return s.AssignmentPage(items=[s.assignment_item(a, today) for a in items],
                            next_after=s.next_after(items, q.limit, queries.queue_cursor))


@api.get("/counts", summary="Queue sizes for the home page", tag=QUEUES, response=s.CountsOut, operation=None)
def counts(call: Call) -> s.CountsOut:
    c = queries.counts(call.session, call.actor, today_vn())
    return s.CountsOut(to_register=c.to_register, to_distribute=c.to_distribute,
                       to_handle=c.to_handle, overdue=c.overdue, due_soon=c.due_soon)


@api.get("/follow-up", summary="Assignments of the agency by department and period", tag=QUEUES,
         query=s.FollowUpQuery, response=s.AssignmentList, errors=(403,), operation=Op.FOLLOW_UP)
def follow_up(call: Call) -> s.AssignmentList:
    q, today = call.query, today_vn()
    flt = queries.FollowUpFilter(department_id=q.department_id, start=q.start, end=q.end,
                                 only_overdue=q.only_overdue)
    items = queries.follow_up(call.session, call.actor, flt, today, limit=q.limit, after=q.after)
    return s.AssignmentList(items=[s.assignment_item(a, today) for a in items],
                            next_after=s.next_after(items, q.limit, queries.queue_cursor))


# ----------------------------------------------------------------------------- handling


@api.post("/documents/<int:document_id>/distribute", summary="Distribute a document (leader)",
          tag=HANDLING, body=s.DistributeIn, response=s.DistributeOut, status=201,
          errors=(400, 403, 404), operation=Op.DISTRIBUTE)
def distribute(call: Call, document_id: int) -> s.DistributeOut:
    created = handling.distribute(call.session, call.actor, document_id, call.body.to_input())
    today = today_vn()
    return s.DistributeOut(assignments=[s.assignment_out(a, today) for a in created])


@api.post("/assignments/<int:assignment_id>/pass-on",
          summary="Pass a department's assignment on to one of its people (department head)",
          tag=HANDLING, body=s.PassOnIn, response=s.AssignmentOut, status=201,
          errors=(400, 403, 404), operation=Op.PASS_ON)
def pass_on(call: Call, assignment_id: int) -> s.AssignmentOut:
    b = call.body
    child = handling.pass_on(call.session, call.actor, assignment_id, b.user_id, b.deadline,
                             b.instruction)
    return s.assignment_out(child, today_vn())


@api.post("/assignments/<int:assignment_id>/progress", summary="Record progress", tag=HANDLING,
          body=s.ProgressIn, response=s.AssignmentOut, errors=(400, 403, 404), operation=Op.HANDLE_ASSIGNMENT)
def record_progress(call: Call, assignment_id: int) -> s.AssignmentOut:
    a = handling.record_progress(call.session, call.actor, assignment_id, call.body.note)
    return s.assignment_out(a, today_vn())


@api.post("/assignments/<int:assignment_id>/extension-request", summary="Ask for more time",
          tag=HANDLING, body=s.ExtensionRequestIn, response=s.AssignmentOut, errors=(400, 403, 404),
          operation=Op.HANDLE_ASSIGNMENT)
def request_extension(call: Call, assignment_id: int) -> s.AssignmentOut:
    b = call.body
    a = handling.request_extension(call.session, call.actor, assignment_id, b.new_deadline, b.reason)
    return s.assignment_out(a, today_vn())


@api.post("/assignments/<int:assignment_id>/extension-decision",
          summary="Approve or refuse an extension (leader, or the department head who passed it on)",
          tag=HANDLING, body=s.ExtensionDecisionIn, response=s.AssignmentOut, errors=(400, 403, 404),
          operation=Op.DECIDE_EXTENSION)
def decide_extension(call: Call, assignment_id: int) -> s.AssignmentOut:
    a = handling.decide_extension(call.session, call.actor, assignment_id, call.body.approve)
    return s.assignment_out(a, today_vn())


@api.post("/assignments/<int:assignment_id>/finish", summary="Finish with a result", tag=HANDLING,
          body=s.FinishIn, response=s.AssignmentOut, errors=(400, 403, 404), operation=Op.HANDLE_ASSIGNMENT)
def finish(call: Call, assignment_id: int) -> s.AssignmentOut:
    """Finishing the lead assignment marks the document done."""
    b = call.body
    a = handling.finish(call.session, call.actor, assignment_id, b.result, b.reply_number)
    return s.assignment_out(a, today_vn())


@api.post("/assignments/<int:assignment_id>/return", summary="Give the work back with a reason",
          tag=HANDLING, body=s.ReturnIn, response=s.AssignmentOut, errors=(400, 403, 404),
          operation=Op.HANDLE_ASSIGNMENT)
def return_assignment(call: Call, assignment_id: int) -> s.AssignmentOut:
    a = handling.return_assignment(call.session, call.actor, assignment_id, call.body.reason)
    return s.assignment_out(a, today_vn())


# ----------------------------------------------------------------------------- register


@api.get("/register", summary="The incoming register of a year", tag=REGISTER,
         query=s.RegisterQuery, response=s.RegisterPage, errors=(403,), operation=Op.VIEW_INCOMING_REGISTER)
def register_page(call: Call) -> s.RegisterPage:
    """In number order, paginated by number (keyset `after_number`)."""
    q = call.query
    flt = queries.RegisterFilter(year=q.year, month=q.month, doc_type=q.doc_type, issuer=q.issuer)
    docs = queries.register_page(call.session, call.actor, flt, after_number=q.after_number,
                                 limit=q.limit)
    last = docs[-1].incoming_number if len(docs) == q.limit else None
    return s.RegisterPage(items=[s.summary_out(d) for d in docs], next_after_number=last)


# the administration, outgoing, exchange, registers, notifications and records endpoints
# register themselves on ``api`` (kept in their own modules)
from ioffice.api import (  # noqa: E402
    admin_views,  # noqa: F401
    archive_views,  # noqa: F401
    audit_views,  # noqa: F401
    calendar_views,  # noqa: F401
    copy_views,  # noqa: F401
    dashboard_views,  # noqa: F401
    exchange_views,  # noqa: F401
    outgoing_views,  # noqa: F401
    records_edit_views,  # noqa: F401
    records_views,  # noqa: F401
)
