"""/api/v1/admin/audit: the agency admin's audit log (the page «Nhật ký hoạt động», /quan-tri/
nhat-ky; docs/security.md "The audit log page"): the events of the token's agency, newest first,
filtered as on the page (person, object, action, days), paged by key.

The handler calls the page's query (``ioffice.audit.viewer.page``) after the same role rule
(``Op.ADMIN_AUDIT``) and needs the token's ``admin`` scope, as the other ``/admin`` routes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from ioffice.agencies.permissions import Op
from ioffice.api.routing import Call
from ioffice.api.schemas import Input, Output
from ioffice.api.tokens import Scope
from ioffice.api.views import api
from ioffice.audit import viewer
from ioffice.incoming.errors import InvalidInput

AUDIT = "administration"


class AuditQuery(Input):
    user_id: int | None = Field(None, ge=0, description=(
        "Who acted (a user id of the agency); 0: events without a user (the system, the "
        "exchange, the console)."))
    subject: str | None = Field(None, max_length=200, description=(
        "The object, `type` or `type:id` as the log writes them (`incoming:41`, "
        "`certificate:1A2B`, `user:12`)."))
    action: str | None = Field(None, max_length=80, description=(
        "An area (the first part of a tag: `auth`, `agencies`, `incoming`, `outgoing`, `keys`, "
        "`exchange`, `search`, `registers`, `audit`) or one whole tag "
        "(`incoming:document:read`)."))
    since: dt.date | None = Field(None, description="From this day (Vietnam's time), included.")
    until: dt.date | None = Field(None, description="To this day, included; not before `since`.")
    after: int | None = Field(None, ge=1, description=(
        "Keyset cursor: `next_after` of the previous page (the events before it)."))


class AuditEventOut(Output):
    id: int
    occurred_at: dt.datetime
    actor_name: str = Field(description="Empty for the system.")
    tag: str = Field(description="`capability:subject:action`.")
    subject_type: str
    subject_id: str
    remote_addr: str
    details: dict[str, Any]


class AuditPage(Output):
    items: list[AuditEventOut] = Field(description=f"At most {viewer.PAGE_SIZE}, as the page.")
    next_after: int | None = Field(description="Pass as `after` for the next (older) page; null "
                                               "on the last page.")


def _filters(q: AuditQuery) -> viewer.Filters:
    """The page's filters and its messages for bad ones (``ioffice.web.admin._audit_filters``)."""
    errors: dict[str, str] = {}
    subject_type, _, subject_id = (q.subject or "").partition(":")
    if subject_type and not viewer.valid_subject(subject_type, subject_id):
        errors["subject"] = f"Đối tượng «{q.subject}» không hợp lệ."
    if q.since and q.until and q.since > q.until:
        errors["until"] = "«Đến ngày» phải sau «Từ ngày»."
    if errors:
        raise InvalidInput(errors)
    return viewer.Filters(user_id=q.user_id, subject_type=subject_type, subject_id=subject_id,
                          area=(q.action or "").strip(), since=q.since, until=q.until)


@api.get("/admin/audit", summary="The agency's audit log, newest first (admin)", tag=AUDIT,
         query=AuditQuery, response=AuditPage, errors=(403, 422), operation=Op.ADMIN_AUDIT,
         scope=Scope.ADMIN)
def list_audit_events(call: Call) -> AuditPage:
    """Only the token's agency's events. A bad object or an end before the start answers 422
    naming the field, with the page's message."""
    q = call.query
    rows, next_key = viewer.page(call.session, call.actor, _filters(q), before_id=q.after)
    return AuditPage(items=[AuditEventOut(
        id=r.id, occurred_at=r.occurred_at, actor_name=r.actor_name or "", tag=r.tag,
        subject_type=r.subject_type or "", subject_id=r.subject_id or "",
        remote_addr=r.remote_addr or "", details=r.details or {}) for r in rows],
        next_after=next_key)
