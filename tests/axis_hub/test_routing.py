"""Routing across levels in one process: a provincial platform and the national axis, wired
through Flask test clients (the two-process test does the same over real HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from flask import Flask
from sqlalchemy import select

from axis_connector.client import AxisClient, AxisError
from axis_connector.edxml import Organization, StatusCode, parse_document_package, parse_status_package
from axis_connector.hub import create_app, migrate, worker
from axis_connector.hub.models import Forward, System, WorkState
from axis_connector.hub.services import OPERATOR, AgencyInput, add_system, register_agency
from tests.axis_connector.pki import Identity

from .conftest import (
    CA_MAU,
    HUB_ORGAN_ID,
    VPCP,
    FlaskPool,
    hub_config,
    make_document,
    make_status,
    pem,
    sign,
)

NATIONAL_ID = "000.00.00.TRUC"
LGSP_SECRET = "secret-lgsp-camau-0123456789"
VPCP_SECRET = "secret-vpcp-national-0123456789"


def setup_national(url: str, seals: dict[str, Identity]) -> None:
    """The national axis: Cà Mau's platform serves *.H12; the Government Office is connected directly."""
    from axis_connector.hub.db import Database
    from axis_connector.hub.services import HubSettings

    db = Database(url)
    with db.session() as session:
        add_system(session, "lgsp-camau", "LGSP Cà Mau", LGSP_SECRET, organ_patterns="*.H12")
        add_system(session, "sys-vpcp", "VPCP", VPCP_SECRET, register_patterns="*.G*")
        register_agency(session, HubSettings(organ_id=NATIONAL_ID), OPERATOR, AgencyInput(
            VPCP.organ_id, VPCP.organ_name, level="bộ", certificate_pem=pem(seals[VPCP.organ_id]),
            system_id="sys-vpcp"))
        session.commit()
    db.dispose()


@pytest.fixture
def national(tmp_path: Path, root_ca: Identity, seals: dict[str, Identity]) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'national.db'}"
    migrate.upgrade(url)
    setup_national(url, seals)
    app = create_app(hub_config(url, root_ca, ORGAN_ID=NATIONAL_ID, NAME="Trục liên thông quốc gia"))
    yield app
    app.extensions["axis_hub"].db.dispose()


@pytest.fixture
def provincial(app: Flask, national: Flask) -> Flask:
    """The hub of the other tests, now with the national axis upstream and *.H12 as its province."""
    hub = app.extensions["axis_hub"]
    hub.has_upstream = True
    hub.settings = hub.settings.__class__(**{**hub.settings.__dict__, "has_upstream": True,
                                             "served_patterns": ("*.H12",)})
    with hub.db.session() as session:  # VPCP is reached through the national axis, not directly
        from axis_connector.hub.models import Agency
        session.delete(session.get(Agency, VPCP.organ_id))
        session.commit()
    hub._upstream = AxisClient("http://national", "lgsp-camau", LGSP_SECRET,
                               pool=FlaskPool(national.test_client()))
    return app


def test_up_to_the_national_axis_and_a_status_back_down(provincial: Flask, national: Flask,
                                                        clients: dict[str, AxisClient],
                                                        signed_document: bytes,
                                                        seals: dict[str, Identity]) -> None:
    hub = provincial.extensions["axis_hub"]
    vpcp = AxisClient("http://national", "sys-vpcp", VPCP_SECRET, pool=FlaskPool(national.test_client()))
    sent = clients["camau"].send_edoc(signed_document)
    assert len(clients["sotttt"].get_received_edoc_list()) == 1  # same province: served here

    [mine] = clients["camau"].get_sent_edoc_list()
    assert {r.organ_id: r.state for r in mine.recipients}[VPCP.organ_id] == "forwarding"
    assert worker.run_once(hub).forwarded == 1
    assert worker.run_once(hub).total == 0  # forwarded once, and nothing came down yet
    [mine] = clients["camau"].get_sent_edoc_list()
    assert {r.organ_id: r.state for r in mine.recipients}[VPCP.organ_id] == "forwarded"

    [item] = vpcp.get_received_edoc_list()
    assert item.to == (VPCP.organ_id,)
    package = parse_document_package(vpcp.get_edoc(item.message_id).package)
    assert [t.organ_id for t in package.trace] == [CA_MAU.organ_id, HUB_ORGAN_ID, NATIONAL_ID]
    vpcp.update_status(item.message_id, "delivered")

    vpcp.send_edoc(sign(make_status(StatusCode.REGISTERED), seals[VPCP.organ_id]), "status")
    assert worker.run_once(hub).pulled == 1
    [status_item] = clients["camau"].get_received_edoc_list("status")
    status = parse_status_package(clients["camau"].get_edoc(status_item.message_id).package)
    assert status.status is StatusCode.REGISTERED
    assert [t.organ_id for t in status.trace] == [NATIONAL_ID, HUB_ORGAN_ID]
    assert vpcp.get_sent_edoc_list()[0].recipients[0].state == "delivered"  # the platform acknowledged
    assert sent.message_id != item.message_id  # each hub has its own message ids


def test_a_document_sent_twice_reaches_the_national_axis_once(provincial: Flask, national: Flask,
                                                              clients: dict[str, AxisClient],
                                                              signed_document: bytes) -> None:
    hub = provincial.extensions["axis_hub"]
    clients["camau"].send_edoc(signed_document)
    worker.run_once(hub)
    with hub.db.session() as session:  # as if the forwarder crashed after sending, before recording it
        row = session.scalar(select(Forward))
        row.state = WorkState.PENDING
        session.commit()
    worker.run_once(hub)
    vpcp = AxisClient("http://national", "sys-vpcp", VPCP_SECRET, pool=FlaskPool(national.test_client()))
    assert len(vpcp.get_received_edoc_list()) == 1


def test_province_agency_unknown_here_is_refused_not_forwarded(provincial: Flask,
                                                               clients: dict[str, AxisClient],
                                                               seals: dict[str, Identity]) -> None:
    package = make_document(recipients=(Organization("000.00.55.H12", "Sở chưa kết nối"),))
    with pytest.raises(Exception) as info:
        clients["camau"].send_edoc(sign(package, seals[CA_MAU.organ_id]))
    assert getattr(info.value, "code", "") == "unknown_recipient"


def test_national_refusal_marks_the_recipient_failed(provincial: Flask, clients: dict[str, AxisClient],
                                                     seals: dict[str, Identity]) -> None:
    hub = provincial.extensions["axis_hub"]
    package = make_document(recipients=(Organization("000.00.00.G99", "Bộ chưa kết nối"),))
    clients["camau"].send_edoc(sign(package, seals[CA_MAU.organ_id]))  # not of *.H12: goes upstream
    assert worker.run_once(hub).failed == 1
    [mine] = clients["camau"].get_sent_edoc_list()
    [recipient] = mine.recipients
    assert recipient.state == "failed" and "000.00.00.G99" in recipient.reason


class _Down:
    def request(self, *args: object, **kwargs: object) -> None:
        raise urllib3.exceptions.NewConnectionError(None, "connection refused")  # type: ignore[arg-type]


def test_upstream_down_is_retried_with_backoff(provincial: Flask, clients: dict[str, AxisClient],
                                               signed_document: bytes) -> None:
    hub = provincial.extensions["axis_hub"]
    working = hub._upstream
    down = AxisClient("http://national", "lgsp-camau", LGSP_SECRET, pool=_Down())  # type: ignore[arg-type]
    hub._upstream = down
    clients["camau"].send_edoc(signed_document)
    worker.forward_once(hub, worker.WorkReport())
    with hub.db.session() as session:
        row = session.scalar(select(Forward))
        assert (row.state, row.attempts) == (WorkState.PENDING, 1)
        assert row.next_attempt_at > dt.datetime.now(dt.UTC) and "refused" in row.last_error
        row.next_attempt_at = dt.datetime.now(dt.UTC)
        session.commit()
    hub._upstream = working
    assert worker.run_once(hub).forwarded == 1
    with hub.db.session() as session:
        assert session.scalar(select(Forward)).state is WorkState.DONE
        assert session.get(System, "sys-camau") is not None


class _Counting(FlaskPool):
    def __init__(self, app: Flask) -> None:
        super().__init__(app.test_client())
        self.sends = 0

    def request(self, method: str, url: str, **kwargs):
        if url.endswith("/api/sendEdoc"):
            self.sends += 1
        return FlaskPool(self.client.application.test_client()).request(method, url, **kwargs)


def test_two_forwarders_send_each_package_once(provincial: Flask, national: Flask,
                                               clients: dict[str, AxisClient],
                                               seals: dict[str, Identity]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    hub = provincial.extensions["axis_hub"]
    counting = _Counting(national)
    hub._upstream = AxisClient("http://national", "lgsp-camau", LGSP_SECRET, pool=counting)  # type: ignore[arg-type]
    for n in range(6):
        package = make_document(recipients=(VPCP,), document_id=f"000.00.00.H12,2024/05/02,{n}/UBND-VP")
        clients["camau"].send_edoc(sign(package, seals[CA_MAU.organ_id]))

    def drain(_: int) -> int:
        report = worker.WorkReport()
        while worker.forward_once(hub, report):
            pass
        return report.forwarded

    with ThreadPoolExecutor(2) as pool:
        assert sum(pool.map(drain, range(2))) == 6
    assert counting.sends == 6


def test_a_hub_mounted_under_a_prefix_checks_the_full_signed_path(app) -> None:
    """As in `make run`: the hub behind DispatcherMiddleware at /truc/tinh; the client signs
    the path it sends (prefix included) and the hub must check exactly that."""
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from tests.axis_hub.conftest import SECRETS, FlaskPool

    outer = Flask("outer")
    outer.wsgi_app = DispatcherMiddleware(outer.wsgi_app, {"/truc/tinh": app.wsgi_app})
    client = AxisClient("http://host/truc/tinh", "sys-camau", SECRETS["sys-camau"],
                        pool=FlaskPool(outer.test_client()))
    assert any(a.organ_id == CA_MAU.organ_id for a in client.get_agencies_list())
    wrong = AxisClient("http://host/truc/tinh", "sys-camau", "not-the-secret",
                       pool=FlaskPool(outer.test_client()))
    with pytest.raises(AxisError) as exc:
        wrong.get_agencies_list()
    assert exc.value.code == "bad_signature"
