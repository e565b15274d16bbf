"""The outgoing document page costs as many SQL statements for a document with one comment
and recipient as for one with many, from many people (no query per row or per person)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.outgoing import review
from ioffice.outgoing.models import OutgoingComment, OutgoingRecipient, RecipientKind
from ioffice.storage import BlobStore
from tests.outgoing.conftest import CLERK, HEAD, LEADER, SPECIALIST, new_draft
from tests.support.factories import actor, department, user_id
from tests.support.statements import page_statements


def _busy(db: Session, doc, comments: int, recipients: int) -> None:
    people = [user_id(db, u) for u in (SPECIALIST, HEAD, CLERK, LEADER)]
    for k in range(comments):
        doc.comments.append(OutgoingComment(author_id=people[k % len(people)], kind="comment",
                                            body=f"Góp ý số {k}"))
    units = [department(db, actor(db, SPECIALIST), s) for s in ("VP", "TTTT", "SNV", "KT")]
    for k in range(recipients):
        unit = units[k % len(units)]
        doc.recipients.append(OutgoingRecipient(kind=RecipientKind.DEPARTMENT,
                                                department_id=unit.id, name=unit.name))
    db.flush()


@pytest.mark.parametrize(("username", "submitted"), [
    (SPECIALIST, False),  # the drafter: the way the draft will go
    (LEADER, False), (HEAD, True),  # the reviewer whose turn it is
    (CLERK, True)])
def test_the_document_page_costs_the_same_statements_for_one_row_or_many(
        db: Session, blobs: BlobStore, client: FlaskClient, login_as, username: str,
        submitted: bool) -> None:
    one, many = new_draft(db, blobs), new_draft(db, blobs)
    _busy(db, one, 1, 1)
    _busy(db, many, 12, 8)
    if submitted:
        for doc in (one, many):
            review.submit(db, actor(db, SPECIALIST), doc.id)
    login_as(username)
    client.get(f"/van-ban-di/{one.id}")  # warm
    few = page_statements(db, client, f"/van-ban-di/{one.id}")
    lots = page_statements(db, client, f"/van-ban-di/{many.id}")
    assert len(lots) == len(few), (few, lots)
    page = client.get(f"/van-ban-di/{many.id}").get_data(as_text=True)
    assert "Góp ý số 11" in page and db.get(User, user_id(db, CLERK)).full_name in page


def test_both_certificates_in_one_statement_are_the_newest_of_each_holder(
        db: Session, pin_key) -> None:
    leader = actor(db, LEADER)
    found = keys.personal_certificates(db, leader.user_id, leader.agency_id)
    assert found.get(KeyHolder.PIN) == keys.personal_certificate(
        db, leader.user_id, leader.agency_id, KeyHolder.PIN) == pin_key
    assert found.get(KeyHolder.BROWSER) == keys.browser_certificate(
        db, leader.user_id, leader.agency_id)
