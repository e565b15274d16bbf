"""End-to-end exchange benchmark: documents per second from dispatch at the sender to an
incoming document awaiting registration at the recipient.

    python bench/exchange.py [--quick] [--docs N] [--sqlite] [--profile DIR]

Every party runs on this machine as in production, in separate processes (the harness of
``tests/exchange/test_crash_safety.py``): the sender deployment (BNV) with its database, blob
store and ``flask --app wsgi exchange worker`` processes; the axis hub (gunicorn,
``--hub-workers`` processes of 4 threads, default 1); the recipient deployment (Cà Mau) with
its own database, blob store and workers (``--workers``, default 2 per deployment on
PostgreSQL, 1 on SQLite). PostgreSQL
(``$IOFFICE_BENCH_DATABASE_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
three schemas ``bench_<pid>_*``) and S3 (a SeaweedFS server started here) when available,
else SQLite and local folders; the first line says which.

Each document carries its own signed 200 KB PDF (``signing.sign_pdf`` with the BNV seal,
signed before the clock starts: signing belongs to the outgoing pipeline, bench/outgoing.py).
The bench process dispatches all of them (one committed transaction each, ``exchange.dispatch``)
and waits until the recipient holds each one awaiting registration. Latency: dispatch commit ->
``arrived_at``. Status 01 flows back to the sender meanwhile, as it does in production.

Throughput is that of running workers: first ``--warmup`` documents (default 20) go through,
untimed, until they and their status 01 arrived, so that what a worker pays once (decrypting
its seal key, SQLAlchemy's mapper configuration and statement caches, the first validated
certification path) stays out of the figures, as it does in a worker that runs for days.
``--warmup 0`` measures from a cold start, as before this option.

Bound: the unavoidable work per document measured alone in this process, in the same run:
sign the package (XML-DSig), verify it twice (axis, recipient), store the PDF (recipient's
blob store) and fetch it (sender's blob store, to build the package). ``bound = cores /
cost``; ``ratio = rate / bound``. The PDF signature validation the recipient must also do is
printed beside it. Last line: ``exchange: <rate> docs/s ratio=<rate / bound>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text

from axis_connector.edxml import sign_package, verify_package
from ioffice.exchange import dispatch
from ioffice.exchange import federation as fed
from ioffice.exchange.dispatch import _json_payload
from ioffice.exchange.models import ExchangeStatus
from ioffice.exchange.packages import build_document
from ioffice.exchange.runtime import Exchange
from ioffice.incoming.models import IncomingDocument, Source
from ioffice.incoming.registration import today_vn
from ioffice.keys.service import seal_credential
from ioffice.storage import create_blob_store
from signing import Pki, install_speedups, sign_pdf, validate_pdf
from signing.demo import make_text_pdf
from tests.conftest import PKI_PASSPHRASE, reset_schema, with_schema
from tests.exchange import test_crash_safety as harness

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PDF_PADDING = 200 * 1024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def postgres_url(sqlite_only: bool) -> str | None:
    if sqlite_only:
        return None
    url = os.environ.get("IOFFICE_BENCH_DATABASE_URL", PG_DEFAULT)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return url
    except Exception as exc:
        print(f"PostgreSQL unavailable ({type(exc).__name__}); using SQLite")
        return None


def start_s3(workdir: Path, sqlite_only: bool):
    if sqlite_only:
        return None
    from tests.support.seaweed import SeaweedServer, SeaweedStartError, find_weed

    if find_weed() is None:
        print("SeaweedFS (weed) not found; using local blob folders")
        return None
    try:
        server = SeaweedServer(workdir / "seaweed")
        server.__enter__()
        return server
    except SeaweedStartError as exc:
        print(f"SeaweedFS did not start ({exc}); using local blob folders")
        return None


def storage(s3, bucket: str, folder: Path) -> dict[str, str]:
    if s3 is None:
        return {"STORAGE": "local", "BLOB_DIR": str(folder)}
    return {"STORAGE": "s3", "S3_ENDPOINT": s3.endpoint, "S3_ACCESS_KEY": s3.access_key or "",
            "S3_SECRET_KEY": s3.secret_key or "", "S3_BUCKET": bucket}


class Party(harness.Party):
    def __init__(self, name: str, url: str, blob_config: dict[str, str]) -> None:
        self.blob_config = blob_config
        super().__init__(name, url, Path(blob_config.get("BLOB_DIR", "/nonexistent")))
        self.blobs = create_blob_store(blob_config)


def worker(name: str, party: Party, hub_url: str, system_id: str, patterns: list[str],
           pki_dir: Path, log: Path) -> harness.Proc:
    proc = harness.worker_proc(name, party, hub_url, system_id, patterns, pki_dir, log)
    proc.env.update({f"IOFFICE_{k}": v for k, v in party.blob_config.items()})
    return proc


def _peak_rss_kb(pid: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def cpu_ticks(groups: dict[int, str]) -> dict[int, tuple[str, int, int, int]]:
    """CPU ticks (user, system) and peak resident memory (kB) of every process of interest, by
    pid: the parties' process groups (``groups``: pgid -> name), PostgreSQL's backends,
    SeaweedFS and this process."""
    ticks: dict[int, tuple[str, int, int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        pid, pgid = int(entry), int(stat[2])
        if pgid in groups:
            name = groups[pgid]
        elif cmdline.startswith(b"postgres"):
            name = "PostgreSQL"
        elif b"weed" in cmdline.split(b"\0", 1)[0]:
            name = "SeaweedFS"
        elif pid == os.getpid():
            name = "bench (dispatch, polling)"
        else:
            continue
        ticks[pid] = (name, int(stat[11]), int(stat[12]), _peak_rss_kb(entry))
    return ticks


def cpu_report(before: dict[int, tuple[str, int, int, int]],
               after: dict[int, tuple[str, int, int, int]], n: int, wall: float) -> None:
    hz = os.sysconf("SC_CLK_TCK")
    user: dict[str, float] = {}
    system: dict[str, float] = {}
    peak: dict[str, int] = {}  # the largest process of the party, kB
    for pid, (name, utime, stime, rss) in after.items():
        _, utime0, stime0, _ = before.get(pid, (name, 0, 0, 0))
        user[name] = user.get(name, 0.0) + (utime - utime0) / hz
        system[name] = system.get(name, 0.0) + (stime - stime0) / hz
        peak[name] = max(peak.get(name, 0), rss)
    total = sum(user.values()) + sum(system.values())
    print(f"CPU during the run ({total:.1f} s of {wall * (os.cpu_count() or 1):.1f} s available), "
          "per document (of it in the kernel), and the peak memory of its largest process:")
    for name in sorted(user, key=lambda k: -(user[k] + system[k])):
        print(f"  {name:45s} {(user[name] + system[name]) * 1000 / n:7.1f} ms"
              f"  ({system[name] * 1000 / n:5.1f} ms)  {peak[name] / 1024:6.0f} MB")
    print(f"  {'total':45s} {total * 1000 / n:7.1f} ms  ({sum(system.values()) * 1000 / n:5.1f} ms)")


def primitives(sender: Party, recipient: Party, pki: Pki, pdfs: list[bytes], rounds: int
               ) -> dict[str, float]:
    """Seconds per document of each unavoidable operation, measured alone."""
    rt = Exchange(hubs=(), session_factory=sender.session, blobs_factory=lambda: sender.blobs,
                  pki_factory=lambda: pki)
    bnv = sender.agency_id(harness.BNV)
    with sender.session() as session:
        from ioffice.agencies.models import Agency

        agency = session.get(Agency, bnv)
        credential = seal_credential(session, pki, bnv)
        key = credential.private_key
        from cryptography import x509

        chain = [x509.load_der_x509_certificate(c.dump()) for c in (credential.certificate,
                                                                    *credential.chain)]
        shas = [sender.blobs.put_bytes(p).sha256 for p in pdfs[:rounds]]
        payloads = []
        for i, sha in enumerate(shas):
            edoc = harness.outgoing_edoc(bnv, 900000 + i, sha, today_vn())
            payload = _json_payload(edoc)
            payload["recipient_names"] = {harness.CA_MAU: "UBND tỉnh Cà Mau"}
            payload["recipients"] = [harness.CA_MAU]
            payloads.append(payload)
        unsigned = [build_document(agency, p, sender.blobs) for p in payloads]
        session.rollback()
    cas = rt.trusted_cas
    costs: dict[str, float] = {}
    t = time.perf_counter()
    for sha in shas:
        sender.blobs.read_bytes(sha)
    costs["fetch PDF (sender blobs)"] = (time.perf_counter() - t) / rounds
    t = time.perf_counter()
    signed = [sign_package(u, key, chain) for u in unsigned]
    costs["sign XML"] = (time.perf_counter() - t) / rounds
    t = time.perf_counter()
    for s in signed:
        verify_package(s, trusted_ca_certs=cas)
    costs["verify XML x2 (axis, recipient)"] = 2 * (time.perf_counter() - t) / rounds
    t = time.perf_counter()
    for p in pdfs[:rounds]:
        recipient.blobs.put_bytes(p[:-1] + bytes([p[-1] ^ 1]))  # new bytes: a real store
    costs["store PDF (recipient blobs)"] = (time.perf_counter() - t) / rounds
    trust = rt.trust
    t = time.perf_counter()
    for p in pdfs[:rounds]:
        validate_pdf(p, trust)
    costs["(validate PDF signature, not in the bound)"] = (time.perf_counter() - t) / rounds
    return costs


def burst(sender: Party, recipient: Party, procs: list[harness.Proc], bnv: int, day,
          shas: list[str], first: int, timeout: float, *, statuses: bool = False
          ) -> tuple[dict[str, float], dict[str, float], float]:
    """Dispatch one document per PDF (numbers from ``first``), each in its own transaction, and
    wait until the recipient holds every one awaiting registration (and, with ``statuses``,
    until the sender holds their status 01). Returns dispatch times, arrival times (by
    DocumentId) and when the last dispatch committed."""
    with recipient.session() as session:
        floor = session.scalar(select(func.coalesce(func.max(IncomingDocument.id), 0)))
    sent_at: dict[str, float] = {}
    for i, sha in enumerate(shas, start=first):
        edoc = harness.outgoing_edoc(bnv, i, sha, day)
        edoc = type(edoc)(**{**edoc.__dict__, "recipients": (harness.CA_MAU,)})
        with sender.session() as session:
            dispatch(session, harness.CTX, edoc)
            session.commit()
        sent_at[edoc.document_identifier] = time.time()
    t_dispatched = time.time()
    arrived: dict[str, float] = {}
    seen_ids: set[int] = set()
    deadline = time.monotonic() + timeout
    acknowledged = not statuses
    while (len(arrived) < len(shas) or not acknowledged) and time.monotonic() < deadline:
        time.sleep(0.25)
        # Not "id > the largest id seen": two workers commit out of id order, so a row with
        # a smaller id can become visible after a larger one. ``floor`` is the end of the
        # unbroken run of ids seen; a gap (a row still being committed) is asked for again.
        with recipient.session() as session:
            rows = session.execute(select(IncomingDocument.id, IncomingDocument.source,
                                          IncomingDocument.document_identifier,
                                          IncomingDocument.arrived_at).where(
                IncomingDocument.id > floor)).all()
        for row in rows:
            seen_ids.add(row.id)
            if row.source == Source.AXIS and row.document_identifier in sent_at:
                arrived[row.document_identifier] = row.arrived_at.timestamp()
        while floor + 1 in seen_ids:
            floor += 1
        if not acknowledged and len(arrived) == len(shas):
            with sender.session() as session:
                acknowledged = session.scalar(select(func.count()).where(
                    ExchangeStatus.code == "01",
                    ExchangeStatus.document_identifier.in_(list(sent_at)))) == len(shas)
        for proc in procs:
            if proc.exited() is not None:
                raise SystemExit(f"{proc.name} exited:\n{proc.tail()}")
    if len(arrived) < len(shas) or not acknowledged:
        raise SystemExit(f"only {len(arrived)}/{len(shas)} arrived within {timeout:.0f} s"
                         f"{'' if acknowledged else ' (status 01 missing)'}\n"
                         + "\n".join(p.tail() for p in procs))
    return sent_at, arrived, t_dispatched


def main() -> None:
    install_speedups()  # as the application's worker does
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="60 documents")
    parser.add_argument("--docs", type=int, default=None)
    parser.add_argument("--sqlite", action="store_true", help="SQLite and local folders")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record py-spy flame graphs of every process into this folder")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--warmup", type=int, default=20,
                        help="documents sent first, not timed, until they and their status 01 "
                             "arrived: the workers' one-time costs (key decryption, SQL "
                             "compilation caches, the first certification path) stay out of "
                             "the figures; 0 measures from a cold start")
    parser.add_argument("--requests", action="store_true",
                        help="log the hub's requests and print how many of each operation per document")
    parser.add_argument("--hub-workers", type=int, default=1,
                        help="gunicorn processes of the hub (4 threads each; default 1: on 2 "
                             "cores shared by every party, a second process measured slower)")
    parser.add_argument("--workers", type=int, default=None,
                        help="exchange worker processes per deployment (default: 2 on "
                             "PostgreSQL, which shares the work safely; 1 on SQLite)")
    args = parser.parse_args()
    n = args.docs or (60 if args.quick else 300)
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
    s3 = None
    pg = postgres_url(args.sqlite)
    schemas: list[str] = []
    procs: list[harness.Proc] = []
    spies: list[subprocess.Popen[bytes]] = []
    try:
        s3 = start_s3(work, args.sqlite)
        if pg:
            schemas = [f"bench_{os.getpid()}_{x}" for x in ("sender", "recipient", "hub")]
            for schema in schemas:
                reset_schema(pg, schema)
            # application_name: PostgreSQL's logs and pg_stat_activity tell the parties apart
            urls = [with_schema(pg, s) + f"&application_name=bench_{party}"
                    for s, party in zip(schemas, ("sender", "recipient", "hub"), strict=True)]
        else:
            urls = [f"sqlite:///{work / f'{x}.db'}" for x in ("sender", "recipient", "hub")]
        print(f"exchange bench: {n} documents, 200 KB signed PDF each, "
              f"{'PostgreSQL' if pg else 'SQLite'} + {'S3 (SeaweedFS)' if s3 else 'local folders'}, "
              f"{cores} cores, sender/axis/recipient in separate processes")

        pki_dir = work / "pki"
        Pki.create(pki_dir, PKI_PASSPHRASE)
        pki = Pki.open(pki_dir, PKI_PASSPHRASE)
        sender = Party("sender", urls[0], storage(s3, "bench-sender", work / "sender-blobs"))
        recipient = Party("recipient", urls[1], storage(s3, "bench-recipient", work / "recipient-blobs"))
        harness.load_party(sender, pki, work / "sender-instance")
        harness.load_party(recipient, pki, work / "recipient-instance")
        harness.setup_hub(urls[2], pki, sender, recipient)
        (work / "ca.pem").write_text(fed.ca_pem(pki))

        bnv = sender.agency_id(harness.BNV)
        with sender.session() as session:
            credential = seal_credential(session, pki, bnv)
        trust = pki.trust_store()
        t = time.perf_counter()
        pdfs = [sign_pdf(make_text_pdf([f"Công văn số {i + 1}/BNV-VP – đo hiệu năng liên thông"],
                                       padding_bytes=PDF_PADDING), credential, trust=trust)
                for i in range(n + args.warmup)]
        print(f"signed {len(pdfs)} PDFs of {statistics.mean(map(len, pdfs)) / 1024:.0f} KB in "
              f"{time.perf_counter() - t:.1f} s (not timed)")
        shas = [sender.blobs.put_bytes(p).sha256 for p in pdfs]

        costs = primitives(sender, recipient, pki, pdfs, min(n, 30))

        port = harness.free_port()
        hub_url = f"http://127.0.0.1:{port}"
        hub = harness.hub_proc(urls[2], port, work / "ca.pem", work / "hub.log",
                               workers=args.hub_workers)
        access_log = work / "hub-access.log"
        if args.requests:
            hub.argv[1:1] = ["--access-logfile", str(access_log), "--access-logformat", "%(U)s"]
        per_party = args.workers or (2 if pg else 1)
        procs = [hub]
        for k in range(per_party):
            procs += [worker(f"sender worker {k + 1}", sender, hub_url, harness.SENDER_SYSTEM,
                             ["*.G*"], pki_dir, work / f"sender-worker-{k + 1}.log"),
                      worker(f"recipient worker {k + 1}", recipient, hub_url,
                             harness.RECIPIENT_SYSTEM, ["*.H12"], pki_dir,
                             work / f"recipient-worker-{k + 1}.log")]
        print(f"{per_party} exchange worker process(es) per deployment, hub: gunicorn "
              f"{args.hub_workers} process(es) x 4 threads")
        hub.start()
        harness.wait_http(hub_url + "/", hub)
        for proc in procs[1:]:
            proc.start()
        time.sleep(3)  # the workers import, load the PKI and fetch the directory
        day = today_vn()
        groups = {proc.popen.pid: proc.name for proc in procs if proc.popen is not None}
        if s3 is not None:
            groups[os.getpgid(s3.process.pid)] = "SeaweedFS"
        if args.warmup:
            t = time.time()
            burst(sender, recipient, procs, bnv, day, shas[n:], n, args.timeout, statuses=True)
            print(f"warm-up (not timed): {args.warmup} documents and their status 01 in "
                  f"{time.time() - t:.1f} s")
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            spy = os.environ.get("PYSPY", shutil.which("py-spy") or "py-spy")
            for proc in procs:
                out = args.profile / f"{proc.name.replace(' ', '-')}.txt"
                rate = os.environ.get("PYSPY_RATE", "50")  # samples per second
                spies.append(subprocess.Popen([spy, "record", "--subprocesses", "--nonblocking", "--gil",
                                               "-r", rate, "-f", "raw", "-o", str(out), "--pid",
                                               str(proc.popen.pid)],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        cpu_before = cpu_ticks(groups)
        t_start = time.time()
        sent_at, arrived, t_dispatched = burst(sender, recipient, procs, bnv, day, shas[:n], 0,
                                               args.timeout)
        cpu_after, t_cpu_end = cpu_ticks(groups), time.time()
        t_end = max(arrived.values())
        rate = n / (t_end - t_start)
        latencies = [arrived[d] - sent_at[d] for d in sent_at]
        cost = sum(v for k, v in costs.items() if not k.startswith("("))
        bound = cores / cost
        print(f"dispatch of {n}: {t_dispatched - t_start:.2f} s")
        print("unavoidable work per document (measured alone, one core):")
        for name, value in costs.items():
            print(f"  {name:45s} {value * 1000:7.2f} ms")
        print(f"  {'total (bound = cores / total)':45s} {cost * 1000:7.2f} ms -> bound "
              f"{bound:.0f} docs/s on {cores} cores")
        cpu_report(cpu_before, cpu_after, n, t_cpu_end - t_start)
        if args.requests and access_log.exists():
            paths = [line.strip() for line in access_log.read_text().splitlines() if line.strip()]
            counts: dict[str, int] = {}
            for path in paths:
                counts[path] = counts.get(path, 0) + 1
            print(f"hub requests per document (whole run, {len(paths)} requests):")
            for path, count in sorted(counts.items(), key=lambda kv: -kv[1]):
                print(f"  {path:45s} {count / (n + args.warmup):7.2f}")
        print(f"end to end: {n} documents in {t_end - t_start:.2f} s: {rate:.1f} docs/s; latency "
              f"median {statistics.median(latencies):.2f} s, p95 {pct(latencies, 0.95):.2f} s, "
              f"max {max(latencies):.2f} s")
        print(f"exchange: {rate:.1f} docs/s ratio={rate / bound:.2f}")
    finally:
        for spy in spies:
            with contextlib.suppress(Exception):
                spy.send_signal(2)
                spy.wait(timeout=20)
        for proc in procs:
            proc.stop()
        if s3 is not None:
            s3.__exit__(None, None, None)
        if pg:
            for schema in schemas:
                reset_schema(pg, schema, drop_only=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
