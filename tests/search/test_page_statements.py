"""The search page costs as many SQL statements for one result as for a page of them (the
outgoing results' drafting units loaded with them), and counts nothing over all matches: a
page is cut by LIMIT and a key, however many documents match."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from ioffice.storage import BlobStore
from tests.outgoing.conftest import new_draft
from tests.support.factories import actor, department
from tests.support.statements import page_statements


def test_the_search_page_costs_the_same_statements_for_one_result_or_many(
        db: Session, blobs: BlobStore, make_doc, login_as) -> None:
    clerk = actor(db, "vanthu.camau")
    new_draft(db, blobs, subject="Kế hoạch đếmcâulệnh năm 2027")
    make_doc(clerk.agency_id, "Công văn đếmcâulệnh số 0")
    client = login_as("vanthu.camau")
    path = "/tim-kiem?q=demcaulenh"
    client.get(path)  # warm
    few = page_statements(db, client, path)
    for k, unit in enumerate(("VP", "TTTT", "SNV", "KT")):
        doc = new_draft(db, blobs, subject=f"Kế hoạch đếmcâulệnh của đơn vị {unit}")
        doc.drafting_department_id = department(db, clerk, unit).id
        make_doc(clerk.agency_id, f"Công văn đếmcâulệnh số {k + 1}")
    db.flush()
    many = page_statements(db, client, path)
    assert len(many) == len(few), (few, many)
    page = client.get(path).get_data(as_text=True)
    assert len(re.findall(r'href="/van-ban-di/\d+"', page)) == 5
    assert len(re.findall(r'href="/van-ban-den/\d+"', page)) == 5
    assert department(db, clerk, "TTTT").name in page
    searches = [s for s in many if "search_" in s and "LIMIT" in s.upper()]
    assert searches and not any("count(" in s.lower() for s in many)
