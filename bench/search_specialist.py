"""A specialist's search over a million-document register (issue 17): the first page and the next.

    python bench/search_specialist.py [--quick] [--docs N] [--runs N] [--keep] [--reuse]

A clerk's or leader's search reads every entry of the agency; a specialist's also passes the
read rule for confidential entries (``ioffice.search.service.readable``): an assignment of the
document to them. In a register where one specialist holds half a million assignments, the old
form of that rule (``EXISTS (assignments ...)``) was planned by PostgreSQL as a hashed subplan
over every assignment of the user, built on the first confidential entry met (docs/search.md,
"Too many matches to rank"; docs/benchmarks.md "A specialist's search...").

The data set is written with SQL alone (``INSERT ... SELECT generate_series``), in the scratch
schema ``bench_specialist`` of the PostgreSQL database ``test`` (dropped first; ``--reuse``
keeps a loaded one, ``--keep`` leaves it after the run): the demo agencies and users, then
``--docs`` (default 1,000,000; ``--quick`` 200,000) registered documents in Cà Mau's register,
each indexed, each with one assignment: every second one to the specialist chuyenvien.camau
(so 500,000 at the default size), the others to the department or the leader; 4 % confidential,
half of them assigned to the specialist, half not (which they must never see), spread so that
every page of the newest documents meets some of both.

Then ``ioffice.search.search`` is timed for the specialist, first page and the page after it,
for a query matching every document ("ve viec": ranked within the budget, then newest first), a
topical one (~1/12 of the documents) and a narrow one (ranked), with the code of before (the
``EXISTS`` rule, JIT as the server has it) and of after (``service.readable`` and
``service._PG_SETUP``) interleaved run by run, each with its own statement cache; the clerk's
pages are timed in the same runs, for reference. Before and after must return the same pages,
and no page may hold a confidential document the specialist is not assigned. The last line is
``search-specialist: <p95 ms after> ms ratio=<p95 before / after>`` over every page of the
specialist timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import ColumnElement, Engine, exists, or_, select, text, true
from sqlalchemy.orm import Session

from ioffice import demo, migrate
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Role, User
from ioffice.db import StatementCache, make_engine
from ioffice.incoming.models import Assignment
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import get_or_create_register
from ioffice.search import service
from ioffice.search.models import SearchEntry

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_specialist"
CAMAU = "000.00.00.H12"
YEAR = 2025
TOPICS = ("giai phong mat bang", "chuyen doi so", "phong chong thien tai", "ngan sach nam",
          "cai cach hanh chinh", "an toan thuc pham", "quy hoach su dung dat",
          "tuyen quan nam", "du an dau tu cong", "xay dung nong thon moi",
          "bao ve rung phong ho", "kiem tra giam sat")
QUERIES = ("ve viec", "quy hoach su dung dat", "hiemcokhop")
"""Every document; one twelfth of them (83,333 at a million); one in ten thousand (100 at a
million, one page of 20 with ``--quick``)."""


def with_schema(url: str, schema: str) -> str:
    return f"{url}?options=-csearch_path%3D{schema}"


def old_readable(actor: Actor) -> ColumnElement[bool]:
    """The read rule as it was before this benchmark's change (the "before" of the ratio)."""
    if actor.has(Role.CLERK, Role.LEADER):
        return true()
    return or_(SearchEntry.confidential.is_(False),
               exists().where(Assignment.document_id == SearchEntry.document_id,
                              service.assigned_to(actor)))


OLD_PG_SETUP = "SET LOCAL work_mem = '32MB'"
"""The settings the search ran with before (JIT left to the server's default, on)."""

CODES: dict[str, tuple[Callable[[Actor], ColumnElement[bool]], str, StatementCache]] = {
    "before": (old_readable, OLD_PG_SETUP, StatementCache()),
    "after": (service.readable, service._PG_SETUP, StatementCache()),
}


@contextmanager
def code(name: str) -> Iterator[None]:
    """``search`` with the read rule and the settings of before or after, each with its own
    statement cache."""
    saved = service.readable, service._PG_SETUP, service.statements
    service.readable, service._PG_SETUP, service.statements = CODES[name]
    try:
        yield
    finally:
        service.readable, service._PG_SETUP, service.statements = saved


# --- the data set ---------------------------------------------------------------------------

def _topic_case(g: str) -> str:
    return "CASE " + " ".join(f"WHEN {g} % {len(TOPICS)} = {i} THEN '{t}'"
                              for i, t in enumerate(TOPICS)) + " END"


def load(engine: Engine, n: int) -> float:
    """The demo's agencies and users, then ``n`` documents of Cà Mau with their search entries
    and assignments, in a few statements."""
    t0 = time.perf_counter()
    with Session(engine) as session, tempfile.TemporaryDirectory() as inst:
        demo.load(session, password="bench-pass-not-secret", instance_path=inst)
        session.commit()
        agency = session.scalars(select(Agency.id).where(Agency.code == CAMAU)).one()
        register = get_or_create_register(session, agency, RegisterKind.INCOMING, YEAR).id
        session.commit()
        people = {u: session.scalars(select(User.id).where(User.username == u)).one()
                  for u in ("vanthu.camau", "chuyenvien.camau", "lanhdao.camau")}
        specialist = actor(session, "chuyenvien.camau")
        dept = specialist.department_id
    p = {"a": agency, "r": register, "n": n, "clerk": people["vanthu.camau"],
         "spec": people["chuyenvien.camau"], "leader": people["lanhdao.camau"], "dept": dept}
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_search_entries_tsv")
        base = conn.execute(text("SELECT coalesce(max(id), 0) FROM incoming_documents")).scalar()
        p["base"] = base + 1000
        # g = 1..n; document id base + g, the newest last; 4 % confidential, two of every 25
        # (g % 50 in 20, 21, 45, 46): one assigned to the specialist (g even), one not, so that
        # the newest 20 and the 20 after them each hold one of each
        conn.execute(text(
            "INSERT INTO incoming_documents (id, agency_id, register_id, incoming_number, status, "
            "source, issuer_code, issuer_name, number, notation, number_notation, document_date, "
            "doc_type, subject, signer, page_count, urgency, confidentiality, notes, arrived_at, "
            "registered_at, registered_by_id, reply_number, rejection_reason) "
            "SELECT :base + g, :a, :r, g, CASE WHEN g % 20 = 0 THEN 'in_progress' ELSE 'done' END, "
            "'paper', '', 'Sở Tài chính', (g % 9999 + 1)::text, 'STC-KH', "
            "(g % 9999 + 1)::text || '/STC-KH', date '2025-01-01' + (g::bigint * 364 / :n)::int, "
            "'cong_van', 'Về việc ' || " + _topic_case("g") + " || ' đợt ' || g, 'Nguyễn Văn A', "
            "2, 'normal', CASE WHEN g % 50 IN (20, 21, 45, 46) THEN 'secret' ELSE 'normal' END, '', "
            "timestamptz '2024-12-31 17:00+00' + (g::bigint * 31449600 / :n) * interval '1 second', "
            "timestamptz '2024-12-31 17:00+00' + (g::bigint * 31449600 / :n) * interval '1 second', "
            ":clerk, '', '' FROM generate_series(1, :n) AS g"), p)
        conn.execute(text(
            "INSERT INTO search_entries (document_id, agency_id, meta, body, confidential, "
            "doc_type, document_date, tsv) "
            "SELECT :base + g, :a, m, '', g % 50 IN (20, 21, 45, 46), 'cong_van', "
            "date '2025-01-01' + (g::bigint * 364 / :n)::int, "
            "setweight(to_tsvector('simple', m), 'A') || to_tsvector('simple', 'zzag' || :a) "
            "FROM (SELECT g, 've viec ' || " + _topic_case("g") + " || ' dot ' || g "
            "|| CASE WHEN g % 10000 = 3 THEN ' hiemcokhop' ELSE '' END || ' ' || (g % 9999 + 1) "
            "|| ' stc kh so tai chinh cong van ' || g AS m "
            "FROM generate_series(1, :n) AS g) s"), p)
        conn.execute(text(
            "INSERT INTO assignments (agency_id, document_id, role, assignee_department_id, "
            "assignee_user_id, deadline, instruction, status, assigned_by_id, assigned_at, "
            "progress_note, result, reply_number, return_reason, extension_reason, finished_at, "
            "updated_at) "
            "SELECT :a, :base + g, 'lead', CASE WHEN g % 4 = 1 THEN :dept END, "
            "CASE WHEN g % 2 = 0 THEN :spec WHEN g % 4 = 3 THEN :leader END, "
            "date '2025-01-15' + (g::bigint * 364 / :n)::int, '', "
            "CASE WHEN g % 20 = 0 THEN 'in_progress' ELSE 'done' END, :leader, "
            "timestamptz '2025-01-01 00:00+00' + (g::bigint * 31449600 / :n) * interval '1 second', "
            "'', '', '', '', '', NULL, now() FROM generate_series(1, :n) AS g"), p)
        conn.exec_driver_sql("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
        conn.execute(text("UPDATE registers SET last_number = :n WHERE id = :r"), p)
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('incoming_documents', 'id'), "
                             "(SELECT max(id) FROM incoming_documents))")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - t0


def prepare(n: int, reuse: bool) -> Engine:
    url = with_schema(PG_URL, SCHEMA)
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        loaded = conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = :s AND tablename = 'search_entries'"),
            {"s": SCHEMA}).scalar()
        if not (reuse and loaded):
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{SCHEMA}"')
    admin.dispose()
    engine = make_engine(url)
    if reuse and loaded:
        print(f"  reusing the loaded schema {SCHEMA}", flush=True)
        return engine
    migrate.upgrade(url)
    print(f"  loading {n:,} documents ...", flush=True)
    print(f"  loaded in {load(engine, n):.0f} s", flush=True)
    return engine


def drop(engine: Engine) -> None:
    engine.dispose()
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    admin.dispose()


# --- measuring --------------------------------------------------------------------------------

def actor(session: Session, username: str) -> Actor:
    user = session.scalars(select(User).where(User.username == username)).one()
    return Actor.of(user.memberships[0])


ORDERS = {(False, False): "ranked", (True, True): "newest first",
          (False, True): "ranked, then newest first", (False,): "ranked", (True,): "newest first"}


def two_pages(engine: Engine, who: Actor, query: str
              ) -> tuple[list[float], list[list[int]], tuple[bool, ...]]:
    """The first page and the next, each timed in a session of its own (as two requests), and
    whether each was listed newest first."""
    times, pages, newest = [], [], []
    cursor = None
    for _ in range(2):
        with Session(engine) as session:
            t0 = time.perf_counter()
            page = service.search(session, who, query, cursor=cursor)
            times.append((time.perf_counter() - t0) * 1000)
            pages.append([r.document.id for r in page.results])
            session.rollback()
        newest.append(page.newest_first)
        cursor = page.next_cursor
        if cursor is None:
            break
    return times, pages, tuple(newest)


def hidden(engine: Engine, who: Actor) -> set[int]:
    """Confidential documents of the agency the specialist is not assigned."""
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT document_id FROM search_entries e WHERE confidential AND agency_id = :a "
            "AND NOT EXISTS (SELECT 1 FROM assignments s WHERE s.document_id = e.document_id "
            "AND s.assignee_user_id = :u)"), {"a": who.agency_id, "u": who.user_id}).scalars())


def stats(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def measure(engine: Engine, runs: int) -> tuple[float, float]:
    """The specialist's two pages of each query with the code of before and after, their order
    swapped run by run, and the clerk's (after) in the same runs as a reference for the load."""
    with Session(engine) as session:
        who = actor(session, "chuyenvien.camau")
        clerk = actor(session, "vanthu.camau")
        assigned = session.execute(text(
            "SELECT count(*) FROM assignments WHERE assignee_user_id = :u"),
            {"u": who.user_id}).scalar()
        docs = session.execute(text("SELECT count(*) FROM search_entries WHERE agency_id = :a"),
                               {"a": who.agency_id}).scalar()
    secret = hidden(engine, who)
    print(f"  Cà Mau: {docs:,} documents; chuyenvien.camau: {assigned:,} assignments; "
          f"{len(secret):,} confidential documents not theirs", flush=True)
    cases = ("before", "after", "clerk")
    every: dict[str, list[float]] = {c: [] for c in cases}
    for query in QUERIES:
        times: dict[str, dict[str, list[float]]] = {c: {"first": [], "next": []} for c in cases}
        # pages by (case, newest first or not for each): whether ranking finished within its
        # budget may vary from run to run near the threshold, and the order with it
        seen: dict[tuple[str, tuple[bool, ...]], list[list[int]]] = {}
        for run in range(runs):
            order = ["before", "after"] if run % 2 == 0 else ["after", "before"]
            for case in [*order, "clerk"]:
                with code("after" if case == "clerk" else case):
                    (first, *rest), pages, newest = two_pages(
                        engine, clerk if case == "clerk" else who, query)
                times[case]["first"].append(first)
                times[case]["next"].extend(rest)
                if case == "clerk":
                    continue
                leaked = secret.intersection(i for page in pages for i in page)
                assert not leaked, f"{case}: confidential documents leaked: {sorted(leaked)}"
                assert seen.setdefault((case, newest), pages) == pages, \
                    f"{case}: {query!r} paged differently"
        modes = sorted({mode for _, mode in seen})
        for mode in modes:
            if ("before", mode) in seen and ("after", mode) in seen:
                assert seen["before", mode] == seen["after", mode], \
                    f"{query!r}: before and after differ"
        found = seen.get(("after", modes[-1])) or seen["before", modes[-1]]
        print(f"  {query!r}: {' or '.join(ORDERS[m] for m in modes)}, "
              f"{sum(map(len, found))} results on {len(found)} page(s), the same before and "
              f"after", flush=True)
        for case in cases:
            line = []
            for which in ("first", "next"):
                if not times[case][which]:  # one page only
                    continue
                m, p = stats(times[case][which])
                line.append(f"{which} page median {m:6.1f} ms, p95 {p:6.1f} ms")
                every[case] += times[case][which]
            label = "clerk (after)" if case == "clerk" else f"specialist {case}"
            print(f"    {label:18} {' | '.join(line)}", flush=True)
    for case in cases:
        m, p = stats(every[case])
        label = "clerk (after)" if case == "clerk" else f"specialist {case}"
        print(f"  every page, {label}: median {m:.1f} ms, p95 {p:.1f} ms "
              f"({len(every[case])} pages)", flush=True)
    return stats(every["after"])[1], stats(every["before"])[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs", type=int)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--reuse", action="store_true", help="keep a schema loaded by a former run")
    ap.add_argument("--keep", action="store_true", help="leave the schema after the run")
    args = ap.parse_args()
    n = args.docs or (200_000 if args.quick else 1_000_000)
    runs = args.runs or (5 if args.quick else 10)
    engine = prepare(n, args.reuse)
    try:
        print(f"  load average before timing: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
              flush=True)
        after, before = measure(engine, runs)
        print(f"  load average after timing: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
              flush=True)
    finally:
        if not args.keep:
            drop(engine)
    print(f"search-specialist: {after:.1f} ms ratio={before / after:.1f}")


if __name__ == "__main__":
    main()
