"""Prometheus metrics at ``/metrics`` (prometheus-client).

Two kinds:
- **counted in the process** as things happen: request latency by route, actions by audit tag
  (signatures, seals, validations' verdicts, failed logins... every audited action is one),
  exchange end-to-end latency. Under gunicorn each worker counts in its own files of
  ``PROMETHEUS_MULTIPROC_DIR`` and a scrape adds them up (prometheus-client's multiprocess
  mode; the gunicorn config clears the folder at start and marks a dead worker's files).
- **read from the database at scrape time**: outbox depth and its oldest row's age, dead
  letters, documents per state of the incoming and outgoing queues. One GROUP BY per table
  over indexed columns; every host answers the same figures, so scrape one.

``METRICS_TOKEN`` protects the page: unset, ``/metrics`` does not exist (404); set, a scrape
must send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "ioffice_request_duration_seconds", "Time to answer a request, by route and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ACTIONS = Counter("ioffice_actions_total",
                  "Audited actions by tag (signatures, seals, validations, failed logins...).",
                  ["tag"])
VALIDATIONS = Counter("ioffice_signature_validations_total",
                      "PDF signature validations of received documents, by verdict.", ["verdict"])
EXCHANGE_SECONDS = Histogram(
    "ioffice_exchange_delivery_seconds",
    "From the sender's dispatch to the document waiting for registration at the recipient.",
    buckets=(0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0))


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route or "(none)", method, f"{status // 100}xx").observe(seconds)


def count_actions(tags: list[str]) -> None:
    for tag in tags:
        ACTIONS.labels(tag).inc()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/metrics")
def scrape() -> Response:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return Response("unauthorized\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry()
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    queues = CollectorRegistry()
    queues.register(QueueCollector())
    return Response(body + generate_latest(queues), mimetype=CONTENT_TYPE_LATEST)


class QueueCollector(Collector):
    """What is waiting, read at scrape time in one short read transaction."""

    def collect(self) -> Iterator[Metric]:
        from ioffice.db_session import get_session
        from ioffice.exchange.models import ExchangeOutbox, OutboxState
        from ioffice.incoming.models import IncomingDocument
        from ioffice.outgoing.models import OutgoingDocument

        session = get_session()
        now = time.time()
        outbox = {state: (count, oldest) for state, count, oldest in session.execute(
            select(ExchangeOutbox.state, func.count(), func.min(ExchangeOutbox.created_at))
            .group_by(ExchangeOutbox.state))}
        depth = GaugeMetricFamily("ioffice_outbox_pending", "Packages waiting to be sent.")
        pending, oldest = outbox.get(OutboxState.PENDING, (0, None))
        depth.add_metric([], pending)
        yield depth
        age = GaugeMetricFamily("ioffice_outbox_oldest_pending_seconds",
                                "Age of the oldest package waiting to be sent (0: none).")
        age.add_metric([], max(0.0, now - oldest.timestamp()) if oldest else 0.0)
        yield age
        dead = GaugeMetricFamily("ioffice_outbox_dead_letters",
                                 "Packages given up on, waiting for the clerk.")
        dead.add_metric([], outbox.get(OutboxState.DEAD, (0, None))[0])
        yield dead
        for name, model, doc in (("ioffice_incoming_documents", IncomingDocument,
                                  "Incoming documents by state."),
                                 ("ioffice_outgoing_documents", OutgoingDocument,
                                  "Outgoing documents by state.")):
            family = GaugeMetricFamily(name, doc, labels=["status"])
            for status, count in session.execute(
                    select(model.status, func.count()).group_by(model.status)):
                family.add_metric([str(getattr(status, "value", status))], count)
            yield family
        session.rollback()  # a read: end it now, not when the request ends
