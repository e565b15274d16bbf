"""Indexing incoming documents and searching them, with saved searches per user.

Both engines see the same folded words (``text.fold_words``): SQLite through FTS5 (``bm25``),
PostgreSQL through a weighted ``tsvector`` (``ts_rank``). Results are ordered by score, then by
document id, and paginated by that key; who may see what is decided in the SQL itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import time
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy import text as text_sql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.audit import record, record_read
from ioffice.db import statements
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE, Confidentiality
from ioffice.errors import DomainError, NotFound
from ioffice.incoming.models import (
    Assignment,
    DocumentStatus,
    DocumentText,
    IncomingDocument,
    SavedSearch,
)
from ioffice.outgoing.models import (
    OutgoingComment,
    OutgoingDocument,
    OutgoingRecipient,
    OutgoingStatus,
)
from ioffice.search.models import OutgoingSearchEntry, SearchEntry
from ioffice.search.text import MAX_QUERY_CHARS, fold_words, query_terms
from ioffice.text import MAX_INT

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
RANK_BUDGET_MS = 150
"""How long ranking the matches of a query may take before the page lists the newest matches
instead: a query matching most of a million-document register cannot be ranked within a
page's time (every match is scored), but its newest matches are found at once."""
NEWEST_FIRST = -1.0
"""The score of every result listed newest first (ranked scores are >= 0 on both engines), so
a cursor says which order its next page follows."""
MAX_BODY_CHARS = 200_000
# SQLite bm25 weights of the FTS5 columns (meta, body); PostgreSQL weighs them A and D
META_WEIGHT, BODY_WEIGHT = 4.0, 1.0


class SearchError(DomainError):
    """A query or a saved search refused, with a message the user can act on."""


INCOMING, OUTGOING = "incoming", "outgoing"
DIRECTIONS = {"den": INCOMING, "di": OUTGOING}
"""The page's ``huong`` values: văn bản đến, văn bản đi."""
_KIND_RANK = {INCOMING: 0, OUTGOING: 1}


@dataclass(frozen=True)
class SearchResult:
    document: IncomingDocument | OutgoingDocument
    score: float
    kind: str = INCOMING
    """``incoming`` or ``outgoing``: which register ``document`` belongs to."""


@dataclass(frozen=True)
class Filters:
    """What narrows a search besides its words. ``direction``: ``incoming``, ``outgoing`` or
    None for both; ``status``: a status of that direction (an ``IncomingDocument`` or an
    ``OutgoingDocument`` status value; it implies the direction); ``department_id``: the
    department an incoming document is assigned to, or the drafting department of an outgoing
    one; ``date_from``/``date_to``: the document's date (incoming) or its promulgation date
    (outgoing: drafts have none and drop out of a dated search)."""

    direction: str | None = None
    status: str | None = None
    doc_type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    department_id: int | None = None


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchResult]
    next_cursor: str | None
    terms: list[str]
    newest_first: bool = False
    """The words matched too many documents to rank them within :data:`RANK_BUDGET_MS`: the
    page lists the newest matching documents first (incoming, then outgoing) instead."""


# --- indexing -------------------------------------------------------------------------------

def document_meta(doc: IncomingDocument) -> str:
    """Every metadata field a user may search by, folded."""
    doc_type = DOC_TYPES_BY_CODE.get(doc.doc_type)
    parts = [doc.subject, doc.number_notation, doc.issuer_name, doc.issuer_code, doc.signer,
             doc_type.name if doc_type else doc.doc_type, doc.notes,
             str(doc.incoming_number) if doc.incoming_number is not None else ""]
    return fold_words(" ".join(p for p in parts if p))


def index_incoming(session: Session, document: IncomingDocument, text: str | None = None, *,
                   new: bool = False) -> None:
    """(Re)write the document's search entry in the caller's transaction; the database's
    triggers (SQLite) or generated column (PostgreSQL) update the full-text index with it.
    Without ``text``, the stored extracted text of the document is used. ``new``: the
    document was created in this transaction, so it has no entry yet (no lookup; on
    PostgreSQL the entry and its ``tsv`` are written by one INSERT)."""
    if text is None or document.id is None:
        session.flush()
    if text is None:
        stored = session.get(DocumentText, document.id)
        text = stored.content if stored is not None else ""
    postgres = session.get_bind().dialect.name == "postgresql"
    if new and postgres:  # the document's row exists: it has its id
        _insert_entries(session, [(document, text)])
        return
    meta, body = document_meta(document), fold_words(text[:MAX_BODY_CHARS])
    # PostgreSQL keeps the text only inside tsv (out of line), so rows stay narrow
    stored_body = "" if postgres else body
    fields = {"agency_id": document.agency_id, "meta": meta, "body": stored_body,
              "confidential": document.confidentiality is not Confidentiality.NORMAL,
              "doc_type": document.doc_type, "document_date": document.document_date}
    tsv_params = {"meta": meta, "body": body, "agency": agency_lexeme(document.agency_id),
                  "id": document.id}
    entry = None if new else session.get(SearchEntry, document.id)
    if entry is None:
        session.add(SearchEntry(document_id=document.id, **fields))
    else:
        for name, value in fields.items():
            if getattr(entry, name) != value:
                setattr(entry, name, value)
    session.flush()  # visible to the caller's next statement, as _insert_entries' INSERT is
    if postgres:
        session.execute(text_sql("UPDATE search_entries SET tsv = " + _TSV_SQL
                                 + " WHERE document_id = :id"), tsv_params)


def index_new_incoming(session: Session, staged: list[tuple[IncomingDocument, str]]) -> None:
    """:func:`index_incoming` of documents created in this transaction (each with its extracted
    text), once they have their ids; on PostgreSQL their entries go in one statement."""
    if not staged:
        return
    if session.get_bind().dialect.name != "postgresql":
        for document, text in staged:
            index_incoming(session, document, text, new=True)
        return
    if any(document.id is None for document, _ in staged):
        session.flush()
    _insert_entries(session, staged)


def _insert_entries(session: Session, staged: list[tuple[IncomingDocument, str]]) -> None:
    """PostgreSQL: the entries of new documents, text vector included, in one INSERT statement
    run for each (nothing else pending needs flushing first: an entry refers to its document
    only, and the caller's next flush writes the rest in one unit of work)."""
    rows = [{"id": document.id, "agency_id": document.agency_id, "meta": document_meta(document),
             "body": fold_words(text[:MAX_BODY_CHARS]), "agency": agency_lexeme(document.agency_id),
             "confidential": document.confidentiality is not Confidentiality.NORMAL,
             "doc_type": document.doc_type, "document_date": document.document_date}
            for document, text in staged]
    with session.no_autoflush:
        session.execute(_INSERT_ENTRY, rows)


_TSV_SQL = ("setweight(to_tsvector('simple'::regconfig, :meta), 'A') || "
            "setweight(to_tsvector('simple'::regconfig, :body), 'D') || "
            "to_tsvector('simple'::regconfig, :agency)")
"""The weighted text vector of an entry: its metadata (weight A), its text (D) and its
agency's lexeme (every entry of an agency matches it)."""


_INSERT_ENTRY = text_sql(
    "INSERT INTO search_entries (document_id, agency_id, meta, body, confidential, doc_type, "
    "document_date, tsv) VALUES (:id, :agency_id, :meta, '', :confidential, :doc_type, "
    ":document_date, " + _TSV_SQL + ")")


def agency_lexeme(agency_id: int) -> str:
    """A word no folded text contains, put in every entry of the agency: the GIN index then
    intersects a query with the agency's entries itself instead of all agencies' matches."""
    return f"zzag{agency_id}"


def outgoing_meta(doc: OutgoingDocument) -> str:
    """Every metadata field of an outgoing document a user may search by, folded."""
    doc_type = DOC_TYPES_BY_CODE.get(doc.doc_type)
    parts = [doc.subject, doc.number_notation, doc_type.name if doc_type else doc.doc_type,
             doc.signer.full_name if doc.signer else "", doc.signer_position, doc.notes,
             doc.drafting_department.name if doc.drafting_department else "",
             *(r.name for r in doc.recipients)]
    return fold_words(" ".join(p for p in parts if p))


_OUTGOING_TSV = text_sql(
    "UPDATE search_outgoing_entries SET tsv = "
    "setweight(to_tsvector('simple'::regconfig, meta), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'D') || "
    "to_tsvector('simple'::regconfig, :agency) WHERE document_id = :id")


def index_outgoing(session: Session, document: OutgoingDocument, text: str | None = None) -> None:
    """(Re)write an outgoing document's search entry in the caller's transaction: at creation
    and at each new version (``text``: the version's extracted text), and when its number or
    recipients change (``text=None`` keeps the stored text)."""
    session.flush()
    meta = outgoing_meta(document)
    entry = session.get(OutgoingSearchEntry, document.id)
    if entry is None:
        entry = OutgoingSearchEntry(document_id=document.id, agency_id=document.agency_id,
                                    meta=meta, body="")
        session.add(entry)
    elif entry.meta != meta:
        entry.meta = meta
    if text is not None:
        body = fold_words(text[:MAX_BODY_CHARS])
        if entry.body != body:
            entry.body = body
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_OUTGOING_TSV, {"agency": agency_lexeme(document.agency_id),
                                        "id": document.id})


# --- searching ------------------------------------------------------------------------------

def encode_cursor(score: float, document_id: int, kind: str = INCOMING) -> str:
    raw = json.dumps([score, document_id, _KIND_RANK[kind]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int, int]:
    """(score, document id, kind rank); a cursor of before outgoing search (two values) is an
    incoming document's."""
    try:
        if len(cursor) > 200:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        score, document_id, *rest = values
        kind = rest[0] if len(rest) == 1 else (0 if not rest else None)
        if (isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score)
                and isinstance(document_id, int) and not isinstance(document_id, bool)
                and abs(document_id) <= MAX_INT and kind in (0, 1)
                and not isinstance(kind, bool)):
            return float(score), document_id, kind
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise SearchError("Liên kết trang kết quả không hợp lệ; hãy tìm lại từ trang đầu.")


def check_query(query: str) -> list[str]:
    """The query's terms; a query over the length limit is refused, one without words is empty."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"Từ khóa tìm kiếm quá dài (tối đa {MAX_QUERY_CHARS} ký tự).")
    return query_terms(query)


def readable(actor: Actor) -> ColumnElement[bool]:
    """SQL twin of ``incoming.access.can_read`` for documents of the actor's agency: ordinary
    documents for everyone; confidential ones for clerks and leaders, and for those assigned.
    Read from the search entry's copy of the confidentiality, so no document row is needed.

    The assignment is looked up for each confidential entry met, through the assignments'
    index by document, as a scalar subquery (``LIMIT 1``) rather than ``EXISTS``: PostgreSQL
    may plan an ``EXISTS`` under ``OR`` as a hashed subplan, which first reads every assignment
    of the user, half a million for a busy specialist, and it never hashes a scalar subquery
    (docs/search.md, "Who sees what, in SQL")."""
    if actor.has(Role.CLERK, Role.LEADER):
        return true()
    one = (select(Assignment.id)
           .where(Assignment.document_id == SearchEntry.document_id, assigned_to(actor))
           .limit(1).scalar_subquery())
    return or_(SearchEntry.confidential.is_(False), one.is_not(None))


def assigned_to(actor: Actor) -> ColumnElement[bool]:
    """An assignment that makes a confidential document readable by ``actor``: their own, or
    (a department head) their department's not yet given to a person."""
    assigned = Assignment.assignee_user_id == actor.user_id
    if actor.has(Role.DEPARTMENT_HEAD) and actor.department_id is not None:
        assigned = or_(assigned, and_(Assignment.assignee_user_id.is_(None),
                                      Assignment.assignee_department_id == actor.department_id))
    return assigned


_FTS5 = table("search_fts", column("rowid"))


def _scored(pg: bool, agency_id: int):
    """(document id column, score column, FROM clause, match condition), per engine; a higher
    score is a better match on both. The words are bound parameters (:func:`_term_values`)."""
    if pg:
        # every word, inside the agency's entries; a lossy bitmap would re-read every tsv
        simple = literal_column("'simple'::regconfig")
        matching = func.to_tsquery(simple, bindparam("ts_all", type_=String)).self_group()
        # ranked by the metadata alone (subject, number, issuer...: small, kept in the row),
        # any word counting; among equals the newest document first
        ranking = func.to_tsquery(simple, bindparam("ts_any", type_=String)).self_group()
        # float8 so the score survives the round trip through the cursor exactly
        score = cast(func.ts_rank(literal_column("search_entries.meta_tsv"), ranking), Float(53))
        return (SearchEntry.document_id, score, SearchEntry.__table__,
                and_(literal_column("search_entries.tsv").op("@@")(matching),
                     SearchEntry.agency_id == agency_id))
    score = -func.bm25(literal_column("search_fts"), META_WEIGHT, BODY_WEIGHT)
    source = _FTS5.join(SearchEntry.__table__, SearchEntry.document_id == _FTS5.c.rowid)
    return (_FTS5.c.rowid, score, source,
            and_(literal_column("search_fts").op("MATCH")(bindparam("fts_match", type_=String)),
                 SearchEntry.agency_id == agency_id))


def _term_values(terms: list[str], agency_id: int) -> dict[str, str]:
    """The bound values of :func:`_scored` and :func:`_scored_outgoing` for ``terms``."""
    return {"ts_all": " & ".join([agency_lexeme(agency_id), *terms]),
            "ts_any": " | ".join(terms),
            "fts_match": " ".join(f'"{t}"' for t in terms)}


def readable_outgoing(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL twin of ``outgoing.access.can_read`` for documents of the actor's agency: leaders
    and clerks read all; the drafter, the signer, whoever had a review step and the reviewer
    whose turn it is read theirs; a confidential one besides the head of the drafting unit; an
    ordinary one also the drafting unit and the departments it is addressed to."""
    if actor.has(Role.CLERK, Role.LEADER):
        return true()
    from ioffice.outgoing.access import STEP_KINDS
    from ioffice.outgoing.counts import review_turn

    doc = OutgoingDocument
    involved = or_(
        doc.created_by_id == actor.user_id, doc.signer_id == actor.user_id,
        and_(doc.status == OutgoingStatus.IN_REVIEW, review_turn(session, actor)),
        exists().where(OutgoingComment.document_id == doc.id,
                       OutgoingComment.author_id == actor.user_id,
                       OutgoingComment.kind.in_(STEP_KINDS)))
    if actor.department_id is None:
        return involved
    same_unit = doc.drafting_department_id == actor.department_id
    addressed = exists().where(OutgoingRecipient.document_id == doc.id,
                               OutgoingRecipient.department_id == actor.department_id)
    normal = doc.confidentiality == Confidentiality.NORMAL
    secret_unit = and_(same_unit, true() if actor.has(Role.DEPARTMENT_HEAD) else false())
    return or_(involved, and_(normal, or_(same_unit, addressed)), and_(~normal, secret_unit))


_OUT_FTS5 = table("search_outgoing_fts", column("rowid"))


def _scored_outgoing(pg: bool, agency_id: int):
    """:func:`_scored` over the outgoing entries, joined to their documents (the read rule and
    the filters are read there)."""
    entry = OutgoingSearchEntry
    if pg:
        simple = literal_column("'simple'::regconfig")
        matching = func.to_tsquery(simple, bindparam("ts_all", type_=String)).self_group()
        ranking = func.to_tsquery(simple, bindparam("ts_any", type_=String)).self_group()
        score = cast(func.ts_rank(literal_column("search_outgoing_entries.meta_tsv"), ranking),
                     Float(53))
        source = entry.__table__.join(OutgoingDocument, OutgoingDocument.id == entry.document_id)
        return (entry.document_id, score, source,
                and_(literal_column("search_outgoing_entries.tsv").op("@@")(matching),
                     entry.agency_id == agency_id))
    score = -func.bm25(literal_column("search_outgoing_fts"), META_WEIGHT, BODY_WEIGHT)
    source = (_OUT_FTS5.join(entry.__table__, entry.document_id == _OUT_FTS5.c.rowid)
              .join(OutgoingDocument, OutgoingDocument.id == entry.document_id))
    return (_OUT_FTS5.c.rowid, score, source,
            and_(literal_column("search_outgoing_fts").op("MATCH")(
                bindparam("fts_match", type_=String)), entry.agency_id == agency_id))


def _after(score, doc_id, rank: int, after: tuple[float, int, int] | None):
    """The keyset condition of one direction's part: rows after the cursor in the order
    (score DESC, kind rank ASC, document id DESC)."""
    if after is None:
        return true()
    last_score, last_id, last_rank = after
    if rank > last_rank:
        return score <= last_score
    if rank < last_rank:
        return score < last_score
    return or_(score < last_score, and_(score == last_score, doc_id < last_id))


def _direction(flt: Filters) -> set[str]:
    if flt.status:
        kind, _, _value = flt.status.partition(":")
        wanted = {DIRECTIONS.get(kind, "")}
    else:
        wanted = {INCOMING, OUTGOING}
    if flt.direction:
        wanted &= {flt.direction}
    return wanted


def _status_value(flt: Filters) -> DocumentStatus | OutgoingStatus | None:
    """``den:<incoming status>`` or ``di:<outgoing status>``; anything else is refused."""
    if not flt.status:
        return None
    kind, _, value = flt.status.partition(":")
    try:
        return (DocumentStatus if kind == "den" else OutgoingStatus if kind == "di"
                else None)(value)  # type: ignore[misc]
    except (TypeError, ValueError):
        raise SearchError("Trạng thái cần lọc không hợp lệ; hãy chọn trong danh sách.") from None


def _search_statement(session: Session, actor: Actor, pg: bool, wanted: set[str],
                      status: DocumentStatus | OutgoingStatus | None, flt: Filters,
                      after: tuple[float, int, int] | None, limit: int,
                      newest_first: bool = False) -> Select | None:
    """The ranked page of (kind, id, score) rows of :func:`search`; the words are bound
    parameters (:func:`_term_values`), everything else is in the statement. ``newest_first``:
    every row scores :data:`NEWEST_FIRST`, so the page is the newest matches."""
    parts = []
    if INCOMING in wanted:
        doc_id, score, source, matches = _scored(pg, actor.agency_id)
        if newest_first:
            score = literal(NEWEST_FIRST, Float(53))
        # match, filter, rank and cut the page on the search entries alone; only the page's
        # documents are then read
        part = (select(literal(_KIND_RANK[INCOMING]).label("kind"), doc_id.label("id"),
                       score.label("score")).select_from(source)
                .where(matches, readable(actor), _after(score, doc_id, 0, after)))
        if flt.doc_type:
            part = part.where(SearchEntry.doc_type == flt.doc_type)
        if flt.date_from:
            part = part.where(SearchEntry.document_date >= flt.date_from)
        if flt.date_to:
            part = part.where(SearchEntry.document_date <= flt.date_to)
        if status:
            part = part.where(exists().where(IncomingDocument.id == SearchEntry.document_id,
                                             IncomingDocument.status == status))
        if flt.department_id:
            part = part.where(exists().where(
                Assignment.document_id == SearchEntry.document_id,
                Assignment.assignee_department_id == flt.department_id))
        parts.append(part.order_by(score.desc(), doc_id.desc()).limit(limit + 1).subquery())
    if OUTGOING in wanted:
        doc_id, score, source, matches = _scored_outgoing(pg, actor.agency_id)
        if newest_first:
            score = literal(NEWEST_FIRST, Float(53))
        part = (select(literal(_KIND_RANK[OUTGOING]).label("kind"), doc_id.label("id"),
                       score.label("score")).select_from(source)
                .where(matches, OutgoingDocument.agency_id == actor.agency_id,
                       readable_outgoing(session, actor), _after(score, doc_id, 1, after)))
        if flt.doc_type:
            part = part.where(OutgoingDocument.doc_type == flt.doc_type)
        if flt.date_from:
            part = part.where(OutgoingDocument.promulgation_date >= flt.date_from)
        if flt.date_to:
            part = part.where(OutgoingDocument.promulgation_date <= flt.date_to)
        if status:
            part = part.where(OutgoingDocument.status == status)
        if flt.department_id:
            part = part.where(OutgoingDocument.drafting_department_id == flt.department_id)
        parts.append(part.order_by(score.desc(), doc_id.desc()).limit(limit + 1).subquery())
    if not parts:
        return None
    both = union_all(*(select(p.c.kind, p.c.id, p.c.score) for p in parts)).subquery()
    return (select(both.c.kind, both.c.id, both.c.score)
            .order_by(both.c.score.desc(), both.c.kind, both.c.id.desc()).limit(limit + 1))


def _results(model: type[IncomingDocument] | type[OutgoingDocument], pg: bool) -> Select:
    """The documents of a results page by id, built once: an array parameter on PostgreSQL
    (an IN list's text changes with its length, a statement parsed and planned anew)."""
    ids = (model.id == any_(bindparam("ids", type_=ARRAY(BigInteger))) if pg
           else model.id.in_(bindparam("ids", expanding=True)))
    stmt = select(model).where(ids, model.agency_id == bindparam("agency_id"))
    if model is OutgoingDocument:  # its unit is shown per result
        stmt = stmt.options(joinedload(OutgoingDocument.drafting_department))
    return stmt


_RESULTS = {(kind, pg): _results(model, pg) for kind, model in
            ((INCOMING, IncomingDocument), (OUTGOING, OutgoingDocument)) for pg in (False, True)}


def search(session: Session, actor: Actor, query: str, *, cursor: str | None = None,
           limit: int = DEFAULT_LIMIT, doc_type: str | None = None,
           date_from: dt.date | None = None, date_to: dt.date | None = None,
           filters: Filters | None = None, rank_budget_ms: int | None = None) -> SearchPage:
    """Documents of the actor's agency the actor may read that contain every word of ``query``
    (diacritics and case ignored), best first, ``limit`` at a time after ``cursor``: incoming
    and outgoing documents together unless ``filters`` (or ``doc_type``, ``date_from``,
    ``date_to``) narrow them. Ranking that takes longer than ``rank_budget_ms`` (default
    :data:`RANK_BUDGET_MS`) is given up for the newest matches first (``newest_first``)."""
    flt = filters or Filters(doc_type=doc_type, date_from=date_from, date_to=date_to)
    terms = check_query(query)
    after = decode_cursor(cursor) if cursor else None
    limit = max(1, min(limit, MAX_LIMIT))
    if not terms:
        return SearchPage([], None, [])
    wanted = _direction(flt)
    status = _status_value(flt)
    pg = session.get_bind().dialect.name == "postgresql"
    newest_first = after is not None and after[0] < 0

    def statement(newest: bool) -> Select | None:
        def build():
            return _search_statement(session, actor, pg, wanted, status, flt, after, limit, newest)

        if after is not None:
            return build()
        # the first page: one statement per actor, rules, filters and order
        from ioffice.outgoing.review import rules as review_rules

        rules = review_rules(session, actor.agency_id) if OUTGOING in wanted else None
        return statements.get(("search", pg, newest, actor.agency_id, actor.user_id,
                               actor.department_id, actor.roles, rules, tuple(sorted(wanted)),
                               status, flt, limit), build)

    stmt = statement(newest_first)
    if stmt is None:
        return SearchPage([], None, terms)
    values = _term_values(terms, actor.agency_id)
    if newest_first:
        rows = _newest(session, pg, stmt, values, _PG_SETUP)
    else:
        rows = _within_budget(session, pg, stmt, values,
                              RANK_BUDGET_MS if rank_budget_ms is None else rank_budget_ms)
        if rows is None:
            newest_first = True
            rows = _newest(session, pg, statement(True), values, _PG_GIVEN_UP)
    incoming_ids = [r.id for r in rows if r.kind == 0]
    outgoing_ids = [r.id for r in rows if r.kind == 1]
    loaded: dict[tuple[int, int], IncomingDocument | OutgoingDocument] = {}
    if incoming_ids:
        loaded.update(((0, d.id), d) for d in session.scalars(
            _RESULTS[INCOMING, pg], {"ids": incoming_ids, "agency_id": actor.agency_id}))
    if outgoing_ids:
        loaded.update(((1, d.id), d) for d in session.scalars(
            _RESULTS[OUTGOING, pg], {"ids": outgoing_ids, "agency_id": actor.agency_id}))
    kinds = {0: INCOMING, 1: OUTGOING}
    found = [SearchResult(loaded[(r.kind, r.id)], float(r.score), kinds[r.kind])
             for r in rows if (r.kind, r.id) in loaded]
    results = found[:limit]
    record_read(session, actor.ctx, "search:query:run",
                details={"q": query, "terms": len(terms), "page": bool(cursor),
                         "found": len(results), "direction": flt.direction or "",
                         "status": flt.status or "", "department": flt.department_id,
                         "newest_first": newest_first})
    next_cursor = None
    if len(rows) > limit and results:
        last = results[-1]
        next_cursor = encode_cursor(last.score, last.document.id, last.kind)
    return SearchPage(results, next_cursor, terms, newest_first)


_PG_SETUP = "SET LOCAL work_mem = '32MB'; SET LOCAL jit = off"
"""Every word, inside the agency's entries: a lossy bitmap would re-read every tsv. No JIT: a
plan over a million entries costs enough for PostgreSQL to compile it first, hundreds of
milliseconds that ``statement_timeout`` cannot interrupt, so the ranking overran its budget."""
_PG_CUSTOM_PLAN = "SET LOCAL plan_cache_mode = force_custom_plan"
"""The ranking planned for its words each time. psycopg prepares a statement run five times on
a connection (and keeps it: ``ioffice.db._commit_reads``), and PostgreSQL then switches to a
generic plan, made without the words (one statement text serves every query): for the ranking
it costs the server three to four times the CPU of a plan made for them, planning included
(docs/benchmarks.md, "web: the server's own CPU")."""
_PG_GIVEN_UP = "ROLLBACK TO SAVEPOINT search_rank; RELEASE SAVEPOINT search_rank"
"""After a cancelled ranking; its SET LOCAL (inside the savepoint) is undone with it."""


def _within_budget(session: Session, pg: bool, stmt: Select, values: dict[str, str],
                   budget_ms: int) -> list[Row] | None:
    """The ranked rows, or None when ranking took longer than ``budget_ms`` (cancelled by the
    database: PostgreSQL's statement_timeout inside a savepoint; SQLite's progress handler).
    The transaction goes on either way. The settings go with the statements around them, in
    one round trip each."""
    conn = session.connection()
    if pg:
        conn.exec_driver_sql(f"{_PG_SETUP}; SAVEPOINT search_rank; {_PG_CUSTOM_PLAN}; "
                             f"SET LOCAL statement_timeout = {max(1, int(budget_ms))}")
        try:
            rows = list(conn.execute(stmt, values).all())
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "57014":  # query_canceled
                raise
            return None  # the caller rolls back to the savepoint (_PG_GIVEN_UP)
        conn.exec_driver_sql("RELEASE SAVEPOINT search_rank; RESET statement_timeout; "
                             "RESET plan_cache_mode")
        return rows
    raw = conn.connection.driver_connection
    deadline = time.perf_counter() + budget_ms / 1000

    def over() -> int:
        return 1 if time.perf_counter() > deadline else 0

    raw.set_progress_handler(over, 1000)
    try:
        return list(conn.execute(stmt, values).all())
    except OperationalError as exc:
        if "interrupted" not in str(exc.orig):
            raise
        return None
    finally:
        raw.set_progress_handler(None, 0)


def _newest(session: Session, pg: bool, stmt: Select | None, values: dict[str, str],
            before: str) -> list[Row]:
    """The newest matching rows: on PostgreSQL walked down the entries' primary key, matches
    tested row by row until the page is full (a query this broad fills it at once), rather than
    a bitmap of every match sorted afterwards. ``before``: what PostgreSQL runs first, in the
    same round trip."""
    assert stmt is not None
    conn = session.connection()
    if not pg:
        return list(conn.execute(stmt, values).all())
    conn.exec_driver_sql(f"{before}; SET LOCAL enable_bitmapscan = off")
    rows = list(conn.execute(stmt, values).all())
    conn.exec_driver_sql("RESET enable_bitmapscan")
    return rows


# --- saved searches -------------------------------------------------------------------------

def save_search(session: Session, actor: Actor, name: str, query: str) -> SavedSearch:
    name, query = " ".join(name.split()), query.strip()
    if not name:
        raise SearchError("Chưa đặt tên cho tìm kiếm cần lưu.")
    if len(name) > 120:
        raise SearchError("Tên tìm kiếm quá dài (tối đa 120 ký tự).")
    if not check_query(query):
        raise SearchError("Chưa có từ khóa để lưu.")
    saved = SavedSearch(user_id=actor.user_id, agency_id=actor.agency_id, name=name, query=query)
    try:
        with session.begin_nested():
            session.add(saved)
    except IntegrityError as exc:
        raise SearchError(f"Bạn đã có một tìm kiếm tên «{name}».") from exc
    record(session, actor.ctx, "search:saved:create", subject_type="saved_search",
           subject_id=saved.id, details={"name": name, "q": query})
    return saved


# read on every search page: built once (docs/performance.md)
_SAVED = (select(SavedSearch)
          .where(SavedSearch.user_id == bindparam("user_id"),
                 SavedSearch.agency_id == bindparam("agency_id"))
          .order_by(SavedSearch.name, SavedSearch.id))


def list_saved(session: Session, actor: Actor) -> list[SavedSearch]:
    return list(session.scalars(_SAVED, {"user_id": actor.user_id,
                                         "agency_id": actor.agency_id}))


def get_saved(session: Session, actor: Actor, saved_id: int) -> SavedSearch:
    """Someone else's saved search looks exactly like a missing one."""
    saved = session.get(SavedSearch, saved_id)
    if saved is None or saved.user_id != actor.user_id or saved.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy tìm kiếm đã lưu.")
    return saved


def run_saved(session: Session, actor: Actor, saved_id: int, *, cursor: str | None = None,
              limit: int = DEFAULT_LIMIT) -> SearchPage:
    return search(session, actor, get_saved(session, actor, saved_id).query, cursor=cursor,
                  limit=limit)


def delete_saved(session: Session, actor: Actor, saved_id: int) -> None:
    saved = get_saved(session, actor, saved_id)
    record(session, actor.ctx, "search:saved:delete", subject_type="saved_search",
           subject_id=saved.id, details={"name": saved.name})
    session.delete(saved)
    session.flush()


__all__ = [
    "DIRECTIONS",
    "INCOMING",
    "OUTGOING",
    "Filters",
    "SearchError",
    "SearchPage",
    "SearchResult",
    "delete_saved",
    "document_meta",
    "get_saved",
    "index_incoming",
    "index_outgoing",
    "list_saved",
    "outgoing_meta",
    "readable",
    "readable_outgoing",
    "run_saved",
    "save_search",
    "search",
]
