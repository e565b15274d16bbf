"""/metrics: absent unless a token is configured, refused without it, and with it the request
latencies by route, the audited actions by tag and the queues read from the database."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import login
from tests.incoming.test_web import _form

TOKEN = "metrics-test-token-0123456789"


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    assert match, f"{sample} not in the scrape"
    return float(match.group(1))


def test_metrics_do_not_exist_without_a_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_refuse_a_wrong_or_missing_token(app: Flask, client: FlaskClient) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and "ioffice_" not in wrong.get_data(as_text=True)


def test_metrics_count_requests_actions_and_queues(app: Flask, client: FlaskClient) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = client.get("/metrics", headers=auth).get_data(as_text=True)
    sample = 'ioffice_request_duration_seconds_count{method="GET",route="/dang-nhap",status="2xx"}'
    had = _value(before, sample) if sample in before else 0.0
    for _ in range(3):
        client.get("/dang-nhap")
    login(client, "vanthu.camau")
    after = client.get("/metrics", headers=auth)
    assert after.status_code == 200 and after.mimetype == "text/plain"
    text = after.get_data(as_text=True)
    assert _value(text, sample) == had + 4  # three pages and the login's form fetch
    assert _value(text, "ioffice_outbox_pending") >= 0
    assert _value(text, "ioffice_outbox_dead_letters") >= 0
    assert _value(text, "ioffice_outbox_oldest_pending_seconds") >= 0
    assert "# TYPE ioffice_outgoing_documents gauge" in text
    registered = 'ioffice_incoming_documents{status="registered"}'
    had = _value(text, registered) if registered in text else 0.0
    resp = client.post("/van-ban-den/vao-so", data=_form(client),
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    text = client.get("/metrics", headers=auth).get_data(as_text=True)
    assert _value(text, registered) == had + 1


def test_audited_actions_are_counted_when_they_commit(app: Flask, client: FlaskClient) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    auth = {"Authorization": f"Bearer {TOKEN}"}
    sample = 'ioffice_actions_total{tag="incoming:document:register"}'
    failed = 'ioffice_actions_total{tag="auth:session:login-failed"}'
    before = client.get("/metrics", headers=auth).get_data(as_text=True)
    had = _value(before, sample) if sample in before else 0.0
    had_failed = _value(before, failed) if failed in before else 0.0
    login(client, "vanthu.camau", "sai-mat-khau")
    login(client, "vanthu.camau")
    for _ in range(2):
        resp = client.post("/van-ban-den/vao-so", data=_form(client),
                           content_type="multipart/form-data")
        assert resp.status_code == 302
    refused = client.post("/van-ban-den/vao-so", data={**_form(client), "subject": ""},
                          content_type="multipart/form-data")
    assert refused.status_code == 422  # rolled back: nothing recorded, nothing counted
    text = client.get("/metrics", headers=auth).get_data(as_text=True)
    assert _value(text, sample) == had + 2
    assert _value(text, failed) == had_failed + 1
