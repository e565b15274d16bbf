"""Benchmark of the outgoing pipeline, per document, on SQLite (or $IOFFICE_BENCH_DATABASE_URL).

    python bench/outgoing.py [--quick]

Each document goes: draft (PDF upload) -> three approvals -> personal signature by the leader
with a server-held key (visible stamp) -> number -> agency signature (seal, PAdES B-T with the
in-process TSA) -> dispatch to 3 recipients (1 department of the agency directly, 2 agencies as
exchange outbox rows: queued in the same transaction, not delivered; the exchange worker's
delivery and the recipients' registration are not in this figure). One transaction per step,
as the web handlers do. Single process (the figure for 2 cores is about twice, steps being
CPU-bound and independent per document).

Baseline: plain ``signing.sign_pdf`` of the same PDF with the same personal stamp (one
signature, no database). Last line: ``outgoing: <docs/s> docs/s ratio=<docs/s / baseline/s>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session

from ioffice import demo, migrate
from ioffice.agencies.models import Agency, User
from ioffice.db import make_engine
from ioffice.outgoing import dispatch, drafts, numbering, review, signatures
from ioffice.storage import create_blob_store
from signing import PersonalStamp, Pki, sign_pdf
from signing.demo import make_text_pdf
from tests.support.factories import actor, department, user_id


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n = 8 if parser.parse_args().quick else 40
    tmp = Path(tempfile.mkdtemp(prefix="bench-outgoing-"))
    url = os.environ.get("IOFFICE_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    pki = Pki.create(tmp / "pki", "bench")
    trust = pki.trust_store()
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        demo.load(s, password="bench-pass", instance_path=str(tmp), pki=pki)
        s.commit()
    blobs = create_blob_store({"STORAGE": "local", "BLOB_DIR": str(tmp / "blobs")})
    pdf = make_text_pdf(["BÁO CÁO", "Tình hình triển khai Chính phủ điện tử tỉnh Cà Mau",
                         "Kính gửi: Bộ Nội vụ"])
    with Session(engine) as s:
        leader = actor(s, "lanhdao.camau")
        user = s.get(User, leader.user_id)
        agency = s.get(Agency, leader.agency_id)
        credential = pki.issue_personal(user.full_name, user.position_title, agency.code,
                                        agency.name, key_type="rsa")
        signer_id = user_id(s, "lanhdao.camau")
        kt = department(s, leader, "KT").id
    stamp_doc = type("D", (), {"stamp_page": -1, "stamp_x1": None, "stamp_y1": None})()
    box = signatures.stamp_box(stamp_doc, pdf)  # type: ignore[arg-type]

    base = []
    for _ in range(max(3, n // 2)):
        t = time.perf_counter()
        sign_pdf(pdf, credential, trust=trust, stamp=PersonalStamp(box, "CHỦ TỊCH", user.full_name))
        base.append(time.perf_counter() - t)

    steps: dict[str, list[float]] = defaultdict(list)
    totals = []

    def step(name: str, fn) -> object:
        t = time.perf_counter()
        with Session(engine, expire_on_commit=False) as s:
            result = fn(s)
            s.commit()
        steps[name].append(time.perf_counter() - t)
        return result

    for i in range(n):
        t0 = time.perf_counter()
        doc = step("draft", lambda s, i=i: drafts.create_draft(
            s, blobs, actor(s, "chuyenvien.camau"), drafts.DraftInput(
                doc_type="bao_cao", subject=f"Báo cáo số {i}", signer_id=signer_id,
                department_ids=(kt,), agency_codes=("000.00.00.G09", "000.00.21.H12")),
            drafts.Upload("bao-cao.pdf", pdf)))
        doc_id = doc.id  # the lambdas below run at once, inside step()
        step("review", lambda s, doc_id=doc_id: [review.submit(s, actor(s, "chuyenvien.camau"), doc_id),
                                  review.approve(s, actor(s, "truongphong.camau"), doc_id),
                                  review.approve(s, actor(s, "vanthu.camau"), doc_id),
                                  review.approve(s, actor(s, "lanhdao.camau"), doc_id)])
        step("personal signature", lambda s, doc_id=doc_id: signatures.sign_with_server_key(
            s, blobs, trust, actor(s, "lanhdao.camau"), doc_id, credential))
        step("number", lambda s, doc_id=doc_id: numbering.assign_number(s, actor(s, "vanthu.camau"), doc_id))
        step("agency signature", lambda s, doc_id=doc_id: signatures.apply_agency_signature(
            s, blobs, pki, trust, actor(s, "vanthu.camau"), doc_id))
        step("dispatch", lambda s, doc_id=doc_id: dispatch.dispatch(s, actor(s, "vanthu.camau"), doc_id))
        totals.append(time.perf_counter() - t0)

    total = sum(totals)
    print(f"documents: {n}, database: {url.split(':')[0]}, one process")
    print(f"per document: median {statistics.median(totals) * 1000:.0f} ms, "
          f"p95 {pct(totals, 0.95) * 1000:.0f} ms")
    for name, values in steps.items():
        print(f"  {name:<20} median {statistics.median(values) * 1000:6.1f} ms  "
              f"share {sum(values) / total * 100:5.1f} %")
    docs_s = n / total
    base_s = 1 / statistics.median(base)
    print(f"baseline plain sign_pdf (RSA, same stamp): median {statistics.median(base) * 1000:.0f} ms "
          f"({base_s:.1f}/s)")
    print(f"outgoing: {docs_s:.2f} docs/s ratio={docs_s / base_s:.2f}")


if __name__ == "__main__":
    main()
