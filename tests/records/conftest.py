"""A year of records for Cà Mau: an approved list with two headings and dossiers, kept by the
specialist, who has a PIN key (as the demo archivist has)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, User
from ioffice.demo import DEMO_PIN
from ioffice.keys import service as keys
from ioffice.records import service as records
from ioffice.records.models import Dossier, FileList
from signing import Pki, TrustStore
from tests.support.factories import actor, user_id

CLERK, LEADER, KEEPER, ARCHIVIST = ("vanthu.camau", "lanhdao.camau", "chuyenvien.camau",
                                    "luutru.camau")
TODAY = dt.date(2026, 12, 4)


@pytest.fixture
def trust(pki: Pki) -> TrustStore:
    return pki.trust_store()


@pytest.fixture
def keeper_key(db: Session, pki: Pki):
    keeper = actor(db, KEEPER)
    return keys.issue_pin_key(db, pki, keeper.ctx, db.get(User, keeper.user_id),
                              db.get(Agency, keeper.agency_id), DEMO_PIN, key_type="ec")


@dataclass
class Year:
    file_list: FileList
    dossier: Dossier
    other: Dossier


def make_year(db: Session, year: int = 2026, *, approve: bool = True) -> Year:
    clerk = actor(db, CLERK)
    flist = records.create_list(db, clerk, str(year), TODAY)
    top = records.add_heading(db, clerk, flist.id, "Tổ chức, cán bộ", "TCCB")
    sub = records.add_heading(db, clerk, flist.id, "Tuyển dụng", parent_id=top.id)
    records.add_heading(db, clerk, flist.id, "Văn phòng", "VP")
    keeper = str(user_id(db, KEEPER))
    one = records.add_dossier(db, clerk, flist.id, records.DossierInput(
        heading_id=str(sub.id), number="1", title="Hồ sơ tuyển dụng công chức năm 2026",
        retention="vinh-vien", keeper_id=keeper, year=str(year)))
    two = records.add_dossier(db, clerk, flist.id, records.DossierInput(
        heading_id=str(top.id), number="2", title="Báo cáo thống kê số lượng cán bộ",
        retention="20", keeper_id=keeper))
    if approve:
        records.approve_list(db, actor(db, LEADER), flist.id, "Quyết định số 12/QĐ-UBND")
    db.flush()
    return Year(flist, one, two)
