"""/api/v1/exchange and /api/v1/search: the exchange page (/lien-thong) and the search page
(/tim-kiem) for other systems.

Each handler calls the service function its web page calls (``ioffice.web.exchange``,
``ioffice.web.search``), with the same role rule (``operation=``); the services check the role
again and keep to the caller's agency (another agency's package answers 404).
"""

from __future__ import annotations

from ioffice import search as svc
from ioffice.agencies.permissions import Op
from ioffice.api import exchange_schemas as x
from ioffice.api.routing import Call
from ioffice.api.views import api
from ioffice.exchange import decisions
from ioffice.exchange.errors import InvalidCursor
from ioffice.search.service import decode_cursor

EXCHANGE, SEARCH = "exchange", "search"


# ----------------------------------------------------------------------------- exchange


@api.get("/exchange/outbox", summary="Packages sent over the axis (outbox)", tag=EXCHANGE,
         query=x.OutboxQuery, response=x.OutboxPage, errors=(403,), operation=Op.VIEW_EXCHANGE)
def list_outbox(call: Call) -> x.OutboxPage:
    """Newest first, paginated by key. `state=dead`: the dead letters (sending gave up after
    its attempts), which a clerk may put back in the queue."""
    q = call.query
    rows, after = decisions.outbox_page(call.session, call.actor, state=q.state, after=q.after,
                                        limit=q.limit)
    return x.OutboxPage(items=[x.outbox_summary(r) for r in rows], next_after=after)


@api.get("/exchange/outbox/<int:outbox_id>", summary="A package sent: its state and, per "
         "recipient, delivery and the statuses sent back", tag=EXCHANGE, response=x.OutboxOut,
         errors=(403, 404), operation=Op.VIEW_EXCHANGE, links=("retry_outbox",))
def get_outbox(call: Call, outbox_id: int) -> x.OutboxOut:
    return x.outbox_out(decisions.outbox_package(call.session, call.actor, outbox_id))


@api.post("/exchange/outbox/<int:outbox_id>/retry", summary="Put a dead letter back in the "
          "queue (clerk)", tag=EXCHANGE, response=x.OutboxOut, errors=(403, 404, 409),
          operation=Op.RETRY_EXCHANGE, links=("get_outbox",))
def retry_outbox(call: Call, outbox_id: int) -> x.OutboxOut:
    """Only a dead package (`retryable`); its attempts start again. A pending or sent one
    answers 409. Audited as `exchange:outbox:retry`."""
    decisions.retry(call.session, call.actor, outbox_id)
    return x.outbox_out(decisions.outbox_package(call.session, call.actor, outbox_id))


@api.get("/exchange/inbox", summary="Packages received over the axis (inbox)", tag=EXCHANGE,
         query=x.InboxQuery, response=x.InboxPage, errors=(403,), operation=Op.VIEW_EXCHANGE)
def list_inbox(call: Call) -> x.InboxPage:
    """Newest first, paginated by key. `state=awaiting_decision`: the revoke, update and
    replace requests a clerk decides on."""
    q = call.query
    rows, after = decisions.inbox_page(call.session, call.actor, state=q.state, after=q.after,
                                       limit=q.limit)
    return x.InboxPage(items=[x.inbox_out(r) for r in rows], next_after=after)


@api.get("/exchange/inbox/<int:inbox_id>", summary="A package received; a request in words",
         tag=EXCHANGE, response=x.InboxOut, errors=(403, 404), operation=Op.VIEW_EXCHANGE,
         links=("decide_request",))
def get_inbox(call: Call, inbox_id: int) -> x.InboxOut:
    package = decisions.inbox_package(call.session, call.actor, inbox_id)
    return x.inbox_out(package.row, package.request)


@api.post("/exchange/inbox/<int:inbox_id>/decision", summary="Agree to or refuse a revoke, "
          "update or replace request (clerk)", tag=EXCHANGE, body=x.DecisionIn,
          response=x.InboxOut, errors=(400, 403, 404, 409), operation=Op.DECIDE_EXCHANGE_REQUEST,
          links=("get_inbox",))
def decide_request(call: Call, inbox_id: int) -> x.InboxOut:
    """Agreeing to a revoke closes the received copy; to an update or replace, marks it
    replaced. Refusing needs a `reason`. The requesting agency is told (status 15 or 16). A
    package that is not a request awaiting a decision answers 409."""
    b = call.body
    decisions.decide(call.session, call.actor, inbox_id, b.agree, b.reason)
    package = decisions.inbox_package(call.session, call.actor, inbox_id)
    return x.inbox_out(package.row, package.request)


# ----------------------------------------------------------------------------- search


@api.get("/search", summary="Search incoming and outgoing documents", tag=SEARCH,
         query=x.SearchQuery, response=x.SearchPageOut, errors=(400, 403),
         operation=Op.SEARCH)
def search(call: Call) -> x.SearchPageOut:
    """Every word of `q`, diacritics and case ignored, in the documents the caller may read
    (as on the search page: a specialist finds what the pages show them), best first,
    paginated by key. The search is audited (`search:query:run`)."""
    q = call.query
    if q.after is not None:
        try:
            decode_cursor(q.after)
        except svc.SearchError:
            raise InvalidCursor("after") from None
    filters = svc.Filters(direction=None if q.direction == "all" else q.direction,
                          status=q.status, doc_type=q.doc_type, date_from=q.date_from,
                          date_to=q.date_to, department_id=q.department_id)
    page = svc.search(call.session, call.actor, q.q, cursor=q.after, limit=q.limit,
                      filters=filters)
    return x.search_page(page)
