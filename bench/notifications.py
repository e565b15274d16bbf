"""The bell's costs per open page: the live stream's poll (the user's newest notification id)
and the count in the top bar, against counting every unread row (``count(*)``, the baseline).

    python bench/notifications.py [--quick] [--users N] [--per-user N]

Builds ``users x per_user`` notifications (a tenth unread) in a SQLite file through the
migrations, then times each query for random users. The last line is
``notifications: <poll p95> us ratio=<baseline p95 / poll p95>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from ioffice import migrate
from ioffice.db import make_engine
from ioffice.notifications import service
from ioffice.notifications.models import Notification


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--users", type=int)
    ap.add_argument("--per-user", type=int)
    args = ap.parse_args()
    users = args.users or (50 if args.quick else 500)
    per_user = args.per_user or (200 if args.quick else 2000)
    runs = 300 if args.quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO agencies (code, name, short_name, level, address, email,"
                              " phone, fax, website, created_at) VALUES ('B', 'B', 'B', 'province',"
                              " '', '', '', '', '', '2026-01-01')"))
            agency_id = conn.execute(text("SELECT id FROM agencies")).scalar_one()
            for u in range(users):
                conn.execute(text("INSERT INTO users (username, full_name, position_title, email,"
                                  " password_hash, active, session_epoch, must_change_password,"
                                  " created_at) VALUES (:n, :n, '', '', 'x', 1, 0, 0, "
                                  "'2026-01-01')"), {"n": f"u{u}"})
            ids = list(conn.execute(text("SELECT id FROM users")).scalars())
            now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
            rng = random.Random(21)
            batch = []
            for i in range(per_user):
                for uid in ids:
                    batch.append({"user_id": uid, "agency_id": agency_id, "kind": "assigned",
                                  "subject_type": "incoming", "subject_id": i, "link": "",
                                  "text": "x", "in_app": True, "by_email": False,
                                  "created_at": now,
                                  "read_at": None if rng.random() < 0.1 else now})
                if len(batch) >= 20_000:
                    conn.execute(insert(Notification), batch)
                    batch = []
            if batch:
                conn.execute(insert(Notification), batch)
        timings: dict[str, list[float]] = {"poll": [], "bell": [], "count(*)": []}
        with Session(engine) as session:
            for _ in range(runs):
                uid = rng.choice(ids)
                for name, run in (
                        ("poll", lambda u=uid: service.latest_id(session, u)),
                        ("bell", lambda u=uid: service.unread_count(session, u, agency_id)),
                        ("count(*)", lambda u=uid: session.scalar(
                            select(func.count()).select_from(Notification).where(
                                Notification.user_id == u, Notification.in_app,
                                Notification.read_at.is_(None))))):
                    started = time.perf_counter()
                    run()
                    timings[name].append((time.perf_counter() - started) * 1e6)
        for name, samples in timings.items():
            print(f"{name:9s} p50 {statistics.median(samples):8.1f} us  p95 {_p95(samples):8.1f} us"
                  f"  ({users} users x {per_user} notifications)")
        poll, base = _p95(timings["poll"]), _p95(timings["count(*)"])
        print(f"notifications: {poll:.1f} us ratio={base / poll:.1f}")


if __name__ == "__main__":
    main()
