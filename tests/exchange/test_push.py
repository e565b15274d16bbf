"""Push (docs/exchange.md "Push"): a dispatch wakes the sender's worker, the hubs' signed
notifications wake the recipients', polling stays the fallback, and a notification that is
not the hub's, or names someone else's agency, wakes nothing.

The worker runs in a thread with a poll interval of a minute: whatever arrives within a few
seconds came by push. The test's own session waits while the worker works (they share the
test's connection)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import urllib3
from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.client.signing import sign_headers
from axis_connector.hub import directory
from axis_connector.hub.models import Notification, System, WorkState
from ioffice.exchange import dispatch
from ioffice.exchange import worker as exchange_worker
from ioffice.exchange.sending import WorkReport
from ioffice.exchange.wake import Waker
from ioffice.incoming.registration import today_vn
from tests.support.flask_pool import FlaskPool

from .conftest import BNV, CA_MAU, U_MINH, Federation, outgoing
from .test_flow import CTX, received

CALLBACK = "http://ioffice.test/lien-thong/thong-bao"
POLL = 60.0


@pytest.fixture
def pushing(federation: Federation) -> Federation:
    """Both hubs push to the app (through its test client) and forward right after commit."""
    for hub_app in (federation.provincial, federation.national):
        hub = hub_app.extensions["axis_hub"]
        hub_app.config.update(PUSH_INLINE=True, FORWARD_INLINE=True)
        hub.push_pool = FlaskPool(federation.app.test_client())
        with hub.db.session() as session:
            for system in session.scalars(select(System).where(System.id.like("ioffice-%"))):
                system.base_url = CALLBACK
            directory.bump(session)
            session.commit()
    federation.rt.callback_url = CALLBACK
    return federation


class Rounds:
    """The worker's rounds, as they end (run_once wrapped)."""

    def __init__(self) -> None:
        self.reports: list[WorkReport] = []
        self.changed = threading.Condition()

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.reports), timeout)

    def stop(self) -> None:
        """End the worker before the test's session reads again (they share one connection)."""
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive()


@pytest.fixture
def running(pushing: Federation, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rounds]:
    rounds = Rounds()
    real = exchange_worker.run_once

    def recorded(rt, **kwargs) -> WorkReport:
        report = real(rt, **kwargs)
        with rounds.changed:
            rounds.reports.append(report)
            rounds.changed.notify_all()
        return report

    monkeypatch.setattr(exchange_worker, "run_once", recorded)
    rounds._thread, rounds._stop = exchange_worker.start_background(pushing.rt, interval=POLL)
    try:
        assert rounds.wait_for(lambda r: r and r[-1].total == 0, 60), "the worker's first round"
        time.sleep(0.2)  # now it sleeps on its poll interval
        yield rounds
    finally:
        rounds.stop()


def _received_total(reports: list[WorkReport]) -> int:
    return sum(r.received for r in reports)


def test_a_dispatched_document_reaches_every_recipient_before_the_poll(
        db: Session, pushing: Federation, running: Rounds) -> None:
    edoc = outgoing(db, pushing, sender=CA_MAU, recipients=(BNV, U_MINH),
                    document_identifier=f"{CA_MAU},{today_vn():%Y/%m/%d},88/UBND-VP",
                    notation="UBND-VP", number="88")
    dispatch(db, CTX, edoc)
    started = time.monotonic()
    db.commit()  # wakes the worker: it sends; the provincial hub forwards to the national one,
    # which pushes to this deployment for the Ministry (U Minh's copy: the same round's poll)
    assert running.wait_for(lambda r: _received_total(r) >= 2, 15), "not received by push"
    assert time.monotonic() - started < POLL / 4
    running.stop()
    db.expire_all()
    assert len(received(db, BNV, edoc.document_identifier)) == 1
    assert len(received(db, U_MINH, edoc.document_identifier)) == 1
    national = pushing.national.extensions["axis_hub"]
    with national.db.session() as session:  # the Ministry's copy was announced by a push
        states = set(session.scalars(select(Notification.state)))
    assert WorkState.DONE in states


class _Down:
    """The recipient deployment, unreachable from the hub."""

    def request(self, *args, **kwargs):
        raise urllib3.exceptions.ConnectTimeoutError(None, "timed out")


def test_a_failed_push_falls_back_to_polling(db: Session, pushing: Federation,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    national = pushing.national.extensions["axis_hub"]
    national.push_pool = _Down()
    rounds: list[WorkReport] = []
    real = exchange_worker.run_once
    monkeypatch.setattr(exchange_worker, "run_once",
                        lambda rt, **kw: rounds.append(real(rt, **kw)) or rounds[-1])
    thread, stop = exchange_worker.start_background(pushing.rt, interval=0.5)
    try:
        edoc = outgoing(db, pushing, sender=CA_MAU, recipients=(BNV,),
                        document_identifier=f"{CA_MAU},{today_vn():%Y/%m/%d},89/UBND-VP",
                        notation="UBND-VP", number="89")
        while not rounds:
            time.sleep(0.05)
        dispatch(db, CTX, edoc)
        db.commit()
        deadline = time.monotonic() + 20
        while _received_total(rounds) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert _received_total(rounds) == 1  # by the poll
    with national.db.session() as session:
        [row] = session.scalars(select(Notification))
        assert row.state is WorkState.PENDING and row.attempts == 1 and "timed out" in row.last_error
    db.expire_all()
    assert len(received(db, BNV, edoc.document_identifier)) == 1


def _post(fed_: Federation, hub_name: str, body: dict | bytes, *, secret: str | None = None,
          system_id: str | None = None, now: float | None = None, headers: dict | None = None):
    hub = fed_.rt.hub_named(hub_name) or fed_.rt.hubs[0]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = f"/lien-thong/thong-bao/{hub_name}"
    signed = sign_headers(secret or hub.secret, "POST", path, system_id or hub.system_id, data, now=now)
    return fed_.app.test_client().post(path, data=data, headers={
        "Content-Type": "application/json", **signed, **(headers or {})})


def _note(system_id: str, *organ_ids: str) -> dict:
    return {"event": "edoc_available", "message_id": "m-1", "system_id": system_id,
            "organ_ids": list(organ_ids), "axis": "test"}


@pytest.fixture
def waker(pushing: Federation) -> Iterator[Waker]:
    waker = Waker(pushing.rt.database_key).start()
    yield waker
    waker.close()


def test_a_forged_notification_is_refused_and_wakes_nothing(pushing: Federation, waker: Waker) -> None:
    tinh = "ioffice-camau"
    cases = {
        "no signature": pushing.app.test_client().post("/lien-thong/thong-bao/tinh",
                                                       json=_note(tinh, U_MINH)),
        "wrong secret": _post(pushing, "tinh", _note(tinh, U_MINH), secret="x" * 32),
        "another system": _post(pushing, "tinh", _note(tinh, U_MINH), system_id="ioffice-trunguong"),
        "stale": _post(pushing, "tinh", _note(tinh, U_MINH), now=time.time() - 3600),
        "unknown hub": _post(pushing, "khong-co", _note(tinh, U_MINH)),
        "changed body": _post(pushing, "tinh", _note(tinh, U_MINH),
                              headers={"X-Axis-Signature": "0" * 64}),
        "not a notification": _post(pushing, "tinh", {"event": "edoc_available"}),
    }
    statuses = {name: response.status_code for name, response in cases.items()}
    assert statuses == {"no signature": 401, "wrong secret": 401, "another system": 401, "stale": 401,
                        "unknown hub": 404, "changed body": 401, "not a notification": 400}
    assert not waker.event.is_set()
    data = json.dumps(_note(tinh, U_MINH)).encode()
    path = "/lien-thong/thong-bao/tinh"
    hub = pushing.rt.hub_named("tinh")
    signed = sign_headers(hub.secret, "POST", path, hub.system_id, data)
    good = pushing.app.test_client().post(path, data=data, headers=signed)
    assert good.status_code == 202 and waker.event.is_set()
    waker.event.clear()
    replay = pushing.app.test_client().post(path, data=data, headers=signed)
    assert replay.status_code == 401 and not waker.event.is_set()


def test_a_notification_for_another_agency_is_refused(pushing: Federation, waker: Waker) -> None:
    # the Ministry is not reached through the provincial platform here
    response = _post(pushing, "tinh", _note("ioffice-camau", U_MINH, BNV))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "agency_not_yours"
    assert not waker.event.is_set()


def test_a_push_storm_makes_one_pull_at_a_time(pushing: Federation, running: Rounds) -> None:
    in_flight, most, polls = [0], [0], [0]
    lock = threading.Lock()
    for hub in pushing.rt.hubs:
        client = pushing.rt.clients[hub.name]
        real = client.get_received_edoc_list

        def counted(*args, _real=real, **kwargs):
            with lock:
                in_flight[0] += 1
                polls[0] += 1
                most[0] = max(most[0], in_flight[0])
            try:
                time.sleep(0.05)  # a pull that takes a while, while the storm goes on
                return _real(*args, **kwargs)
            finally:
                with lock:
                    in_flight[0] -= 1

        client.get_received_edoc_list = counted  # type: ignore[method-assign]
    before = len(running.reports)
    answers: list[int] = []

    def notify() -> None:
        answers.append(_post(pushing, "tinh", _note("ioffice-camau", U_MINH)).status_code)

    storm = [threading.Thread(target=notify) for _ in range(40)]
    for thread in storm:
        thread.start()
    for thread in storm:
        thread.join()
    assert answers == [202] * 40
    running.wait_for(lambda r: len(r) > before and r[-1].total == 0, 10)
    time.sleep(1.0)
    assert most[0] == 1
    rounds = len(running.reports) - before
    assert 1 <= rounds <= 4 and polls[0] == rounds * len(pushing.rt.hubs)


def test_a_commit_in_another_process_wakes_the_worker() -> None:
    """gunicorn's other worker process commits a dispatch: the wake crosses by the socket."""
    import subprocess
    import sys
    import uuid

    key = f"sqlite:////tmp/test-wake-{uuid.uuid4().hex}.db"
    waker = Waker(key).start()
    try:
        assert waker._owned  # the worker listens on the deployment's socket
        code = "import sys; from ioffice.exchange.wake import notify; notify(sys.argv[1])"
        subprocess.run([sys.executable, "-c", code, key], check=True, timeout=60)
        assert waker.event.wait(5)
        other = Waker(key).start()  # a second worker of the same database: in-process wakes only
        assert not other._owned
        other.close()
    finally:
        waker.close()
    assert not waker.path.exists()
