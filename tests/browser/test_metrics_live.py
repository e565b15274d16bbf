"""/metrics under gunicorn as `make run` serves it (2 workers x 4 threads, the hooks' config):
the workers' counts add up in one scrape (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import re
import urllib.request

from tests.browser.conftest import METRICS_TOKEN, AxisServer


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read().decode()


def _count(text: str) -> float:
    match = re.search(r'^ioffice_request_duration_seconds_count\{method="GET",'
                      r'route="/healthz",status="2xx"\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def test_both_workers_counts_add_up_in_one_scrape(axis_server: AxisServer) -> None:
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    _, before = _get(f"{axis_server.url}/metrics", auth)
    for _ in range(40):  # new connections: gunicorn hands them to both workers
        assert _get(f"{axis_server.url}/healthz")[0] == 200
    totals = set()
    for _ in range(6):  # whichever worker answers the scrape, it reports both workers' counts
        status, text = _get(f"{axis_server.url}/metrics", auth)
        assert status == 200
        totals.add(_count(text) - _count(before))
    assert totals == {40.0}
    assert "ioffice_outbox_pending " in text and "ioffice_outbox_dead_letters " in text
