"""What stays guarded: every route of the URL map, pages and /api/v1, is probed.

(a) A user of another agency holding every role gets 404, on GET and POST, for every route with
    a parameter, given the ids of real objects of the demo agency Cà Mau.
(b) Each role of Cà Mau gets 403 exactly where the role table refuses the route's operation.

The routes are read from ``app.url_map``, and each route's operation from its declaration
(``@operation`` on a page, ``operation=`` on an API route): a route added later is probed
without anyone remembering to, and one that declares no operation fails the test. A parameter
this file has no object for fails it too.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Agency, Membership, Role, User
from ioffice.agencies.permissions import Op, allowed
from ioffice.api import tokens
from ioffice.api.routing import MULTIPART
from ioffice.api.tokens import Scope
from ioffice.api.views import api
from ioffice.audit import AuditContext
from ioffice.copies import service as copies
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox, InboxState, OutboxState
from ioffice.incoming import handling
from ioffice.keys.models import SigningCertificate
from ioffice.notifications import Kind, notify
from ioffice.notifications.models import MailOutbox, MailState
from ioffice.ocr import service as ocr_service
from ioffice.records import handover as records_handover
from ioffice.records import package as records_package
from ioffice.records import retention as records_retention
from ioffice.records import service as records
from ioffice.schedule import service as schedule
from ioffice.search import service as search
from ioffice.storage import BlobStore
from ioffice.web.incoming import ASSIGNMENT_ACTIONS, ASSIGNMENT_OPS
from signing import TrustStore
from tests.conftest import DEMO_PASSWORD, csrf_token, login
from tests.outgoing.conftest import new_draft
from tests.records.conftest import TODAY as records_today
from tests.records.conftest import make_year as records_make_year
from tests.support.factories import actor, department, pdf, register

CAMAU = "000.00.00.H12"
BNV = "000.00.00.G09"
ROLE_USERS = ("vanthu.camau", "lanhdao.camau", "truongphong.camau", "chuyenvien.camau")
OUTSIDER = "ngoai.bnv"
MISSING_ID = "987654321"
NO_LOGIN = {"static", "favicon", "auth.login", "api_v1.openapi_document", "health.healthz",
            "health.readyz", "metrics.scrape",
            "exchange_push.notification",  # signed by the hub (ioffice.exchange.push)
            # public revocation data for validators anywhere (ioffice.web.pki_http)
            "revocation.crl", "revocation.ca_certificate", "revocation.ocsp_post",
            "revocation.ocsp_get",
            "tsa.timestamp",  # the simulated TSA (RFC 3161 clients have no session)
            "calendar.feed"}  # iCalendar: the user's secret in the URL (tests/schedule)
# the user's own session (login, logout, agency switch, password): every logged-in user
OWN_ACCOUNT_BLUEPRINT = "auth"


def _methods(rule: Rule) -> list[str]:
    return sorted(m for m in rule.methods or () if m in ("GET", "POST"))


def declared_operation(app: Flask, endpoint: str) -> tuple[bool, Op | None]:
    """(classified, operation): what the route declares; None means any logged-in user."""
    if endpoint in api.operations:
        return True, api.operations[endpoint].operation
    view = app.view_functions[endpoint]
    if hasattr(view, "operation"):
        return True, view.operation
    if endpoint.split(".", 1)[0] == OWN_ACCOUNT_BLUEPRINT:
        return True, None
    return False, None


def _rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in NO_LOGIN),
                  key=lambda r: r.rule)


def test_every_route_declares_its_operation(app: Flask) -> None:
    unclassified = [f"{r.rule} ({r.endpoint})" for r in _rules(app)
                    if not declared_operation(app, r.endpoint)[0]]
    assert not unclassified, ("routes that declare no operation: decorate the page with "
                              f"@operation(Op.X), or give the API route operation=: {unclassified}")


@dataclass(frozen=True)
class Objects:
    """Ids of real objects of Cà Mau, one per kind of route parameter."""

    incoming_id: int
    file_id: int
    assignment_id: int
    outgoing_id: int
    sha256: str
    saved_id: int
    certificate_id: int
    outbox_id: int
    inbox_id: int
    agency_id: int
    user_id: int
    token_id: int
    notification_id: int
    mail_id: int
    event_id: int
    job_id: int
    copy_id: int
    list_id: int = 0
    dossier_id: int = 0
    item_id: int = 0
    handover_id: int = 0
    destruction_id: int = 0
    package_id: int = 0
    heading_id: int = 0

    def values(self, endpoint: str, name: str) -> list[str]:
        blueprint = endpoint.split(".", 1)[0]
        by_name = {
            "document_id": self.outgoing_id if blueprint == "outgoing" else self.incoming_id,
            "outgoing_id": self.outgoing_id,
            "file_id": self.file_id, "assignment_id": self.assignment_id, "sha256": self.sha256,
            "page": 1, "saved_id": self.saved_id, "certificate_id": self.certificate_id,
            "outbox_id": self.outbox_id, "inbox_id": self.inbox_id, "agency_id": self.agency_id,
            "user_id": self.user_id, "token_id": self.token_id,
            "notification_id": self.notification_id, "mail_id": self.mail_id, "event_id": self.event_id,
            "job_id": self.job_id, "copy_id": self.copy_id, "list_id": self.list_id,
            "dossier_id": self.dossier_id, "item_id": self.item_id, "handover_id": self.handover_id,
            "destruction_id": self.destruction_id, "package_id": self.package_id,
            "heading_id": self.heading_id,
            "ordinal": 1, "index": 1,
        }
        if name == "action":
            return list(ASSIGNMENT_ACTIONS)
        if name == "fmt":
            return ["xlsx"]
        assert name in by_name, (f"route {endpoint} has a parameter <{name}> this test has no "
                                 "object for: add one to Objects")
        return [str(by_name[name])]


@pytest.fixture
def objects(db: Session, blobs: BlobStore) -> Objects:
    clerk, leader = actor(db, "vanthu.camau"), actor(db, "lanhdao.camau")
    incoming = register(db, blobs, clerk)
    [assignment] = handling.distribute(db, leader, incoming.id, handling.DistributionInput(
        lead=handling.Target("department", department(db, clerk, "TTTT").id)))
    outgoing = new_draft(db, blobs)
    saved = search.save_search(db, actor(db, "chuyenvien.camau"), "Tìm đã lưu", "ngân sách")
    certificate_id = db.scalars(select(SigningCertificate.id).where(
        SigningCertificate.agency_id == clerk.agency_id)).first()
    assert certificate_id is not None, "the demo gives Cà Mau's leader a PIN key"
    agency = db.get(Agency, clerk.agency_id)
    outbox = ExchangeOutbox(agency_id=agency.id, kind="edoc", document_identifier=f"{CAMAU},1",
                            recipients=[BNV], payload={}, state=OutboxState.DEAD)
    inbox = ExchangeInbox(hub="test", message_id="m-routes", recipient_organ_id=CAMAU,
                          agency_id=agency.id, messagetype="edoc", business_type="revoke",
                          state=InboxState.AWAITING_DECISION)
    db.add_all([outbox, inbox])
    api_token = tokens.issue_own(db, clerk, "Cổng dịch vụ công").token
    [notification] = notify(db, [clerk.user_id], Kind.TO_REGISTER, agency_id=agency.id,
                            text="Thử", subject_type="incoming", subject_id=incoming.id)
    mail = MailOutbox(agency_id=agency.id, user_id=clerk.user_id, to_address="vt@camau.test",
                      subject="Thử", body="Thử", state=MailState.DEAD)
    db.add(mail)
    db.flush()
    event = schedule.save_event(db, clerk, schedule.EventInput(
        day="2026-12-08", start_time="08:00", title="Giao ban tuần"))
    # a scan the clerk chose on the registration form (the form polls its OCR job)
    job_id = ocr_service.start_scan(db, blobs, clerk, "ban-quet.pdf", pdf()).job.id
    # records: a year's list, a dossier kept by the clerk with a file, closed, handed over
    year = records_make_year(db)
    records.open_dossier(db, actor(db, "chuyenvien.camau"), year.dossier.id,
                         f"{records_today.year}-02-01", records_today)
    item = records.add_file(db, blobs, actor(db, "chuyenvien.camau"), year.dossier.id,
                            "Tài liệu", "a.pdf", b"%PDF-1.4 x")
    records.close_dossier(db, actor(db, "chuyenvien.camau"), year.dossier.id,
                          f"{records_today.year}-03-01", "2", records_today)
    handover = records_handover.start(db, blobs, actor(db, "chuyenvien.camau"),
                                      [year.dossier.id], records_today)
    # retention: the 20-year dossier closed, proposed for destruction as if in 2047
    records.open_dossier(db, actor(db, "chuyenvien.camau"), year.other.id,
                         f"{records_today.year}-02-01", records_today)
    records.add_file(db, blobs, actor(db, "chuyenvien.camau"), year.other.id, "Báo cáo", "b.pdf",
                     b"%PDF-1.4 y")
    records.close_dossier(db, actor(db, "chuyenvien.camau"), year.other.id,
                          f"{records_today.year}-03-01", "2", records_today)
    destruction = records_retention.propose(db, actor(db, "luutru.camau"), [year.other.id],
                                            "Hết giá trị", records_today.replace(year=2047))
    copy = copies.request_copy(db, blobs, leader, "incoming", incoming.id, copies.CopyRequest(
        "sao_y", "routes-copy", recipients="Sở Nội vụ"))
    # a dossier package exported and imported back: a restored dossier with one file
    restored = records_package.import_package(
        db, blobs, TrustStore(roots=()), actor(db, "luutru.camau"), "goi.zip",
        records_package.export_package(db, blobs, actor(db, "chuyenvien.camau"),
                                       year.dossier.id))
    db.commit()
    return Objects(incoming.id, incoming.files[0].id, assignment.id, outgoing.id,
                   outgoing.current_sha256, saved.id, certificate_id, outbox.id, inbox.id,
                   agency.id, clerk.user_id, api_token.id, notification.id, mail.id,
                   event.id, job_id, copy.id, year.file_list.id, year.dossier.id, item.id,
                   handover.id, destruction.id, restored.id, year.dossier.heading_id)


def _paths(rule: Rule, fill) -> Iterator[str]:
    names = sorted(rule.arguments)
    for combo in itertools.product(*(fill(rule.endpoint, n) for n in names)):
        path = rule.rule
        for name, value in zip(names, combo, strict=True):
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
        yield path


# a valid body for each API input schema, so the handler runs and meets the object rule
SAMPLE_BODIES: dict[str, dict] = {
    "DocumentMetadata": {"issuer_name": "Bộ Nội vụ", "number": "1", "document_date": "2026-01-02",
                         "doc_type": "cong_van", "subject": "Thử"},
    "RejectIn": {"reason": "Thử"}, "DistributeIn": {"lead": {"kind": "department", "id": 1}},
    "PassOnIn": {"user_id": 1}, "ProgressIn": {"note": "Thử"},
    "ExtensionRequestIn": {"new_deadline": "2030-01-01", "reason": "Thử"},
    "ExtensionDecisionIn": {"approve": True}, "FinishIn": {"result": "Thử"},
    "ReturnIn": {"reason": "Thử"},
    "CommentIn": {"body": "Thử"}, "StepIn": {"comment": "Thử"}, "SendBackIn": {"comment": "Thử"},
    "PinIn": {"pin": "123456"}, "SignatureFinishIn": {"handle": "x", "signature": "AAAA"},
    "ReasonIn": {"reason": "Thử"}, "CsrIn": {"csr": "x"}, "VersionForm": {"note": "Thử"},
    "DecisionIn": {"agree": True},
    "PreferencesIn": {"daily_digest": False},
    "DossierIn": {"heading_id": 1, "number": 1, "title": "Thử", "retention": "5", "keeper_id": 1},
    "OpenDossierIn": {}, "FileDocumentIn": {"kind": "incoming", "document_id": 1},
    "CloseDossierIn": {"end": "2026-01-02", "pages": 1},
    "HeadingEditIn": {"title": "Thử"},
    "DossierAddIn": {"heading_id": 1, "number": 1, "title": "Thử", "retention": "5",
                     "keeper_id": 1},
    "UserCreateIn": {"username": "thu.routes", "full_name": "Thử", "password": "mat-khau-thu-1",
                     "roles": ["specialist"]},
    "UserUpdateIn": {"full_name": "Thử", "roles": ["specialist"]}, "PasswordResetIn": {},
    "TokenCreateIn": {"name": "Thử", "scopes": ["read"]},
    "FileListIn": {"year": 2026}, "HeadingIn": {"title": "Thử", "code": "THU"},
    "ApproveListIn": {"decision": "Thử"}, "NoteIn": {"text": "Thử"},
    "DossierFileForm": {"title": "Thử"},
    "HandoverIn": {"dossier_ids": [1]}, "ReturnHandoverIn": {"reason": "Thử"},
    "HoldIn": {"reason": "Thử"}, "DestructionIn": {"dossier_ids": [1], "reason": "Thử"},
    "DestructionDecisionIn": {"decision": "Thử"}, "RejectDestructionIn": {"reason": "Thử"},
    "PackageForm": {},
    "EventIn": {"day": "2026-12-08", "start_time": "08:00", "title": "Thử"},
    "PublishIn": {"week": "2026-12-08"},
    "CopyRequestIn": {"kind": "sao_y", "recipients": "Thử"},
}


def _api_body(endpoint: str) -> dict | None:
    body = api.operations[endpoint].body
    if body is None:
        return None
    assert body.__name__ in SAMPLE_BODIES, f"add a sample body for {body.__name__}"
    return SAMPLE_BODIES[body.__name__]


def _api_request(client: FlaskClient, path: str, method: str, endpoint: str, token: str):
    """The route's sample body, JSON or (an upload) multipart with a real PDF."""
    op, body = api.operations[endpoint], _api_body(endpoint)
    headers = {"Authorization": f"Bearer {token}"}
    if op.body_media == MULTIPART:
        return client.open(path, method=method, headers=headers, content_type=MULTIPART,
                           data={**(body or {}), op.files: (io.BytesIO(pdf()), "thu.pdf")})
    return client.open(path, method=method, json=body, headers=headers)


def _outsider(db: Session) -> User:
    """A user of the Bộ Nội vụ holding every role there."""
    bnv = db.scalars(select(Agency).where(Agency.code == BNV)).one()
    user = agencies.create_user(db, AuditContext(None, bnv.id, "test"), agency_id=bnv.id,
                                username=OUTSIDER, full_name="Người cơ quan khác",
                                password=DEMO_PASSWORD, roles=list(Role))
    db.commit()
    return user


def test_another_agency_gets_404_on_every_route_with_an_id(
        app: Flask, client: FlaskClient, db: Session, objects: Objects) -> None:
    outsider = _outsider(db)
    assert login(client, OUTSIDER).status_code == 302
    token = tokens.issue(db, AuditContext(None, None, "test"), user=outsider,
                         agency_id=outsider.memberships[0].agency_id, name="probe",
                         scopes=list(Scope)).secret
    db.commit()
    csrf = csrf_token(client, "/")
    tried: list[str] = []
    for rule in _rules(app):
        if not rule.arguments:
            continue
        for path, method in itertools.product(_paths(rule, objects.values), _methods(rule)):
            if rule.endpoint in api.operations:
                resp = _api_request(client, path, method, rule.endpoint, token)
            else:
                resp = client.open(path, method=method,
                                   data={"csrf_token": csrf} if method == "POST" else None)
            assert resp.status_code == 404, (method, path, resp.status_code,
                                             resp.get_data(as_text=True)[:300])
            tried.append(f"{method} {path}")
    web = sum(1 for t in tried if "/api/" not in t)
    assert web >= 30 and len(tried) - web >= 25
    print(f"\nanother agency (every role): {len(tried)} requests on routes with an id "
          f"({web} pages, {len(tried) - web} API), all 404")


def _expected(endpoint: str, path: str, op: Op | None) -> Op | None:
    if endpoint == "incoming.assignment_action":
        return ASSIGNMENT_OPS[ASSIGNMENT_ACTIONS[path.rsplit("/", 1)[1]]]
    return op


def test_each_role_gets_what_the_role_table_allows(app: Flask, db: Session) -> None:
    """With ids that exist nowhere: a refused role gets 403 before anything is looked up, an
    allowed one gets on to the object (404), the form or the page, never 403."""

    def fill(endpoint: str, name: str) -> list[str]:
        if name == "fmt":
            return ["xlsx"]
        return list(ASSIGNMENT_ACTIONS) if name == "action" else [
            "0" * 64 if name == "sha256" else MISSING_ID]

    rules = [r for r in _rules(app) if r.endpoint.split(".", 1)[0] != OWN_ACCOUNT_BLUEPRINT]
    tried = refused = 0
    for username in ROLE_USERS:
        roles = db.scalars(select(Membership).join(User).where(User.username == username)
                           ).first().roles
        token = tokens.issue(db, AuditContext(None, None, "test"),
                             user=db.scalars(select(User).where(User.username == username)).one(),
                             agency_id=actor(db, username).agency_id, name="probe",
                             scopes=list(Scope)).secret
        db.commit()
        client = app.test_client()
        assert login(client, username).status_code == 302
        csrf = csrf_token(client, "/")
        for rule in rules:
            op = declared_operation(app, rule.endpoint)[1]
            for path, method in itertools.product(_paths(rule, fill), _methods(rule)):
                expected = _expected(rule.endpoint, path, op)
                if rule.endpoint in api.operations:
                    resp = client.open(path, method=method,
                                       headers={"Authorization": f"Bearer {token}"})
                else:
                    resp = client.open(path, method=method,
                                       data={"csrf_token": csrf} if method == "POST" else None)
                must_refuse = expected is not None and not allowed(roles, expected)
                assert (resp.status_code == 403) == must_refuse, (
                    username, method, path, expected, resp.status_code,
                    resp.get_data(as_text=True)[:300])
                tried += 1
                refused += must_refuse
    print(f"\nroles x routes: {len(rules)} rules, {tried} requests by {len(ROLE_USERS)} roles, "
          f"{refused} refused (403) and {tried - refused} let through, as the table says")
