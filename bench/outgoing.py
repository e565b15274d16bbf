"""Benchmark of the outgoing pipeline, per document, on SQLite (or $IOFFICE_BENCH_DATABASE_URL),
from the draft to the registration at every recipient.

    python bench/outgoing.py [--quick] [--processes N]

Each document goes: draft (PDF upload) -> submit + three approvals -> personal signature by the
leader with a server-held key (visible stamp) -> number -> agency signature (seal, PAdES B-T
with the in-process TSA) -> dispatch to 3 agencies (the Ministry of Home Affairs on the
national axis, U Minh district and Khánh An commune on the provincial platform) -> delivery:
the exchange worker builds, seals and sends the edXML package, the national axis and the
provincial platform forward it (real ``axis_connector.hub`` apps on their own SQLite files,
reached through Flask test clients, no sockets), the worker polls, verifies the package and
fully validates the PDF at each recipient, status 01 goes back -> registration by each
recipient's clerk (status 03 goes back). One transaction per step, as the web handlers do.

Parallelism: the sender's steps of different documents are independent, so ``--processes``
(default: the CPU count) processes share them; delivery runs as deployed, one exchange worker
(one process: ``make run`` starts exactly one, its SQLite hubs want one writer); the
registrations are shared by the processes again. Per-document step times are measured where
the step runs; "delivery" is the worker's wall time divided by the documents it carried.

Baseline: plain ``signing.sign_pdf`` of the same PDF with the same personal stamp (one
signature, no database). Last line: ``outgoing: <docs/s> docs/s ratio=<docs/s / baseline/s>``.

Delivery latency (issue 17), after that: documents prepared one at a time, each dispatched by
the clerk with the exchange worker and both hubs' workers running in threads (the hubs' push
reaches the app through its test client), timed from the dispatch's commit to its 3 received
copies existing; first with push off (``EXCHANGE_PUSH`` false, hubs forwarding and pushing
only from their workers: the baseline), then on. ``--latency-docs`` per mode (20; 6 with
``--quick``). Line before the last: ``delivery p95: <s> s ratio=<poll-only p95 / push p95>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import demo, migrate
from ioffice.agencies.models import Agency, User
from ioffice.db import make_engine
from ioffice.outgoing import dispatch, drafts, numbering, review, signatures
from ioffice.storage import create_blob_store
from signing import PersonalStamp, Pki, install_speedups, sign_pdf
from signing.demo import make_text_pdf
from tests.support.factories import actor, user_id

PASSPHRASE = "bench"
RECIPIENTS = {"000.00.00.G09": "vanthu.bnv", "000.00.21.H12": "vanthu.uminh",
              "000.01.21.H12": "vanthu.khanhan"}
PDF = make_text_pdf(["\n".join(["ỦY BAN NHÂN DÂN TỈNH CÀ MAU", "", "BÁO CÁO",
                                "Tình hình triển khai Chính phủ điện tử tỉnh Cà Mau", "",
                                "Kính gửi: Bộ Nội vụ"])])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


class Env:
    """What every process opens: the database, the blobs, the PKI, the leader's credential."""

    def __init__(self, tmp: Path, url: str) -> None:
        self.tmp, self.url = tmp, url
        self.engine = make_engine(url)
        self.pki = Pki.open(tmp / "pki", PASSPHRASE)
        self.trust = self.pki.trust_store()
        self.blobs = create_blob_store({"STORAGE": "local", "BLOB_DIR": str(tmp / "blobs")})

    def credential(self):
        with Session(self.engine) as s:
            leader = actor(s, "lanhdao.camau")
            user = s.get(User, leader.user_id)
            agency = s.get(Agency, leader.agency_id)
            return self.pki.issue_personal(user.full_name, user.position_title, agency.code,
                                           agency.name, key_type="rsa"), user.full_name


_env: Env | None = None
_cred = None


def _init(tmp: str, url: str) -> None:
    global _env, _cred
    _env = Env(Path(tmp), url)
    _cred = _env.credential()[0]


def send_one(i: int) -> dict[str, float]:
    """The sender's steps for one document, each in its own transaction."""
    times: dict[str, float] = {}
    doc_id = prepare_one(i, times)
    dispatch_one(doc_id, times)
    return times


def _step(times: dict[str, float], name: str, fn):
    env = _env
    assert env is not None
    t = time.perf_counter()
    with Session(env.engine, expire_on_commit=False) as s:
        result = fn(s)
        s.commit()
    times[name] = time.perf_counter() - t
    return result


def dispatch_one(doc_id: int, times: dict[str, float]) -> float:
    """The clerk's dispatch; the time its transaction committed (perf_counter)."""
    _step(times, "dispatch", lambda s: dispatch.dispatch(s, actor(s, "vanthu.camau"), doc_id))
    return time.perf_counter()


def prepare_one(i: int, times: dict[str, float], subject: str | None = None) -> int:
    """Draft to agency signature: a document the clerk may dispatch."""
    env = _env
    assert env is not None

    def step(name: str, fn):
        return _step(times, name, fn)

    doc = step("draft", lambda s: drafts.create_draft(
        s, env.blobs, actor(s, "chuyenvien.camau"), drafts.DraftInput(
            doc_type="bao_cao", subject=subject or f"Báo cáo số {i}", signer_id=user_id(s, "lanhdao.camau"),
            agency_codes=tuple(RECIPIENTS)), drafts.Upload("bao-cao.pdf", PDF)))
    doc_id = doc.id
    step("review", lambda s: [review.submit(s, actor(s, "chuyenvien.camau"), doc_id),
                              review.approve(s, actor(s, "truongphong.camau"), doc_id),
                              review.approve(s, actor(s, "vanthu.camau"), doc_id),
                              review.approve(s, actor(s, "lanhdao.camau"), doc_id)])
    step("personal signature", lambda s: signatures.sign_with_server_key(
        s, env.blobs, env.trust, actor(s, "lanhdao.camau"), doc_id, _cred))
    step("number", lambda s: numbering.assign_number(s, actor(s, "vanthu.camau"), doc_id))
    step("agency signature", lambda s: signatures.apply_agency_signature(
        s, env.blobs, env.pki, env.trust, actor(s, "vanthu.camau"), doc_id,
        tsa=_InProcessTsa(env.pki)))
    return doc_id


class _InProcessTsa:
    """The seal's timestamp from pyHanko's in-process TSA, as this bench always measured it
    (the app asks an HTTP TSA: bench/signing.py measures what that adds)."""

    fallback_bb = False

    def __init__(self, pki: Pki) -> None:
        self._pki = pki

    def timestamper(self, trust):
        return self._pki.timestamper()


def register_one(incoming_id: int, clerk: str) -> float:
    from ioffice.incoming import registration
    from ioffice.incoming.models import IncomingDocument

    env = _env
    assert env is not None
    t = time.perf_counter()
    with Session(env.engine) as s:
        doc = s.get(IncomingDocument, incoming_id)
        registration.register_received(s, actor(s, clerk), doc.id, registration.IncomingInput(
            issuer_name=doc.issuer_name, issuer_code=doc.issuer_code, number=doc.number,
            notation=doc.notation, document_date=doc.document_date, doc_type=doc.doc_type,
            subject=doc.subject, signer=doc.signer,
            document_identifier=doc.document_identifier or ""))
        s.commit()
    return time.perf_counter() - t


def federation(tmp: Path, url: str):
    """The app's exchange runtime wired to both demo hubs through Flask test clients."""
    from axis_connector.client import AxisClient
    from axis_connector.hub import create_app as create_hub
    from ioffice import create_app
    from ioffice.exchange import exchange, install_listeners
    from ioffice.exchange import federation as fed
    from ioffice.exchange.worker import refresh_directory
    from tests.exchange.conftest import FlaskPool

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "STORAGE": "local",
                      "BLOB_DIR": str(tmp / "blobs"), "PKI_DIR": str(tmp / "pki"),
                      "PKI_PASSPHRASE": PASSPHRASE, "EXCHANGE_BACKOFF_SECONDS": 0})
    install_listeners()
    prov, nat = f"sqlite:///{tmp / 'provincial.db'}", f"sqlite:///{tmp / 'national.db'}"
    secrets = fed.Secrets.generate()
    env = Env(tmp, url)
    with Session(env.engine) as s:
        fed.bootstrap(prov, nat, secrets, fed.agency_cards(s, env.pki))
    prov_cfg, nat_cfg = fed.hub_configs(prov, nat, "http://national", secrets, env.pki)
    national = create_hub({**nat_cfg, "MAX_PACKAGE_MB": 8})
    provincial = create_hub({**prov_cfg, "MAX_PACKAGE_MB": 8})
    provincial.extensions["axis_hub"]._upstream = AxisClient(
        "http://national", "lgsp-camau", secrets.platform, pool=FlaskPool(national.test_client()))
    app.config["EXCHANGE_HUBS"] = fed.exchange_hubs("http://provincial", "http://national", secrets)
    rt = exchange(app)
    pools = {fed.PROVINCIAL: FlaskPool(provincial.test_client()),
             fed.NATIONAL: FlaskPool(national.test_client())}
    for hub in rt.hubs:
        rt.clients[hub.name] = AxisClient(hub.url, hub.system_id, hub.secret, pool=pools[hub.name])
    with app.app_context():
        refresh_directory(rt)
    return app, rt, (provincial, national)


def pump(app, rt, hubs, rounds: int = 200) -> None:
    from axis_connector.hub import worker as hub_worker
    from ioffice.exchange.worker import run_once

    with app.app_context():
        for _ in range(rounds):
            report = run_once(rt, poll_limit=500)
            moved = report.sent + report.received + report.statuses + report.refused + report.dead
            for hub_app in hubs:
                moved += hub_worker.run_once(hub_app.extensions["axis_hub"]).total
            if moved == 0:
                return


CALLBACK = "http://ioffice/lien-thong/thong-bao"


def delivery_latency(app, rt, hubs, env: Env, n: int, *, push: bool) -> list[float]:
    """Seconds from each dispatch's commit to the moment its 3 received copies exist ("chờ vào
    sổ" at every recipient), one document at a time, with the exchange worker and both hubs'
    workers running in threads as ``make run`` runs them. ``push`` off: the worker polls every
    ``EXCHANGE_POLL_INTERVAL`` (2 s) and the hubs forward and push only from their own
    workers (every 0.5 s), as before issue 17; on: dispatches and the hubs' notifications wake
    the worker, the hubs forward and push right after commit, polling every 15 s as fallback."""
    from sqlalchemy import func

    from axis_connector.hub import directory as hub_directory
    from axis_connector.hub import worker as hub_worker
    from axis_connector.hub.models import System
    from ioffice.exchange import worker as exchange_worker
    from ioffice.incoming.models import IncomingDocument
    from tests.exchange.conftest import FlaskPool

    rt.push, rt.callback_url = push, CALLBACK
    threads = []
    for hub_app in hubs:
        hub = hub_app.extensions["axis_hub"]
        hub_app.config.update(PUSH_INLINE=push, FORWARD_INLINE=push)
        hub.push_pool = FlaskPool(app.test_client())
        with hub.db.session() as session:
            for system in session.scalars(select(System).where(System.id.like("ioffice-%"))):
                system.base_url = CALLBACK
            hub_directory.bump(session)
            session.commit()
        threads.append(hub_worker.start_background_worker(hub))
    with app.app_context():
        threads.append(exchange_worker.start_background(rt))
        time.sleep(1.0)  # its first round (callbacks registered or withdrawn, directory)
        latencies = []
        for i in range(n):
            subject = f"Báo cáo độ trễ {'push' if push else 'poll'} {i}"
            doc_id = prepare_one(i, {}, subject)
            time.sleep(0.3)  # the worker idle again, as between two clerks' clicks
            committed = dispatch_one(doc_id, {})
            with Session(env.engine) as s:
                while s.scalar(select(func.count()).select_from(IncomingDocument)
                               .where(IncomingDocument.subject == subject)) < 3:
                    s.rollback()
                    if time.perf_counter() - committed > 60:
                        raise SystemExit(f"{subject}: not at its 3 recipients after 60 s")
                    time.sleep(0.02)
            latencies.append(time.perf_counter() - committed)
    for _thread, stop in threads:
        stop.set()
    for thread, _stop in threads:
        thread.join(10)
    return latencies


def main() -> None:
    install_speedups()  # as the application does (the baseline runs with them too)
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--latency-docs", type=int, default=None,
                        help="documents dispatched one at a time for the delivery latency, per "
                             "mode (20; 6 with --quick)")
    args = parser.parse_args()
    n = 8 if args.quick else 40
    procs = max(1, args.processes)
    tmp = Path(tempfile.mkdtemp(prefix="bench-outgoing-"))
    url = os.environ.get("IOFFICE_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        from tests.conftest import reset_database
        reset_database(url)
    pki = Pki.create(tmp / "pki", PASSPHRASE)
    migrate.upgrade(url)
    with Session(make_engine(url)) as s:
        demo.load(s, password="bench-pass", instance_path=str(tmp), pki=pki)
        s.commit()
    app, rt, hubs = federation(tmp, url)

    env = Env(tmp, url)
    credential, full_name = env.credential()
    stamp_doc = type("D", (), {"stamp_page": -1, "stamp_x1": None, "stamp_y1": None})()
    box = signatures.stamp_box(stamp_doc, PDF)  # type: ignore[arg-type]
    base = []
    for _ in range(max(3, n // 2)):
        t = time.perf_counter()
        sign_pdf(PDF, credential, trust=env.trust, stamp=PersonalStamp(box, "CHỦ TỊCH", full_name))
        base.append(time.perf_counter() - t)

    from ioffice.incoming.models import IncomingDocument

    steps: dict[str, list[float]] = defaultdict(list)
    start = time.perf_counter()
    with ProcessPoolExecutor(procs, initializer=_init, initargs=(str(tmp), url)) as pool:
        for times in pool.map(send_one, range(n)):
            for name, value in times.items():
                steps[name].append(value)
        sent_at = time.perf_counter()
        pump(app, rt, hubs)
        delivered_at = time.perf_counter()
        steps["delivery (3 recipients)"] = [(delivered_at - sent_at) / n] * n
        with Session(env.engine) as s:
            codes = dict(s.execute(select(Agency.id, Agency.code)).all())
            rows = s.execute(select(IncomingDocument.id, IncomingDocument.agency_id)
                             .where(IncomingDocument.subject.like("Báo cáo số %"))).all()
        assert len(rows) == 3 * n, f"{len(rows)} of {3 * n} copies arrived"
        jobs = [(doc_id, RECIPIENTS[codes[agency_id]]) for doc_id, agency_id in rows]
        reg = list(pool.map(register_one, *zip(*jobs, strict=True)))
        steps["registration (3 recipients)"] = [sum(reg[i::n]) for i in range(n)]
    pump(app, rt, hubs)  # statuses 03 back to the sender (not in the figure)
    wall = time.perf_counter() - start

    # delivery latency, push off (the baseline) then on, in this run
    _init(str(tmp), url)
    latency_n = args.latency_docs or (6 if args.quick else 20)
    polled = delivery_latency(app, rt, hubs, env, latency_n, push=False)
    pushed = delivery_latency(app, rt, hubs, env, latency_n, push=True)

    totals = [sum(values[i] for values in steps.values()) for i in range(n)]
    total_step_time = sum(totals)
    print(f"documents: {n}, database: {url.split(':')[0]}, {procs} processes "
          f"(CPUs: {os.cpu_count()}), 3 recipients each, wall {wall:.1f} s")
    print(f"per document (sum of its steps): median {statistics.median(totals) * 1000:.0f} ms, "
          f"p95 {pct(totals, 0.95) * 1000:.0f} ms")
    for name, values in steps.items():
        print(f"  {name:<28} median {statistics.median(values) * 1000:6.1f} ms  "
              f"share {sum(values) / total_step_time * 100:5.1f} %")
    docs_s = n / wall
    base_s = 1 / statistics.median(base)
    print(f"baseline plain sign_pdf (RSA, same stamp, one process): median "
          f"{statistics.median(base) * 1000:.0f} ms ({base_s:.1f}/s)")
    for name, values in (("poll only (push off, baseline)", polled), ("push", pushed)):
        print(f"delivery latency, dispatch commit -> awaiting registration at all 3 recipients, "
              f"{name}: p50 {pct(values, 0.5):.2f} s, p95 {pct(values, 0.95):.2f} s, "
              f"max {max(values):.2f} s ({len(values)} documents)")
    print(f"delivery p95: {pct(pushed, 0.95):.2f} s ratio={pct(polled, 0.95) / pct(pushed, 0.95):.2f} "
          f"(push; ratio = poll-only p95 {pct(polled, 0.95):.2f} s / push p95; target < 2 s)")
    print(f"outgoing: {docs_s:.2f} docs/s ratio={docs_s / base_s:.2f}")
    for hub_app in hubs:
        hub_app.extensions["axis_hub"].db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
