"""Sum py-spy's raw (collapsed) stacks of a server by thread and by area.

    python bench/pyspy_areas.py PREFIX [--top N]

Input: what ``bench/web_cpu.py load --py-spy PREFIX`` wrote: PREFIX.<pid>.raw (``py-spy record
--gil --format raw --threads``: a sample is the thread holding the GIL, i.e. running Python;
threads waiting on the database or the network have released it) and PREFIX.threads.json (each
thread's CPU seconds from /proc over the same time, named through py-spy's thread ids).
First the CPU by thread kind (gunicorn's request threads, its main loop, each background thread
by name); then each sample is counted for its thread's kind and
- **own time**: by the area of its innermost frame (the code actually running);
- **cumulative**: once for each area present in its stack, and once for each *mark* (a step of
  the request such as the login or the limiter, found by a frame's name).
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import re

AREAS = [  # the first that matches the frame wins
    ("gunicorn", r"gunicorn/"),
    ("prometheus metrics", r"prometheus_client/"),
    ("logging", r"logging/__init__|ioffice/logs\.py"),
    ("Flask-Limiter", r"flask_limiter/|/limits/"),
    ("session cookie (itsdangerous, flask/sessions)", r"itsdangerous/|flask/sessions\.py"),
    ("CSRF (flask_wtf)", r"flask_wtf/|wtforms/"),
    ("Flask-Login", r"flask_login/"),
    ("templates (jinja2, *.html)", r"jinja2/|\.html:|markupsafe/"),
    ("psycopg", r"psycopg/|psycopg_pool/"),
    ("SQLAlchemy", r"sqlalchemy/"),
    ("werkzeug", r"werkzeug/"),
    ("flask", r"/flask/|\(flask/"),
    ("ioffice", r"ioffice/|signing/|axis_connector/"),
    ("gc", r"<gc>|garbage"),
    ("stdlib and others", r"."),
]
MARKS = {  # step of a request: a frame whose text contains this
    "gunicorn: parse the request": "gunicorn/http/",
    "gunicorn: handle (whole request)": "ThreadWorker.handle ",
    "gunicorn: write the response": "gunicorn/http/wsgi.py",
    "werkzeug/flask: request context, routing": "RequestContext.push",
    "before_request hooks": "preprocess_request",
    "login (web/auth.py _load)": "web/auth.py",
    "Flask-Limiter": "flask_limiter/",
    "CSRF": "flask_wtf/",
    "view (dispatch_request)": "Flask.dispatch_request",
    "templates (render_template)": "render_template",
    "after_request hooks": "process_response",
    "request log + metrics (logs.py)": "ioffice/logs.py",
    "prometheus": "prometheus_client/",
    "session save": "save_session",
    "teardown": "do_teardown",
    "SQL (SQLAlchemy execute)": "Session.execute",
    "commit": "commit",
    "psycopg": "psycopg/",
    "garbage collection": "<gc>",
}


def thread_kind(name: str, frames: list[str]) -> str:
    if name.startswith("ThreadPoolExecutor"):
        return "request threads (gthread pool)"
    if any("gunicorn/" in f for f in frames[:4]):
        return "main thread (gunicorn's loop)"
    return "background: " + re.sub(r"[-_]?\d+$", "", name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prefix")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    areas = [(a, re.compile(r)) for a, r in AREAS]

    def area(frame: str) -> str:
        return next(a for a, r in areas if r.search(frame))

    kinds: collections.Counter[str] = collections.Counter()
    own = collections.defaultdict(collections.Counter)
    cum = collections.defaultdict(collections.Counter)
    marks = collections.defaultdict(collections.Counter)
    leaves = collections.defaultdict(collections.Counter)
    tid_kind: dict[str, str] = {}
    for path in sorted(glob.glob(f"{args.prefix}.*.raw")):
        with open(path) as fh:
            for line in fh:
                if not line.strip():
                    continue
                stack, count = line.rstrip("\n").rsplit(" ", 1)
                n = int(count)
                head, *frames = stack.split(";")
                name = head.split(": ", 1)[1] if ": " in head else head
                kind = thread_kind(name, frames)
                tid = re.search(r"\((\d+|0x[0-9a-f]+)\)", head)
                if tid:
                    tid_kind[str(int(tid.group(1), 0))] = kind
                kinds[kind] += n
                own[kind][area(frames[-1]) if frames else "?"] += n
                leaves[kind][re.sub(r"\(.*site-packages/", "(", frames[-1]) if frames else "?"] += n
                for a in {area(f) for f in frames}:
                    cum[kind][a] += n
                for mark, text in MARKS.items():
                    if any(text in f for f in frames):
                        marks[kind][mark] += n
    try:
        with open(f"{args.prefix}.threads.json") as fh:
            cpu = json.load(fh)
    except FileNotFoundError:
        cpu = {}
    if cpu:
        by_kind: collections.Counter[str] = collections.Counter()
        for tid, seconds in cpu.items():
            by_kind[tid_kind.get(tid, "threads py-spy did not see holding the GIL")] += seconds
        all_cpu = sum(by_kind.values())
        print(f"CPU of the workers' threads (/proc): {all_cpu:.2f} s")
        for kind, seconds in by_kind.most_common():
            print(f"  {seconds:7.2f} s  {100 * seconds / all_cpu:5.1f} %  {kind}")
    total = sum(kinds.values())
    print(f"\n{total} samples holding the GIL")
    for kind, n in kinds.most_common():
        print(f"\n== {kind}: {n} samples, {100 * n / total:.1f} % of all")
        for title, counter in (("own time by area (innermost frame)", own[kind]),
                               ("cumulative by area", cum[kind]),
                               ("cumulative by step", marks[kind]),
                               ("innermost frames", leaves[kind])):
            if not counter:
                continue
            print(f"  {title}:")
            for key, m in counter.most_common(args.top):
                print(f"    {100 * m / n:5.1f} %  {key}")


if __name__ == "__main__":
    main()
