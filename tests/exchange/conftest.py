"""A deployment wired to a provincial platform and the national axis, in one process.

The hubs are real ``axis_connector.hub`` apps on their own SQLite files, reached through Flask
test clients; the ioffice app runs in the test's rolled-back transaction. ``pump()`` runs the
exchange worker and both hubs' forwarders until nothing moves.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from axis_connector.client import AxisClient
from axis_connector.hub import create_app as create_hub
from axis_connector.hub import migrate as hub_migrate
from axis_connector.hub import worker as hub_worker
from ioffice.agencies.models import Agency
from ioffice.documents.vocabulary import Confidentiality, Urgency
from ioffice.exchange import OutgoingEdoc, exchange, install_listeners
from ioffice.exchange import federation as fed
from ioffice.exchange.runtime import Exchange
from ioffice.exchange.sending import WorkReport
from ioffice.exchange.worker import refresh_directory, run_once
from ioffice.incoming.registration import today_vn
from ioffice.keys.service import seal_credential
from signing import Pki, sign_pdf
from signing.demo import make_text_pdf
from tests.support.factories import doc_number
from tests.support.flask_pool import FlaskPool

BNV, VPCP, CA_MAU, U_MINH = "000.00.00.G09", "000.00.00.G22", "000.00.00.H12", "000.00.21.H12"
RUN_ID = uuid.uuid4().hex[:8]


def mid(name: str) -> str:
    """The message id ``name`` of this test process. Receipt takes a PostgreSQL advisory lock
    per (hub, message id), held until the test's transaction rolls back: two xdist workers on
    one database using the same id at once made one of them skip the message (seen in CI)."""
    return f"{name}-{RUN_ID}"


@pytest.fixture(scope="session")
def hub_templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Migrated empty hub databases, copied for each test."""
    root = tmp_path_factory.mktemp("hub-templates")
    paths = root / "provincial.db", root / "national.db"
    for path in paths:
        hub_migrate.upgrade(f"sqlite:///{path}")
    return paths


@dataclass
class Federation:
    app: Flask
    rt: Exchange
    provincial: Flask
    national: Flask
    pki: Pki

    def pump(self, rounds: int = 30) -> WorkReport:
        total = WorkReport()
        for _ in range(rounds):
            moved = 0
            report = run_once(self.rt)
            for name in ("sent", "retried", "dead", "received", "statuses", "refused"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            moved += report.sent + report.received + report.statuses + report.refused + report.dead
            for hub_app in (self.provincial, self.national):
                moved += hub_worker.run_once(hub_app.extensions["axis_hub"]).total
            if moved == 0:
                break
        return total


@pytest.fixture
def federation(app: Flask, db: Session, pki: Pki, tmp_path: Path,
               hub_templates: tuple[Path, Path]) -> Iterator[Federation]:
    install_listeners()
    prov_path, nat_path = tmp_path / "provincial.db", tmp_path / "national.db"
    shutil.copy(hub_templates[0], prov_path)
    shutil.copy(hub_templates[1], nat_path)
    secrets = fed.Secrets.generate()
    fed.bootstrap(f"sqlite:///{prov_path}", f"sqlite:///{nat_path}", secrets,
                  fed.agency_cards(db, pki), migrate=False)
    prov_cfg, nat_cfg = fed.hub_configs(f"sqlite:///{prov_path}", f"sqlite:///{nat_path}",
                                        "http://national", secrets, pki)
    national = create_hub({**nat_cfg, "TESTING": True, "MAX_PACKAGE_MB": 2})
    provincial = create_hub({**prov_cfg, "TESTING": True, "MAX_PACKAGE_MB": 2})
    provincial.extensions["axis_hub"]._upstream = AxisClient(
        "http://national", "lgsp-camau", secrets.platform, pool=FlaskPool(national.test_client()))
    app.config["EXCHANGE_HUBS"] = fed.exchange_hubs("http://provincial", "http://national", secrets)
    app.config["EXCHANGE_BACKOFF_SECONDS"] = 0
    rt = exchange(app)
    pools = {fed.PROVINCIAL: FlaskPool(provincial.test_client()),
             fed.NATIONAL: FlaskPool(national.test_client())}
    for hub in rt.hubs:
        rt.clients[hub.name] = AxisClient(hub.url, hub.system_id, hub.secret, pool=pools[hub.name])
    refresh_directory(rt)
    yield Federation(app, rt, provincial, national, pki)
    for hub_app in (provincial, national):
        hub_app.extensions["axis_hub"].db.dispose()


def agency(db: Session, code: str) -> Agency:
    from sqlalchemy import select

    return db.scalars(select(Agency).where(Agency.code == code)).one()


def signed_pdf(db: Session, pki: Pki, agency_id: int, text: str = "Công văn đề nghị báo cáo") -> bytes:
    credential = seal_credential(db, pki, agency_id)
    return sign_pdf(make_text_pdf([text]), credential, trust=pki.trust_store())


def outgoing(db: Session, fed_: Federation, sender: str = BNV, recipients: tuple[str, ...] = (CA_MAU, U_MINH),
             *, pdf: bytes | None = None, **changes: Any) -> OutgoingEdoc:
    sender_agency = agency(db, sender)
    data = pdf if pdf is not None else signed_pdf(db, fed_.pki, sender_agency.id)
    info = fed_.rt.blobs.put_bytes(data)
    number = doc_number()
    today = today_vn()
    values: dict[str, Any] = dict(
        sender_agency_id=sender_agency.id,
        document_identifier=f"{sender},{today:%Y/%m/%d},{number}/BNV-CCHC",
        number=number, notation="BNV-CCHC", promulgation_date=today - dt.timedelta(days=1),
        place="Hà Nội", doc_type_code="cong_van",
        subject="V/v báo cáo kết quả cải cách hành chính năm 2026", content="",
        signer_full_name="Trần Anh Tuấn", signer_position="Thứ trưởng",
        signer_competence="KT. BỘ TRƯỞNG", urgency=Urgency.URGENT,
        confidentiality=Confidentiality.NORMAL, due_date=today + dt.timedelta(days=10),
        page_count=1, recipients=recipients, files=(("cong-van.pdf", info.sha256),),
        staff_name="Nguyễn Văn Thư", staff_department="Văn phòng Bộ")
    values.update(changes)
    return OutgoingEdoc(**values)
