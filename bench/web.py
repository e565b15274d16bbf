"""Benchmark of the web pages under load: ``make run``'s server and 50 logged-in users.

    python bench/web.py [--quick] [--pg] [--users N] [--seconds S] [--docs N]

1. A fresh instance folder in a temporary directory, set up as ``make run`` does it: ``flask db
   upgrade``, ``pki init``, ``demo load --password ...``, ``exchange setup-demo``. SQLite (the
   instance's file) by default; ``--pg``: a database of its own on 127.0.0.1:5432 (dropped after)
   and the blobs in S3 (a SeaweedFS server started like tests/support/seaweed.py does).
2. Seed Cà Mau province (the demo's ``camau`` agency) in-process, through the models and the
   search service (one transaction per batch, no HTTP): the bench users up to ``--users`` (5
   clerks, 5 leaders, 8 department heads, the rest specialists, the demo's four included), and
   ``--docs`` incoming documents of this year (full: 3,000, ``--quick``: 800), Vietnamese subjects
   and ~150 words of text each: 55 % done, 30 % open assignments to the users or their
   departments (deadlines from 10 days overdue to 20 days ahead), 10 % registered and waiting for
   distribution, 5 % received from the axis and waiting for registration; plus 3 outgoing drafts
   per 50 documents through ``drafts.create_draft`` (a PDF each).
3. Start the server as the Makefile's ``run`` target does (gunicorn, 2 workers x 4 threads, the
   access log, the exchange hooks), on a free port.
4. One user alone (a specialist), reads only, for ``--solo-seconds``; then every user logs in
   and the users are driven for ``--seconds`` (full: 60, ``--quick``: 20) with no think time: each
   sends its next request as soon as the last one answered. The mix per user: queue pages
   (incoming tabs, the outgoing list) 45 %, document pages 35 % (a document of the user's own
   queue mostly), search 20 % (diacritics-free queries). Writes on top, as many as one paper
   registration and one distribution per user per minute: the clerks register (a one-page PDF,
   multipart form, the 302 counted) and the leaders distribute (the waiting tab read first,
   counted as a queue page, then the form posted), each clerk/leader at its share of the rate.

Printed: per page kind the count, p50/p95/p99 and errors (any status >= 400, a refused form, a
connection error); requests/s; the application's CPU (the gunicorn processes' utime + stime from
/proc, before and after) per request; the database's (PostgreSQL backends of the bench database)
and SeaweedFS's CPU per request with --pg; the machine's busy share; the load generator's own CPU
(one asyncio thread, aiohttp). Last line: ``web: <p95 ms, all requests at N users> ms
ratio=<requests/s at N users / requests/s of one user>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402

PASSWORD = "bench-web-not-secret"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
UTC7 = dt.timezone(dt.timedelta(hours=7))
QUERIES = ("giai phong mat bang", "chuyen doi so", "cai cach hanh chinh", "phong chong lut bao",
           "boi thuong tai dinh cu", "sat lo bo bien", "tiep cong dan", "thi dua khen thuong",
           "xam nhap man", "giai ngan von dau tu cong", "nong thon moi", "an toan thuc pham")
TABS = ("can-xu-ly", "qua-han", "sap-den-han")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TABLE_RE = re.compile(r"\b(FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
DOC_LINK_RE = re.compile(r'href="/van-ban-den/(\d+)"')


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- CPU from /proc ---------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")
ACCESS_LOG: Path | None = None  # gunicorn's access log, to count the requests that are not ours


def stat_cpu(stat: Path) -> float | None:
    """utime + stime of a ``/proc/<pid>/stat`` or ``/proc/<pid>/task/<tid>/stat`` file, in
    seconds; None if the process or thread is gone."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 if it is gone."""
    return stat_cpu(Path(f"/proc/{pid}/stat")) or 0.0


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of a process and all its descendants, by pid."""
    seen, todo = {}, [pid]
    while todo:
        p = todo.pop()
        seen[p] = proc_cpu(p)
        todo += children(p)
    return seen


def postgres_cpu(dbname: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends connected to ``dbname``, by pid."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            if cmd.startswith("postgres: ") and f" {dbname} " in cmd:
                out[int(entry.name)] = proc_cpu(int(entry.name))
    return out


def delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(p, 0.0) for p, v in after.items())


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


# --- setting up the instance, as `make run` does -----------------------------------------------

def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def start_server(env: dict[str, str], port: int, log: Path, workers: int = 2,
                 threads: int = 4) -> subprocess.Popen[bytes]:
    """The Makefile's ``run`` target's gunicorn command but for the port, gunicorn's access log
    (the bench counts the demo hubs' calls from it) and the request log lines (WARNING: the
    figures of docs/benchmarks.md were measured without them)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--worker-class", "ioffice.web.gunicorn_worker.HeadDeadlineWorker",
             "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
             "-c", "python:ioffice.exchange.gunicorn_hooks", "wsgi:application"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(f"{base}/dang-nhap", timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn not answering:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


# --- seeding -------------------------------------------------------------------------------

@dataclass
class BenchUser:
    username: str
    role: str  # clerk, leader, head, specialist
    user_id: int
    department_id: int | None
    own_docs: list[int] = field(default_factory=list)
    own_outgoing: list[int] = field(default_factory=list)


@dataclass
class Seeded:
    users: list[BenchUser]
    doc_ids: list[int]
    outgoing_ids: list[int]
    departments: dict[str, int]


SUBJECT_TOPICS = (
    "giải phóng mặt bằng dự án", "phòng chống lụt bão", "cải cách hành chính", "chuyển đổi số",
    "xây dựng nông thôn mới", "bồi thường hỗ trợ tái định cư", "quản lý đất đai",
    "an toàn giao thông", "phòng cháy chữa cháy", "giảm nghèo bền vững", "an toàn thực phẩm",
    "bảo vệ rừng phòng hộ", "sạt lở bờ biển", "xâm nhập mặn", "thu ngân sách nhà nước",
    "giải ngân vốn đầu tư công", "thi đua khen thưởng", "tiếp công dân", "nuôi trồng thủy sản",
    "kiên cố hóa trường lớp")
PLACES = ("tỉnh Cà Mau", "huyện U Minh", "huyện Trần Văn Thời", "xã Khánh An", "thành phố Cà Mau")
ISSUERS = ("Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Nội vụ", "Sở Tài nguyên và Môi trường",
           "Sở Y tế", "Công an tỉnh", "Văn phòng Chính phủ", "Bộ Nội vụ", "Kho bạc Nhà nước tỉnh")
WORDS = (  # noqa: SIM905
    "ủy ban nhân dân tỉnh huyện xã cơ quan đơn vị cán bộ công chức người dân doanh nghiệp "
    "kinh tế xã hội văn hóa giáo dục y tế môi trường đất đai nông nghiệp thủy sản giao thông "
    "xây dựng quy hoạch kế hoạch ngân sách tài chính đầu tư công dự án thực hiện triển khai "
    "tổ chức chỉ đạo kiểm tra giám sát báo cáo tổng hợp đề nghị phối hợp hướng dẫn quy định "
    "quyết định thông báo nhiệm vụ giải pháp kết quả tiến độ thời hạn trước ngày tháng năm "
    "hồ sơ thủ tục hành chính chuyển đổi số dịch vụ trực tuyến phòng chống thiên tai").split()


def seed(app, n_docs: int, n_users: int, rng: random.Random) -> Seeded:
    from ioffice.agencies import service as agencies
    from ioffice.agencies.actor import Actor
    from ioffice.agencies.models import Role
    from ioffice.db_session import database
    from ioffice.demo import CTX
    from ioffice.documents.vocabulary import DOC_TYPES, Confidentiality, Urgency
    from ioffice.incoming.models import (
        Assignment,
        AssignmentRole,
        AssignmentStatus,
        DocumentStatus,
        DocumentText,
        IncomingDocument,
        Source,
    )
    from ioffice.outgoing import drafts
    from ioffice.registers.models import RegisterKind
    from ioffice.registers.numbering import get_or_create_register
    from ioffice.search.service import index_incoming
    from ioffice.services import services
    from signing.demo import make_text_pdf

    with app.app_context():
        session = database(app).session()
        agency = agencies.get_agency_by_code(session, "000.00.00.H12")
        depts = {d.short_name: d.id for d in agencies.list_departments(session, agency.id)}
        work_depts = [depts[k] for k in ("TTTT", "SNV", "KT")]
        # 50 users: 5 clerks, 5 leaders, 8 department heads, 32 specialists
        plan = {"clerk": max(1, round(n_users * .1)), "leader": max(1, round(n_users * .1)),
                "head": max(1, round(n_users * .16))}
        plan["specialist"] = max(1, n_users - sum(plan.values()))
        role_of = {"clerk": Role.CLERK, "leader": Role.LEADER, "head": Role.DEPARTMENT_HEAD,
                   "specialist": Role.SPECIALIST}
        demo_names = {"clerk": "vanthu.camau", "leader": "lanhdao.camau",
                      "head": "truongphong.camau", "specialist": "chuyenvien.camau"}
        users: list[BenchUser] = []
        for kind, count in plan.items():
            for i in range(count):
                username = demo_names[kind] if i == 0 else f"bench.{kind}{i:02d}"
                dept = (depts["VP"] if kind == "clerk" else None if kind == "leader"
                        else work_depts[i % len(work_depts)])
                user = agencies.get_user_by_username(session, username)
                if user is None:
                    user = agencies.create_user(
                        session, CTX, agency_id=agency.id, username=username,
                        full_name=f"Cán bộ thử tải {kind} {i}", password=PASSWORD,
                        roles=[role_of[kind]], department_id=dept, position_title="Chuyên viên")
                    session.flush()
                m = user.memberships[0]
                users.append(BenchUser(username, kind, user.id, m.department_id))
        session.commit()

        today = dt.datetime.now(UTC7).date()
        register = get_or_create_register(session, agency.id, RegisterKind.INCOMING, today.year)
        handlers = [u for u in users if u.role in ("specialist", "head")]
        leader_id = next(u.user_id for u in users if u.role == "leader")
        clerk_id = next(u.user_id for u in users if u.role == "clerk")
        types = DOC_TYPES[:12]
        number = register.last_number or 0
        doc_ids: list[int] = []
        batch: list[tuple[IncomingDocument, str]] = []
        start_of_year = dt.datetime(today.year, 1, 1, tzinfo=UTC7)
        span = dt.datetime.now(UTC7) - start_of_year - dt.timedelta(days=2)
        for k in range(n_docs):
            r = rng.random()
            status = (DocumentStatus.DONE if r < 0.55 else DocumentStatus.IN_PROGRESS if r < 0.85
                      else DocumentStatus.REGISTERED if r < 0.95
                      else DocumentStatus.AWAITING_REGISTRATION)
            dtype = rng.choice(types)
            topic = rng.choice(SUBJECT_TOPICS)
            subject = f"{dtype.name} về việc {topic} trên địa bàn {rng.choice(PLACES)}"
            when = start_of_year + span * (k + 1) / n_docs
            doc_no = str(rng.randint(1, 9999))
            notation = f"{dtype.abbreviation or 'CV'}-{rng.choice(('UBND', 'STC', 'SNV', 'VP'))}"
            registered = status is not DocumentStatus.AWAITING_REGISTRATION
            if registered:
                number += 1
            doc = IncomingDocument(
                agency_id=agency.id, register_id=register.id if registered else None,
                incoming_number=number if registered else None, status=status,
                source=Source.PAPER if registered else Source.AXIS, issuer_name=rng.choice(ISSUERS),
                number=doc_no, notation=notation, number_notation=f"{doc_no}/{notation}",
                document_date=(when - dt.timedelta(days=rng.randint(0, 5))).date(),
                doc_type=dtype.code, subject=subject, signer="Nguyễn Văn An", page_count=2,
                urgency=Urgency.URGENT if rng.random() < 0.1 else Urgency.NORMAL,
                confidentiality=Confidentiality.NORMAL, arrived_at=when,
                registered_at=when if registered else None,
                registered_by_id=clerk_id if registered else None)
            if status in (DocumentStatus.DONE, DocumentStatus.IN_PROGRESS):
                doc.distributed_at = when
                owner = rng.choice(handlers)
                to_dept = owner.role == "head" and owner.department_id is not None
                open_ = status is DocumentStatus.IN_PROGRESS
                doc.assignments.append(Assignment(
                    agency_id=agency.id, role=AssignmentRole.LEAD,
                    assignee_user_id=None if to_dept else owner.user_id,
                    assignee_department_id=owner.department_id if to_dept else None,
                    deadline=today + dt.timedelta(days=rng.randint(-10, 20)) if open_
                    else when.date() + dt.timedelta(days=10),
                    status=(rng.choice((AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS))
                            if open_ else AssignmentStatus.DONE),
                    assigned_by_id=leader_id, assigned_at=when))
                doc.owner = owner  # type: ignore[attr-defined]
            text = " ".join(rng.choices(WORDS, k=150)) + f" {topic}."
            session.add(doc)
            batch.append((doc, text))
            if len(batch) == 200 or k == n_docs - 1:
                session.flush()
                for d, body in batch:
                    session.add(DocumentText(document_id=d.id, content=body))
                    index_incoming(session, d, body, new=True)
                    doc_ids.append(d.id)
                    if (owner := getattr(d, "owner", None)) is not None:
                        owner.own_docs.append(d.id)
                session.commit()
                batch = []
        register.last_number = number
        session.commit()

        # outgoing drafts, through the service (a PDF each, the blob store of the instance)
        outgoing_ids = []
        drafters = [u for u in users if u.role == "specialist"] or users
        pdf = make_text_pdf(["ỦY BAN NHÂN DÂN TỈNH CÀ MAU\n\nCÔNG VĂN\nVề việc chuyển đổi số"])
        for i in range(max(3, n_docs * 3 // 50)):
            who = drafters[i % len(drafters)]
            actor = Actor.of(agencies.get_user_by_username(session, who.username).memberships[0])
            doc = drafts.create_draft(session, services().blobs, actor, drafts.DraftInput(
                doc_type="cong_van", subject=f"Công văn về việc {rng.choice(SUBJECT_TOPICS)} số {i}",
                signer_id=leader_id, department_ids=(rng.choice(work_depts),)),
                drafts.Upload("cong-van.pdf", pdf))
            session.commit()
            outgoing_ids.append(doc.id)
            who.own_outgoing.append(doc.id)
        session.close()
    return Seeded(users, doc_ids, outgoing_ids, depts)


# --- the load --------------------------------------------------------------------------------

@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(v) for v in self.times.values())


class Client:
    """One logged-in user: its own cookie jar and one connection (one request at a time)."""

    def __init__(self, base: str, user: BenchUser, stats: Stats) -> None:
        self.base, self.user, self.stats = base, user, stats
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1
            connector=aiohttp.TCPConnector(limit=1),
            timeout=aiohttp.ClientTimeout(total=120))
        self.csrf = ""
        self.listed: list[int] = []

    async def login(self) -> None:
        async with self.http.get(f"{self.base}/dang-nhap") as resp:
            self.csrf = CSRF_RE.search(await resp.text()).group(1)  # type: ignore[union-attr]
        form = {"username": self.user.username, "password": PASSWORD, "csrf_token": self.csrf}
        async with self.http.post(f"{self.base}/dang-nhap", data=form,
                                  allow_redirects=False) as resp:
            if resp.status != 302:
                raise SystemExit(f"login of {self.user.username} refused: {resp.status}")
        async with self.http.get(f"{self.base}/") as resp:
            self.csrf = CSRF_RE.search(await resp.text()).group(1)  # type: ignore[union-attr]

    async def request(self, kind: str, method: str, path: str, *, ok: tuple[int, ...] = (200,),
                      **kw) -> str | None:
        t0 = time.perf_counter()
        try:
            async with self.http.request(method, self.base + path, allow_redirects=False,
                                         **kw) as resp:
                body = await resp.text()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.stats.times[kind].append(time.perf_counter() - t0)
            self.stats.errors[kind] += 1
            self.stats.samples.setdefault(kind, f"{path}: {exc!r}")
            return None
        self.stats.times[kind].append(time.perf_counter() - t0)
        if status not in ok:
            self.stats.errors[kind] += 1
            self.stats.samples.setdefault(kind, f"{method} {path}: {status}")
            return None
        return body

    async def close(self) -> None:
        await self.http.close()


class Mix:
    def __init__(self, seeded: Seeded, rng: random.Random, pdf: bytes) -> None:
        self.seeded, self.rng, self.pdf = seeded, rng, pdf
        self.claimed: set[int] = set()
        self.registered = 0

    async def read(self, c: Client) -> None:
        rng, r = self.rng, self.rng.random()
        if r < 0.35:
            tabs = TABS + (("cho-vao-so",) if c.user.role == "clerk" else ()) + \
                (("cho-phan-phoi",) if c.user.role == "leader" else ())
            body = await c.request("queue", "GET", f"/van-ban-den/?tab={rng.choice(tabs)}")
            if body:
                c.listed = [int(x) for x in DOC_LINK_RE.findall(body)] or c.listed
        elif r < 0.45 or (r < 0.80 and r >= 0.75 and not c.user.own_outgoing):
            await c.request("outgoing list", "GET", "/van-ban-di/")
        elif r < 0.75:
            pool = c.listed if c.listed and rng.random() < 0.5 else \
                (c.user.own_docs if c.user.own_docs and rng.random() < 0.6 else self.seeded.doc_ids)
            await c.request("incoming document", "GET", f"/van-ban-den/{rng.choice(pool)}")
        elif r < 0.80:
            await c.request("outgoing document", "GET",
                            f"/van-ban-di/{rng.choice(c.user.own_outgoing)}")
        else:
            q = rng.choice(QUERIES)
            await c.request("search", "GET", f"/tim-kiem?q={q.replace(' ', '+')}")

    async def register(self, c: Client) -> None:
        self.registered += 1
        today = dt.datetime.now(UTC7).date()
        form = aiohttp.FormData()
        for name, value in {
            "csrf_token": c.csrf, "issuer_name": "Sở Nội vụ", "number": f"{self.registered}",
            "notation": f"SNV-TT{os.getpid() % 1000}", "document_date": f"{today:%d/%m/%Y}",
            "doc_type": "cong_van", "subject": f"Về việc {self.rng.choice(SUBJECT_TOPICS)}",
            "signer": "Trần Thị Bình", "page_count": "1", "urgency": "normal",
            "confidentiality": "normal", "submission_id": uuid.uuid4().hex,
        }.items():
            form.add_field(name, value)
        form.add_field("files", self.pdf, filename="cong-van.pdf", content_type="application/pdf")
        await c.request("registration (POST)", "POST", "/van-ban-den/vao-so", data=form, ok=(302,))

    async def distribute(self, c: Client) -> None:
        body = await c.request("queue", "GET", "/van-ban-den/?tab=cho-phan-phoi")
        if not body:
            return
        free = [int(x) for x in DOC_LINK_RE.findall(body) if int(x) not in self.claimed]
        if not free:  # nothing waiting: the registrations have not caught up
            return
        doc_id = free[0]
        self.claimed.add(doc_id)
        owner = self.rng.choice([u for u in self.seeded.users if u.role == "specialist"])
        deadline = dt.datetime.now(UTC7).date() + dt.timedelta(days=10)
        form = {"csrf_token": c.csrf, "lead_target": f"user:{owner.user_id}",
                "lead_deadline": f"{deadline:%d/%m/%Y}", "instruction": "Đề nghị xử lý."}
        await c.request("distribution (POST)", "POST", f"/van-ban-den/{doc_id}/phan-phoi",
                        data=form, ok=(302,))


def measure(base: str, users: list[BenchUser], mix: Mix, seconds: float, writes: bool,
            server_pid: int, dbname: str | None, weed_pid: int | None) -> dict:
    """Log the users in (not measured), then drive them for ``seconds`` and read the CPU
    counters before and after."""
    async def go() -> dict:
        stats = Stats()
        clients = [Client(base, u, stats) for u in users]
        try:
            for c in clients:
                await c.login()
            return await drive(clients, stats, mix, seconds, writes, server_pid, dbname, weed_pid)
        finally:
            for c in clients:
                await c.close()

    return asyncio.run(go())


async def drive(clients: list[Client], stats: Stats, mix: Mix, seconds: float, writes: bool,
                server_pid: int, dbname: str | None, weed_pid: int | None) -> dict:
    stats.times.clear()
    out: dict = {"stats": stats}
    log_start = ACCESS_LOG.stat().st_size if ACCESS_LOG else 0
    before = (tree_cpu(server_pid), postgres_cpu(dbname) if dbname else {},
              tree_cpu(weed_pid) if weed_pid else {}, machine_busy(), time.process_time())
    n = len(clients)
    # writes: n registrations and n distributions a minute in all, shared by the clerks
    # (registrations) and the leaders (distributions)
    clerks = sum(c.user.role == "clerk" for c in clients)
    leaders = sum(c.user.role == "leader" for c in clients)

    async def run(c: Client, t_end: float) -> None:
        share = {"clerk": clerks, "leader": leaders}.get(c.user.role)
        interval = 60.0 * share / n if writes and share else None
        next_write = time.monotonic() + mix.rng.uniform(0, interval) if interval else None
        while time.monotonic() < t_end:
            if next_write is not None and time.monotonic() >= next_write:
                next_write += interval
                await (mix.register(c) if c.user.role == "clerk" else mix.distribute(c))
            else:
                await mix.read(c)

    t0 = time.monotonic()
    await asyncio.gather(*(run(c, t0 + seconds) for c in clients))
    out["elapsed"] = time.monotonic() - t0
    after = (tree_cpu(server_pid), postgres_cpu(dbname) if dbname else {},
             tree_cpu(weed_pid) if weed_pid else {}, machine_busy(), time.process_time())
    out["app_cpu"] = delta(before[0], after[0])
    out["db_cpu"] = delta(before[1], after[1])
    out["s3_cpu"] = delta(before[2], after[2])
    busy, total = (after[3][0] - before[3][0], after[3][1] - before[3][1])
    out["busy"] = busy / total if total else float("nan")
    out["gen_cpu"] = after[4] - before[4]
    out["own_requests"] = 0
    if ACCESS_LOG:  # what the server answered besides us: its exchange worker's hub calls
        with open(ACCESS_LOG, "rb") as fh:
            fh.seek(log_start)
            out["own_requests"] = sum(b" /truc/" in line for line in fh)
    return out


def report(label: str, result: dict) -> tuple[float, float]:
    stats, elapsed = result["stats"], result["elapsed"]
    n = stats.count()
    rps = n / elapsed
    print(f"\n{label}: {n} requests in {elapsed:.1f} s = {rps:.1f} requests/s, "
          f"errors {sum(stats.errors.values())}")
    print(f"  {'page kind':<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    everything = []
    for kind in sorted(stats.times):
        ms = [t * 1000 for t in stats.times[kind]]
        everything += ms
        print(f"  {kind:<22} {len(ms):>6} {pct(ms, .5):>8.0f} {pct(ms, .95):>8.0f} "
              f"{pct(ms, .99):>8.0f} {stats.errors.get(kind, 0):>7}")
    p95 = pct(everything, .95)
    print(f"  {'all':<22} {len(everything):>6} {pct(everything, .5):>8.0f} {p95:>8.0f} "
          f"{pct(everything, .99):>8.0f} {sum(stats.errors.values()):>7}")
    for kind, sample in stats.samples.items():
        print(f"  first error of {kind}: {sample}")
    per = 1000 / n if n else float("nan")
    line = f"  CPU per request: application {result['app_cpu'] * per:.1f} ms"
    if result["db_cpu"]:
        line += f", PostgreSQL {result['db_cpu'] * per:.1f} ms"
    if result["s3_cpu"]:
        line += f", SeaweedFS {result['s3_cpu'] * per:.1f} ms"
    print(line)
    if result.get("own_requests"):
        print(f"  the server also answered {result['own_requests']} requests of its own exchange "
              f"worker to the demo hubs (/truc/...), not counted above")
    print(f"  machine busy {result['busy'] * 100:.0f} % of {os.cpu_count()} cores; load generator "
          f"CPU {result['gen_cpu']:.1f} s = {result['gen_cpu'] / elapsed * 100:.0f} % of one core "
          f"({result['gen_cpu'] * per:.1f} ms per request)")
    return p95, rps


# --- where a request's CPU goes (--profile) ---------------------------------------------------

def profile_pages(app, seeded: Seeded, rounds: int, rng: random.Random) -> None:
    """In-process, one request at a time through Flask's test client (no server, no network):
    per page kind the SQL statements per request and the CPU per request; then cProfile's
    heaviest functions (own time) over all of them. A quick look, not a load measurement."""
    import cProfile
    import pstats

    from sqlalchemy import event

    from ioffice.db_session import database

    with app.app_context():
        engine = database(app).engine
    statements: list[str] = []

    def count(conn, cursor, statement, *a) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    from ioffice.db import Base

    loaded: list[int] = [0]

    def built(_target, _context) -> None:
        loaded[0] += 1

    event.listen(Base, "load", built, propagate=True)  # ORM objects built from rows
    app.config["WTF_CSRF_ENABLED"] = False
    by_role = {u.role: u for u in reversed(seeded.users)}
    pages = [("queue (specialist, can-xu-ly)", "specialist", lambda u: "/van-ban-den/?tab=can-xu-ly"),
             ("queue (clerk, cho-vao-so)", "clerk", lambda u: "/van-ban-den/?tab=cho-vao-so"),
             ("outgoing list", "specialist", lambda u: "/van-ban-di/"),
             ("incoming document", "specialist",
              lambda u: f"/van-ban-den/{rng.choice(u.own_docs or seeded.doc_ids)}"),
             ("outgoing document", "specialist",
              lambda u: f"/van-ban-di/{rng.choice(u.own_outgoing or seeded.outgoing_ids)}"),
             ("search", "specialist", lambda u: f"/tim-kiem?q={rng.choice(QUERIES)}"),
             # the leader's pages list more: the distribution form, every open document
             ("queue (leader, cho-phan-phoi)", "leader", lambda u: "/van-ban-den/?tab=cho-phan-phoi"),
             ("outgoing list (leader)", "leader", lambda u: "/van-ban-di/"),
             ("incoming document (leader)", "leader",
              lambda u: f"/van-ban-den/{rng.choice(seeded.doc_ids)}"),
             ("outgoing document (leader)", "leader",
              lambda u: f"/van-ban-di/{rng.choice(seeded.outgoing_ids)}")]
    profiler = cProfile.Profile()
    print(f"\nper request, in-process (test client, {rounds} requests each):")
    print(f"  {'page kind':<32} {'SQL':>5} {'ORM':>5} {'CPU ms':>7}  statements per request by table")
    clients = {}
    for label, role, path in pages:
        user = by_role[role]
        if role not in clients:
            clients[role] = app.test_client()
            clients[role].post("/dang-nhap", data={"username": user.username, "password": PASSWORD})
        client = clients[role]
        client.get(path(user))  # warm
        statements.clear()
        loaded[0] = 0
        cpu = time.process_time()
        for _ in range(rounds):
            profiler.enable()
            resp = client.get(path(user))
            profiler.disable()
            if resp.status_code != 200:
                print(f"  {label}: status {resp.status_code}")
        cpu = (time.process_time() - cpu) / rounds * 1000
        tables: dict[str, int] = defaultdict(int)
        for st in statements:
            m = TABLE_RE.search(st)
            tables[m.group(2) if m else st.split()[0]] += 1
        spread = ", ".join(f"{t} {n / rounds:g}" for t, n in
                           sorted(tables.items(), key=lambda kv: -kv[1])[:8])
        print(f"  {label:<32} {len(statements) / rounds:>5.1f} {loaded[0] / rounds:>5.1f} "
              f"{cpu:>7.1f}  {spread}")
    event.remove(engine, "before_cursor_execute", count)
    event.remove(Base, "load", built)
    print("\nheaviest functions over those requests (cProfile, own time):")
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:15]  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    for (file, line, fn), (_cc, calls, tottime, _cum, _) in rows:
        where = "/".join(Path(file).parts[-2:])
        print(f"  {tottime / total * 100:5.1f} %  {calls:>8} calls  {fn} ({where}:{line})")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)  # type: ignore[attr-defined]
    print("heaviest of the project's own functions (cumulative):")
    shown = 0
    for (file, line, fn), (_cc, calls, _tottime, cumtime, _) in rows:
        if "/ioffice/" in file and "web/access" not in file and shown < 12:
            print(f"  {cumtime / total * 100:5.1f} %  {calls:>8} calls  {fn} "
                  f"({'/'.join(Path(file).parts[-2:])}:{line})")
            shown += 1


# --- main ------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL + S3 (SeaweedFS)")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--solo-seconds", type=float)
    ap.add_argument("--docs", type=int)
    ap.add_argument("--profile", action="store_true",
                    help="after seeding, count SQL statements and profile each page kind "
                         "in-process, instead of the load")
    ap.add_argument("--workers", type=int, default=2,
                    help="gunicorn workers (make run: 2), to compare settings")
    ap.add_argument("--threads", type=int, default=4,
                    help="threads per worker (make run: 4), to compare settings")
    args = ap.parse_args()
    seconds = args.seconds or (20 if args.quick else 60)
    solo_seconds = args.solo_seconds or (10 if args.quick else 20)
    n_docs = args.docs or (800 if args.quick else 3000)
    rng = random.Random(17)
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IOFFICE_INSTANCE_PATH": str(tmp / "instance"),
           "IOFFICE_PLAIN_HTTP": "1", "IOFFICE_EXCHANGE_DEMO_URL": base,
           "IOFFICE_LOG_FORMAT": "text", "IOFFICE_LOG_LEVEL": "WARNING",
           "IOFFICE_DEMO_PASSWORD": PASSWORD}
    dbname, weed, server = None, None, None
    try:
        if args.pg:
            from tests.support.seaweed import SeaweedServer

            dbname = f"ioffice_web_bench_{os.getpid()}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {dbname}")
            weed = SeaweedServer().start()
            env.update({"IOFFICE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}",
                        "IOFFICE_STORAGE": "s3", "IOFFICE_S3_ENDPOINT": weed.endpoint,
                        "IOFFICE_S3_ACCESS_KEY": weed.access_key,
                        "IOFFICE_S3_SECRET_KEY": weed.secret_key, "IOFFICE_S3_BUCKET": "ioffice"})
        t = time.perf_counter()
        for step in (("db", "upgrade"), ("pki", "init"), ("demo", "load", "--password", PASSWORD),
                     ("exchange", "setup-demo")):
            flask(env, *step)
        print(f"instance set up as `make run` does ({'PostgreSQL + S3' if args.pg else 'SQLite'}) "
              f"in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        os.environ.update(env)
        from ioffice import create_app

        app = create_app()
        seeded = seed(app, n_docs, args.users, rng)
        from ioffice.db_session import database

        with app.app_context():
            database(app).engine.dispose()
        roles = defaultdict(int)
        for u in seeded.users:
            roles[u.role] += 1
        print(f"seeded {len(seeded.doc_ids)} incoming documents, {len(seeded.outgoing_ids)} "
              f"outgoing drafts, {len(seeded.users)} users ({dict(roles)}) in "
              f"{time.perf_counter() - t:.0f} s", flush=True)

        if args.profile:
            profile_pages(app, seeded, 10 if args.quick else 40, rng)
            return
        global ACCESS_LOG
        log = ACCESS_LOG = tmp / "gunicorn.log"
        server = start_server(env, port, log, args.workers, args.threads)
        wait_ready(base, server, log)
        print(f"server: gunicorn {args.workers} workers x {args.threads} threads on {base} "
              f"(pid {server.pid})", flush=True)
        from signing.demo import make_text_pdf

        mix = Mix(seeded, rng, make_text_pdf(["SỞ NỘI VỤ TỈNH CÀ MAU\n\nCÔNG VĂN\nVề việc thử tải"]))
        solo_user = next(u for u in seeded.users if u.role == "specialist")
        weed_pid = weed.process.pid if weed and weed.process else None
        # warm both workers up (imports, templates, connection pools): not measured
        measure(base, seeded.users[:8], mix, 3, False, server.pid, dbname, weed_pid)
        solo = measure(base, [solo_user], mix, solo_seconds, False, server.pid, dbname, weed_pid)
        _, solo_rps = report("one user alone (a specialist, reads only)", solo)
        load = measure(base, seeded.users, mix, seconds, True, server.pid, dbname, weed_pid)
        p95, rps = report(f"{len(seeded.users)} users, no think time, with "
                          f"{len(seeded.users)} registrations and distributions a minute", load)
        print(f"  registrations sent {load['stats'].times.get('registration (POST)', []).__len__()}, "
              f"distributions sent {len(load['stats'].times.get('distribution (POST)', []))}")
        print(f"\nweb: {p95:.0f} ms ratio={rps / solo_rps:.2f}")
    finally:
        if server is not None:
            stop_server(server)
        if weed is not None:
            weed.stop()
        if dbname:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
