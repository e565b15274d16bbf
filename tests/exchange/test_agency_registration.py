"""An agency created on the admin page becomes reachable over the axis: it is registered on
its hub at once (or by the worker when the hub could not be reached), with its seal."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.client import AxisClient
from ioffice.audit import AuditContext
from ioffice.exchange import dispatch
from ioffice.exchange.worker import register_agencies
from ioffice.incoming.models import IncomingDocument
from tests.conftest import csrf_token, login

from .conftest import BNV, Federation, agency, outgoing

PAGE = "/quan-tri/co-quan"
KHANH_HOI = {"code": "000.03.21.H12", "name": "Ủy ban nhân dân xã Khánh Hội", "short_name": "UBND",
             "parent_code": "000.00.21.H12", "address": "", "email": "", "phone": "", "fax": "",
             "website": ""}


def _hub_entry(federation: Federation, code: str):
    client = federation.rt.client(federation.rt.hub_named("tinh"))
    return next((a for a in client.get_agencies_list() if a.organ_id == code), None)


def _create(client: FlaskClient, **changes: str):
    assert login(client, "vanthu.camau").status_code == 302
    return client.post(PAGE, data={**KHANH_HOI, **changes, "csrf_token": csrf_token(client, PAGE)})


def test_a_new_commune_is_registered_on_the_provincial_hub_and_receives_documents(
        client: FlaskClient, db: Session, federation: Federation) -> None:
    assert _hub_entry(federation, "000.03.21.H12") is None
    response = _create(client)
    assert response.status_code == 302
    assert "Đã cập nhật cơ quan vào danh bạ trục liên thông." in client.get(PAGE).get_data(as_text=True)

    entry = _hub_entry(federation, "000.03.21.H12")
    assert entry is not None and entry.system_id == "ioffice-camau"
    assert entry.parent_id == "000.00.21.H12" and entry.certificate_pem  # its seal, pinned
    assert register_agencies(federation.rt) == []  # nothing left to do: idempotent

    row = dispatch(db, AuditContext(None, None, "test"),
                   outgoing(db, federation, sender=BNV, recipients=("000.03.21.H12",)))[0]
    db.commit()
    federation.pump()
    khanh_hoi = agency(db, "000.03.21.H12")
    [arrived] = db.scalars(select(IncomingDocument).where(IncomingDocument.agency_id == khanh_hoi.id))
    assert arrived.document_identifier == row.document_identifier


def test_a_renamed_agency_is_updated_on_its_hub(client: FlaskClient, db: Session,
                                               federation: Federation) -> None:
    _create(client)
    created = agency(db, "000.03.21.H12")
    edit = f"{PAGE}/{created.id}"
    response = client.post(edit, data={**KHANH_HOI, "name": "Ủy ban nhân dân xã Khánh Hội (mới)",
                                       "csrf_token": csrf_token(client, edit)})
    assert response.status_code == 302
    assert _hub_entry(federation, "000.03.21.H12").name == "Ủy ban nhân dân xã Khánh Hội (mới)"


def test_when_the_hub_is_down_the_agency_is_created_and_the_worker_registers_it_later(
        client: FlaskClient, db: Session, federation: Federation) -> None:
    class Down:
        def request(self, *a, **k):
            import urllib3
            raise urllib3.exceptions.NewConnectionError(None, "connection refused")

    hub = federation.rt.hub_named("tinh")
    working = federation.rt.clients["tinh"]
    federation.rt.clients["tinh"] = AxisClient(hub.url, hub.system_id, hub.secret, pool=Down())
    assert _create(client).status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Chưa cập nhật được cơ quan vào danh bạ trục liên thông" in page
    assert agency(db, "000.03.21.H12") is not None

    federation.rt.clients["tinh"] = working  # the hub is back: the worker's next round
    assert register_agencies(federation.rt) == ["000.03.21.H12"]
    assert _hub_entry(federation, "000.03.21.H12") is not None


def test_a_refusal_by_the_hub_is_shown_and_does_not_stop_the_others(
        client: FlaskClient, db: Session, federation: Federation, monkeypatch) -> None:
    from axis_connector.client import AxisError

    hub_client = federation.rt.client(federation.rt.hub_named("tinh"))
    real = hub_client.register_agency

    def register(code: str, *args, **kwargs):
        if code == "000.03.21.H12":
            raise AxisError("certificate_mismatch", "chứng thư số cấp cho cơ quan khác", 400)
        return real(code, *args, **kwargs)

    monkeypatch.setattr(hub_client, "register_agency", register)
    assert _create(client).status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Trục liên thông từ chối đăng ký cơ quan: chứng thư số cấp cho cơ quan khác" in page
    assert _hub_entry(federation, "000.03.21.H12") is None

    other = {**KHANH_HOI, "code": "000.04.21.H12", "name": "Ủy ban nhân dân xã Khánh Tiến"}
    assert client.post(PAGE, data={**other, "csrf_token": csrf_token(client, PAGE)}).status_code == 302
    refused: dict[str, str] = {}
    assert register_agencies(federation.rt, refused=refused) == []  # Khánh Tiến went at once
    assert set(refused) == {"000.03.21.H12"} and _hub_entry(federation, "000.04.21.H12") is not None
