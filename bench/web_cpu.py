"""The application's CPU and statements per page, in-process, on a seeded instance kept between runs.

    python bench/web_cpu.py setup DIR [--pg] [--docs N] [--users N]
    python bench/web_cpu.py measure DIR [--requests N] [--rounds R]
    python bench/web_cpu.py compare DIR OTHER_TREE [--runs K] [--requests N]
    python bench/web_cpu.py load DIR [--users N] [--seconds S] [--workers W --threads T]
                                     [--py-spy PREFIX]

``setup``: an instance in DIR set up as bench/web.py does it (``flask db upgrade``, ``pki
init``, ``demo load``, ``exchange setup-demo``; ``--pg``: a database of its own on
127.0.0.1:5432, kept until ``drop``), seeded by bench/web.py's ``seed`` (800 documents and 50
users by default, as ``--quick``); the seeded ids kept in DIR/seeded.json.

``measure``: Flask's test client, one request at a time, the page kinds of bench/web.py's mix
(a user of each role logged in once): per page kind the statements sent per request (BEGIN
and COMMIT/ROLLBACK counted, as PostgreSQL sees them) and the median over ``--rounds`` of the
process CPU (``time.process_time``) per request over ``--requests`` requests, after a full
garbage collection per page kind (the start's garbage is not counted against one page kind;
a long-running server seldom makes a full collection); on PostgreSQL also the CPU of the
database's backends per request (/proc, over all the rounds: ticks of 10 ms, so ~0.1 ms per
request at the defaults). Prints one JSON line at the end (``compare`` reads it).

``compare``: runs ``measure`` alternately with this tree's code and OTHER_TREE's (a checkout of
the code to compare with, e.g. ``git worktree add /tmp/base main``), ``--runs`` times each, in
fresh processes, and prints per page kind the medians of both and their ratio. The machine is
shared: interleaving puts both under the same load.

``load``: bench/web.py's 50 users, mix and writes against the kept instance, served by this
tree's code as ``make run`` serves it (gunicorn, ``--workers`` x ``--threads``, 2 x 4 by
default); prints bench/web.py's report (requests/s, latencies, the CPU of the gunicorn processes
and of PostgreSQL's backends per request). ``--py-spy PREFIX``: py-spy (a tool, not a
dependency: ``pip install py-spy``) records each gunicorn worker while the users are driven
(after their logins), sampling the thread holding the GIL (``--gil --nonblocking``), into
PREFIX.<pid>.raw, and each thread's CPU time from /proc into PREFIX.threads.json;
``bench/pyspy_areas.py PREFIX`` sums them by thread and area.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds modules named like the project's packages (signing.py): not on the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-web-not-secret"
QUERIES = ("giai phong mat bang", "chuyen doi so", "cai cach hanh chinh", "phong chong lut bao",
           "boi thuong tai dinh cu", "sat lo bo bien", "tiep cong dan", "thi dua khen thuong")


def _env(d: Path) -> dict[str, str]:
    conf = json.loads((d / "conf.json").read_text())
    env = {"IOFFICE_INSTANCE_PATH": str(d / "instance"), "IOFFICE_PLAIN_HTTP": "1",
           "IOFFICE_LOG_FORMAT": "text", "IOFFICE_LOG_LEVEL": "WARNING",
           "IOFFICE_DEMO_PASSWORD": PASSWORD, "IOFFICE_EXCHANGE_DEMO_URL": "http://127.0.0.1:9"}
    if conf.get("db_url"):
        env["IOFFICE_DATABASE_URL"] = conf["db_url"]
    return env


def setup(args: argparse.Namespace) -> None:
    import psycopg

    d = Path(args.dir).resolve()
    d.mkdir(parents=True, exist_ok=True)
    conf: dict = {}
    if args.pg:
        dbname = f"ioffice_web_cpu_{d.name}".replace("-", "_")
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {dbname}")
        conf = {"db_url": f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}",
                "dbname": dbname}
    (d / "conf.json").write_text(json.dumps(conf))
    env = {**os.environ, "PYTHONPATH": str(ROOT), **_env(d)}
    for step in (("db", "upgrade"), ("pki", "init"), ("demo", "load", "--password", PASSWORD),
                 ("exchange", "setup-demo")):
        subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", *step],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ.update(_env(d))
    sys.path.insert(0, str(ROOT))
    from bench.web import seed
    from ioffice import create_app

    seeded = seed(create_app(), args.docs, args.users, random.Random(17))
    (d / "seeded.json").write_text(json.dumps({
        "users": [{"username": u.username, "role": u.role, "user_id": u.user_id,
                   "department_id": u.department_id, "own_docs": u.own_docs,
                   "own_outgoing": u.own_outgoing} for u in seeded.users],
        "doc_ids": seeded.doc_ids, "outgoing_ids": seeded.outgoing_ids}))
    print(f"set up in {d}: {len(seeded.doc_ids)} documents, {len(seeded.users)} users")


def drop(args: argparse.Namespace) -> None:
    import psycopg

    conf = json.loads((Path(args.dir) / "conf.json").read_text())
    if conf.get("dbname"):
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {conf['dbname']} WITH (FORCE)")


def pages(seeded: dict, rng: random.Random) -> list[tuple[str, str, object]]:
    docs, outs = seeded["doc_ids"], seeded["outgoing_ids"]
    return [
        ("frame only (doi-mat-khau)", "specialist", lambda u: "/doi-mat-khau"),
        ("queue (specialist, can-xu-ly)", "specialist", lambda u: "/van-ban-den/?tab=can-xu-ly"),
        ("queue (specialist, qua-han)", "specialist", lambda u: "/van-ban-den/?tab=qua-han"),
        ("queue (clerk, cho-vao-so)", "clerk", lambda u: "/van-ban-den/?tab=cho-vao-so"),
        ("queue (leader, cho-phan-phoi)", "leader", lambda u: "/van-ban-den/?tab=cho-phan-phoi"),
        ("outgoing list", "specialist", lambda u: "/van-ban-di/"),
        ("outgoing list (leader)", "leader", lambda u: "/van-ban-di/"),
        ("incoming document", "specialist", lambda u: f"/van-ban-den/{rng.choice(u['own_docs'] or docs)}"),
        ("incoming document (leader)", "leader", lambda u: f"/van-ban-den/{rng.choice(docs)}"),
        ("outgoing document", "specialist",
         lambda u: f"/van-ban-di/{rng.choice(u['own_outgoing'] or outs)}"),
        ("outgoing document (leader)", "leader", lambda u: f"/van-ban-di/{rng.choice(outs)}"),
        ("search", "specialist", lambda u: f"/tim-kiem?q={rng.choice(QUERIES).replace(' ', '+')}"),
    ]


def measure(args: argparse.Namespace) -> None:
    d = Path(args.dir).resolve()
    os.environ.update(_env(d))
    seeded = json.loads((d / "seeded.json").read_text())
    from sqlalchemy import event

    from ioffice import create_app
    from ioffice.db_session import database

    sys.path.append(str(ROOT))  # after the code measured (PYTHONPATH)
    from bench.web import delta, postgres_cpu

    dbname = json.loads((d / "conf.json").read_text()).get("dbname")
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        engine = database(app).engine
    sent: list[str] = [0]  # type: ignore[list-item]

    def count(*_a) -> None:
        sent[0] += 1  # type: ignore[operator]

    # as the server sees them: BEGIN, COMMIT and ROLLBACK are statements of psycopg too
    event.listen(engine, "before_cursor_execute", count)
    is_pg = engine.dialect.name == "postgresql"
    if is_pg:
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, count)
    by_role: dict[str, dict] = {}
    for u in reversed(seeded["users"]):
        by_role[u["role"]] = u
    clients = {}
    out = {}
    rng = random.Random(5)
    print(f"code: {sys.modules['ioffice'].__file__}; {engine.dialect.name}; "
          f"{args.requests} requests x {args.rounds} rounds per page kind")
    for label, role, path in pages(seeded, rng):
        user = by_role[role]
        if role not in clients:
            clients[role] = app.test_client()
            r = clients[role].post("/dang-nhap", data={"username": user["username"],
                                                       "password": PASSWORD})
            assert r.status_code == 302, (role, r.status_code)
        client = clients[role]
        for _ in range(3):  # warm
            client.get(path(user))
        # the garbage of the start (the app, the first statements) collected now: a full
        # collection (~80 ms over ~270,000 objects) would otherwise land in whichever page
        # kind's rounds it happened to, which differs between the trees compared
        gc.collect()
        cpus, counts = [], []
        pg_before = postgres_cpu(dbname) if dbname else {}
        for _ in range(args.rounds):
            sent[0] = 0  # type: ignore[call-overload]
            t = time.process_time()
            for _ in range(args.requests):
                resp = client.get(path(user))
                if resp.status_code != 200:
                    raise SystemExit(f"{label}: {resp.status_code}")
            cpus.append((time.process_time() - t) / args.requests * 1000)
            counts.append(sent[0] / args.requests)  # type: ignore[operator]
        # PostgreSQL's backends, over all the rounds (/proc counts in ticks of 10 ms)
        pg_ms = delta(pg_before, postgres_cpu(dbname)) / (args.rounds * args.requests) * 1000 \
            if dbname else 0.0
        out[label] = {"ms": statistics.median(cpus), "statements": statistics.median(counts),
                      "pg_ms": pg_ms}
        print(f"  {label:<32} {out[label]['statements']:>5.1f} statements "
              f"{out[label]['ms']:>7.2f} ms, PostgreSQL {pg_ms:.2f} ms", flush=True)
    print("RESULT " + json.dumps(out))


def load(args: argparse.Namespace) -> None:
    """bench/web.py's load (its mix, its users, its writes, its CPU counters) against the kept
    instance, served by this tree's code as ``make run`` serves it."""
    d = Path(args.dir).resolve()
    sys.path.insert(0, str(ROOT))
    import bench.web as web

    raw = json.loads((d / "seeded.json").read_text())
    conf = json.loads((d / "conf.json").read_text())
    users = [web.BenchUser(u["username"], u["role"], u["user_id"], u["department_id"],
                           u["own_docs"], u["own_outgoing"]) for u in raw["users"]]
    seeded = web.Seeded(users, raw["doc_ids"], raw["outgoing_ids"], {})
    port = web.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), **_env(d), "IOFFICE_EXCHANGE_DEMO_URL": base}
    log = web.ACCESS_LOG = d / "gunicorn.log"
    server = web.start_server(env, port, log, args.workers, args.threads)
    if args.py_spy:
        _record_drive(web, server.pid, args.py_spy, args.seconds)
    try:
        web.wait_ready(base, server, log)
        from signing.demo import make_text_pdf

        mix = web.Mix(seeded, random.Random(17), make_text_pdf(["SỞ NỘI VỤ\n\nCÔNG VĂN"]))
        web.measure(base, users[:8], mix, 3, False, server.pid, conf.get("dbname"), None)
        print(f"server pid {server.pid}; load average {os.getloadavg()}", flush=True)
        result = web.measure(base, users[:args.users], mix, args.seconds, not args.no_writes,
                             server.pid, conf.get("dbname"), None)
        web.report(f"{args.users} users, {args.seconds:g} s", result)
        print(f"load average after {os.getloadavg()}")
    finally:
        web.stop_server(server)


def _thread_cpu(web, server_pid: int) -> dict[str, float]:
    """CPU seconds (utime + stime) of each thread of the gunicorn workers, by thread id."""
    out = {}
    for pid in web.children(server_pid):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            cpu = web.stat_cpu(task / "stat")
            if cpu is not None:
                out[task.name] = cpu
    return out


def _record_drive(web, server_pid: int, prefix: str, seconds: float) -> None:
    """Wrap bench/web.py's ``drive`` (the measured part, after the logins) so that py-spy
    records every gunicorn worker while it runs."""
    drive = web.drive
    spy = str(Path(sys.executable).parent / "py-spy")
    calls = []

    async def recorded(*a, **kw):
        calls.append(1)
        if len(calls) == 1:  # the warm-up: not recorded
            return await drive(*a, **kw)
        procs = [subprocess.Popen(
            [spy, "record", "--gil", "--nonblocking", "--format", "raw", "--threads", "--rate", "100",
             "--duration", str(max(1, int(seconds) - 1)), "--pid", str(pid),
             "--output", f"{prefix}.{pid}.raw"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in web.children(server_pid)]
        before = _thread_cpu(web, server_pid)
        try:
            return await drive(*a, **kw)
        finally:
            after = _thread_cpu(web, server_pid)
            Path(f"{prefix}.threads.json").write_text(json.dumps(
                {tid: after[tid] - before.get(tid, 0.0) for tid in after}))
            for p in procs:
                p.wait(timeout=30)

    web.drive = recorded


def compare(args: argparse.Namespace) -> None:
    other = Path(args.other).resolve()
    results: dict[str, list[dict]] = {"this": [], "other": []}
    load = []
    for i in range(args.runs):
        for name, tree in (("other", other), ("this", ROOT)) if i % 2 == 0 else \
                (("this", ROOT), ("other", other)):
            load.append(os.getloadavg()[0])
            env = {**os.environ, "PYTHONPATH": str(tree)}
            proc = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "web_cpu.py"), "measure", args.dir,
                 "--requests", str(args.requests), "--rounds", str(args.rounds)],
                env=env, cwd=tree, capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                raise SystemExit(proc.stdout + proc.stderr)
            results[name].append(json.loads(line[0][7:]))
            print(f"run {i + 1} {name} done (load {load[-1]:.1f})", flush=True)
    print(f"\nload average (1 min) during the runs: {min(load):.1f}-{max(load):.1f}")
    print(f"{'page kind':<32} {'stmts other':>11} {'this':>5} {'ms other':>9} {'this':>7} "
          f"{'ratio':>6} {'PG ms other':>11} {'this':>5}")
    for label in results["this"][0]:
        so = statistics.median(r[label]["statements"] for r in results["other"])
        st = statistics.median(r[label]["statements"] for r in results["this"])
        mo = statistics.median(r[label]["ms"] for r in results["other"])
        mt = statistics.median(r[label]["ms"] for r in results["this"])
        po = statistics.median(r[label].get("pg_ms", 0.0) for r in results["other"])
        pt = statistics.median(r[label].get("pg_ms", 0.0) for r in results["this"])
        print(f"{label:<32} {so:>11.1f} {st:>5.1f} {mo:>9.2f} {mt:>7.2f} {mt / mo:>6.2f} "
              f"{po:>11.2f} {pt:>5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("dir")
    s.add_argument("--pg", action="store_true")
    s.add_argument("--docs", type=int, default=800)
    s.add_argument("--users", type=int, default=50)
    s = sub.add_parser("drop")
    s.add_argument("dir")
    for name in ("measure", "compare"):
        s = sub.add_parser(name)
        s.add_argument("dir")
        if name == "compare":
            s.add_argument("other")
            s.add_argument("--runs", type=int, default=4)
        s.add_argument("--requests", type=int, default=20)
        s.add_argument("--rounds", type=int, default=5)
    s = sub.add_parser("load")
    s.add_argument("dir")
    s.add_argument("--users", type=int, default=50)
    s.add_argument("--seconds", type=float, default=20)
    s.add_argument("--no-writes", action="store_true")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--threads", type=int, default=4)
    s.add_argument("--py-spy", metavar="PREFIX")
    args = ap.parse_args()
    {"setup": setup, "drop": drop, "measure": measure, "compare": compare, "load": load}[args.cmd](args)


if __name__ == "__main__":
    main()
