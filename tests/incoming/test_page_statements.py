"""The queue pages and the document page cost as many SQL statements with one row as with
many (no query per row), and show the same things as the objects they no longer build."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.documents.vocabulary import Confidentiality, Urgency
from ioffice.incoming import queries
from ioffice.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    DocumentStatus,
    IncomingDocument,
    Source,
)
from ioffice.incoming.registration import today_vn
from tests.conftest import login
from tests.support.factories import actor, department, user_id
from tests.support.statements import page_statements

SPECIALIST, HEAD, CLERK, LEADER = ("chuyenvien.camau", "truongphong.camau", "vanthu.camau",
                                   "lanhdao.camau")


def _seed(db: Session, n: int, seed: int) -> list[IncomingDocument]:
    """``n`` documents of each queue: waiting for registration, for distribution, and in
    progress with open assignments to the specialist and to the head's department (some
    overdue, some due soon, some asking for more time)."""
    rng = random.Random(seed)
    head = actor(db, HEAD)
    unit = head.department_id
    today = today_vn()
    docs = []
    for i in range(n):
        for status in (DocumentStatus.AWAITING_REGISTRATION, DocumentStatus.REGISTERED,
                       DocumentStatus.IN_PROGRESS):
            doc = IncomingDocument(
                agency_id=head.agency_id, status=status, source=Source.PAPER,
                issuer_name=f"Sở thử {i}", number=str(i), notation="STC",
                number_notation=f"{i}/STC-{seed}", document_date=today, doc_type="cong_van",
                subject=f"Công văn thử hàng đợi {seed}-{i}", signer="Nguyễn Văn An",
                page_count=1, urgency=rng.choice(list(Urgency)),
                confidentiality=Confidentiality.NORMAL,
                arrived_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i))
            if status is DocumentStatus.IN_PROGRESS:
                for to_user in (True, False):
                    doc.assignments.append(Assignment(
                        agency_id=head.agency_id, role=AssignmentRole.LEAD,
                        assignee_user_id=user_id(db, SPECIALIST) if to_user else None,
                        assignee_department_id=None if to_user else unit,
                        deadline=today + dt.timedelta(days=rng.randint(-5, 10)),
                        status=rng.choice((AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS,
                                           AssignmentStatus.EXTENSION_REQUESTED)),
                        requested_deadline=today + dt.timedelta(days=20),
                        extension_reason="Cần thêm thời gian",
                        assigned_by_id=user_id(db, LEADER),
                        assigned_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC)))
            db.add(doc)
            docs.append(doc)
    db.flush()
    return docs


QUEUE_PAGES = [(SPECIALIST, "can-xu-ly"), (SPECIALIST, "qua-han"), (HEAD, "sap-den-han"),
               (CLERK, "cho-vao-so"), (LEADER, "cho-phan-phoi"), (LEADER, "can-xu-ly")]


@pytest.mark.parametrize(("username", "tab"), QUEUE_PAGES)
def test_a_queue_page_costs_the_same_statements_for_one_row_or_many(
        db: Session, client: FlaskClient, login_as, username: str, tab: str) -> None:
    login_as(username)
    path = f"/van-ban-den/?tab={tab}"
    _seed(db, 1, seed=1)
    client.get(path)  # warm
    few = page_statements(db, client, path)
    _seed(db, 12, seed=2)
    many = page_statements(db, client, path)
    assert len(many) == len(few), (few, many)


def test_the_queue_rows_show_what_the_assignments_showed(db: Session, client: FlaskClient,
                                                          login_as) -> None:
    _seed(db, 6, seed=3)
    today = today_vn()
    for username in (SPECIALIST, HEAD):
        who = actor(db, username)
        for which in ("all", "overdue", "due_soon"):
            objects = queries.to_handle(db, who, today=today, which=which, limit=7)
            rows = queries.to_handle_rows(db, who, today=today, which=which, limit=7)
            assert [(a.id, a.document_id, a.document.number_notation, a.document.issuer_name,
                     a.document.subject, a.role, a.deadline, a.status, a.is_overdue(today),
                     queries.queue_cursor(a)) for a in objects] == [
                (r.id, r.document_id, r.number_notation, r.issuer_name, r.subject, r.role,
                 r.deadline, r.status, r.is_overdue(today), queries.queue_cursor(r))
                for r in rows]
    leader = actor(db, LEADER)
    assert [(a.id, a.document.number_notation, a.assignee_label, a.requested_deadline)
            for a in queries.extension_requests(db, leader)] == [
        (r.id, r.number_notation, r.assignee_label, r.requested_deadline)
        for r in queries.extension_request_rows(db, leader)]
    for fetch in (queries.to_register, queries.to_distribute):
        who = leader if fetch is queries.to_distribute else actor(db, CLERK)
        assert [d.id for d in fetch(db, who)] == [r.id for r in fetch(db, who, rows=True)]
    login_as(LEADER)
    page = client.get("/van-ban-den/?tab=can-xu-ly").get_data(as_text=True)
    assert "xin gia hạn đến" in page and "Sở thử" not in page.split("Đề nghị gia hạn")[0]


@pytest.mark.parametrize(("username", "status"), [
    (LEADER, DocumentStatus.REGISTERED),  # the distribution form: people and departments
    (LEADER, DocumentStatus.IN_PROGRESS),
    (HEAD, DocumentStatus.IN_PROGRESS),  # passing the department's assignment on
    (SPECIALIST, DocumentStatus.IN_PROGRESS),  # no form listing people
])
def test_the_document_page_costs_the_same_statements_for_one_assignment_or_many(
        db: Session, client: FlaskClient, login_as, username: str,
        status: DocumentStatus) -> None:
    login_as(username)
    template = next(d for d in _seed(db, 1, seed=4) if d.status is status)
    one, busy = (IncomingDocument(**{c: getattr(template, c) for c in (
        "agency_id", "status", "source", "issuer_name", "number", "notation", "document_date",
        "doc_type", "subject", "signer", "page_count", "urgency", "confidentiality",
        "arrived_at")}, number_notation=f"99/STC-{name}") for name in ("one", "busy"))
    head = actor(db, HEAD)
    one.assignments.append(Assignment(
        agency_id=one.agency_id, role=AssignmentRole.LEAD, assignee_department_id=head.department_id,
        deadline=today_vn(), status=AssignmentStatus.PENDING, assigned_by_id=user_id(db, LEADER),
        assigned_at=one.arrived_at))
    db.add(one)
    for k in range(12):
        busy.assignments.append(Assignment(
            agency_id=one.agency_id, role=(AssignmentRole.LEAD, AssignmentRole.CO)[k % 2],
            assignee_user_id=user_id(db, SPECIALIST) if k % 3 == 0 else None,
            assignee_department_id=None if k % 3 == 0 else head.department_id,
            deadline=today_vn(), status=(AssignmentStatus.PENDING,
                                         AssignmentStatus.EXTENSION_REQUESTED)[k % 2],
            assigned_by_id=user_id(db, LEADER), assigned_at=one.arrived_at))
    db.add(busy)
    db.flush()
    for n, assignment in enumerate(busy.assignments[1:], 1):  # some passed on from the first
        if n % 4 == 0:
            assignment.parent_id = busy.assignments[0].id
    db.flush()
    client.get(f"/van-ban-den/{one.id}")  # warm
    few = page_statements(db, client, f"/van-ban-den/{one.id}")
    many = page_statements(db, client, f"/van-ban-den/{busy.id}")
    assert len(many) == len(few), (few, many)


def test_the_forms_list_the_active_people_with_their_posts(
        app: Flask, db: Session, client: FlaskClient, login_as) -> None:
    leader = actor(db, LEADER)
    doc = next(d for d in _seed(db, 1, seed=5) if d.status is DocumentStatus.REGISTERED)
    people = queries.people_to_assign(db, leader.agency_id)
    assert people and all(p.title for p in people)
    login_as(LEADER)
    page = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    for p in people:
        assert f'value="user:{p.user_id}"' in page and f"{p.full_name} – {p.title}" in page
    assert department(db, leader, "KT").name in page
    other = app.test_client()
    login(other, SPECIALIST)
    assert 'name="lead_target"' not in other.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
