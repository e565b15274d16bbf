"""Schemathesis against the live app (in-process, through its WSGI interface), from the API's
own OpenAPI document: every operation with generated input, then the stateful links
(create -> read -> act). Checks: no 500, every status code and content type documented, every
response body valid against its documented schema. Seeded: a failure replays.

The token acts as a member of Cà Mau holding every role, with every scope, so most operations
get past the role rule to their service; a generated draft gets a real PDF, a real signer and a
real recipient (``map_case``), so the create -> read -> act links have something to follow.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Agency, Role, User
from ioffice.api import tokens
from ioffice.api.models import ApiToken
from ioffice.audit import AuditContext
from ioffice.incoming.registration import today_vn
from ioffice.records import package
from ioffice.records import service as records
from ioffice.storage import BlobStore
from tests.api.conftest import CAMAU, department_id, make_pdf, user_id
from tests.conftest import DEMO_PASSWORD
from tests.records.conftest import make_year
from tests.support.factories import actor

SEED = 20261204
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 12
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzz_token(db: Session) -> str:
    agency = db.scalars(select(Agency).where(Agency.code == CAMAU)).one()
    user = agencies.create_user(db, AuditContext(None, agency.id, "test"), agency_id=agency.id,
                                username="tichhop.camau", full_name="Hệ thống tích hợp",
                                password=DEMO_PASSWORD, roles=list(Role))
    secret = tokens.issue(db, AuditContext(None, None, "test"), user=user, agency_id=agency.id,
                          name="schemathesis", scopes=list(tokens.Scope)).secret
    db.commit()
    return secret


def archive_pool(db: Session, blobs: BlobStore) -> tuple[list[int], int, bytes]:
    """For the archive's operations: closed dossiers of 2019 kept by the fuzzing user (to hand
    over), one of them expired (5 years from March 2019: to propose for destruction), and its
    electronic package (to import)."""
    fuzzer, today = actor(db, "tichhop.camau"), today_vn()
    flist = records.create_list(db, actor(db, "vanthu.camau"), "2019", today)
    heading = records.add_heading(db, actor(db, "vanthu.camau"), flist.id, "Hành chính", "HC")
    closed = []
    for n in range(1, 5):
        closed.append(records.add_dossier(db, actor(db, "vanthu.camau"), flist.id,
                                          records.DossierInput(
                                              heading_id=str(heading.id), number=str(n),
                                              title=f"Hồ sơ hành chính số {n}", retention="5",
                                              keeper_id=str(fuzzer.user_id))))
    records.approve_list(db, actor(db, "lanhdao.camau"), flist.id, "QĐ 1")
    for d in closed:
        records.open_dossier(db, fuzzer, d.id, "2019-01-05", today)
        records.add_file(db, blobs, fuzzer, d.id, "Tài liệu", "tai-lieu.pdf",
                         f"%PDF-1.4 hồ sơ {d.id}".encode())
        records.close_dossier(db, fuzzer, d.id, "2019-03-01", "2", today)
    data = package.export_package(db, blobs, fuzzer, closed[-1].id)
    db.commit()
    return [d.id for d in closed[:-1]], closed[-1].id, data


@pytest.fixture
def api_schema(app: Flask, db: Session, blobs: BlobStore, fuzz_token: str):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    pdf = make_pdf()
    signer, recipient = user_id(db, "lanhdao.camau"), department_id(db, "KT")
    # a draft file list of this year: dossiers are planned in it (then read, opened, ...)
    plan = make_year(db, today_vn().year, approve=False)
    db.commit()
    file_list, heading = plan.file_list.id, plan.dossier.heading_id
    to_hand_over, expired, zipped = archive_pool(db, blobs)

    kept: dict[str, int] = {}
    serial = itertools.count(1)

    def keep_the_fuzzer(case) -> None:
        """The administration operations never act on the fuzzing user or its token (taking its
        roles away or revoking it would turn every later operation into a 403 or 401): an id of
        either becomes another real one, the specialist's or a token of theirs."""
        if not kept:
            kept.update(
                user=user_id(db, "tichhop.camau"), other_user=user_id(db, "chuyenvien.camau"),
                token=db.scalars(select(ApiToken.id).where(ApiToken.name == "schemathesis")).one())
            kept["other_token"] = tokens.issue(
                db, AuditContext(None, None, "test"), user=db.get(User, kept["other_user"]),
                agency_id=db.get(ApiToken, kept["token"]).agency_id, name="khác").token.id
        params = case.path_parameters or {}
        if params.get("user_id") == kept["user"]:
            params["user_id"] = kept["other_user"]
        if params.get("token_id") == kept["token"]:
            params["token_id"] = kept["other_token"]

    @schema.hook
    def map_case(context, case):
        """A generated draft or version: a real PDF; a draft: a real signer and recipient; a
        dossier: planned in the draft list under a real heading, and the list's year asked; an
        administration call never on the fuzzing token's own user or token."""
        if case.path == "/api/v1/records/file-list" and isinstance(case.query, dict):
            case.query["year"] = today_vn().year
        if case.path == "/api/v1/records/file-lists" and isinstance(case.body, dict):
            # a year without a list (2000 to 2018; 2019 is the archive's pool): each started
            # once (201), then refused as existing (400)
            case.body["year"] = 2000 + next(serial) % 19
        if case.path.startswith(("/api/v1/admin/", "/api/v1/tokens/")):
            keep_the_fuzzer(case)
        if case.method != "POST" or not isinstance(case.body, dict):
            return case
        if case.path == "/api/v1/records/file-lists/{list_id}/dossiers":
            case.path_parameters = {**(case.path_parameters or {}), "list_id": file_list}
            # kept by the token's user (made by ``fuzz_token``): the keeper's steps reach the
            # service (a draft list's dossier cannot be opened yet: 400)
            # a new number each time (a taken one is a 400, so a replayed example would answer
            # otherwise than the first time: hypothesis calls that flaky) and a new
            # Idempotency-Key, whose replay with another number would be a 409
            n = next(serial)
            case.body.update(heading_id=heading, keeper_id=user_id(db, "tichhop.camau"),
                             retention="10", number=n)
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"fuzz-dossier-{n}"
            if isinstance(case.body.get("title"), str) and not case.body["title"].split():
                case.body["title"] = "Hồ sơ hội nghị"
        if case.path == "/api/v1/records/handovers":
            # one of the fuzzing user's closed dossiers (free again once a hand-over is
            # cancelled or returned)
            n = next(serial)
            case.body["dossier_ids"] = [to_hand_over[n % len(to_hand_over)]]
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"fuzz-handover-{n}"
        elif case.path == "/api/v1/records/destructions":
            n = next(serial)
            case.body.update(dossier_ids=[expired], package_ids=[], reason="Hết giá trị")
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"fuzz-destruction-{n}"
        if case.path in ("/api/v1/outgoing", "/api/v1/outgoing/{outgoing_id}/versions"):
            case.body["file"] = pdf
            if case.path == "/api/v1/outgoing":
                case.body.update(signer_id=signer, department_ids=[recipient])
        elif case.path == "/api/v1/documents":
            case.body["files"] = [pdf]
        elif case.path == "/api/v1/records/packages":
            # a real package: imported once (201), refused after as the same dossier (400)
            case.body = {"file": zipped}
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"fuzz-package-{next(serial)}"
        elif case.path == "/api/v1/admin/users":
            # a new username each time (a taken one is a 409) and a password of the rules;
            # a new Idempotency-Key too, whose replay with another username would be a 409
            # (tests/api/test_admin.py covers the replay)
            n = next(serial)
            case.body.update(username=f"fuzz{n}.camau", password="mat-khau-thu-1",
                             department_id=None)
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"fuzz-{n}"
        return case

    return schema


def test_every_operation_with_generated_input(app: Flask, api_schema, fuzz_token: str) -> None:
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    started = time.monotonic()
    operations, statuses = 0, Counter()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @SETTINGS
        @hypothesis.seed(SEED)
        @hypothesis.given(case=operation.as_strategy())
        def run(case) -> None:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[response.status_code] += 1

        run()
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {operations} operations, {sum(statuses.values())} requests in "
          f"{elapsed:.1f} s; by status: {dict(sorted(statuses.items()))}")
    assert operations >= 40
    assert statuses[200] + statuses[201] > 0 and statuses[422] > 0


def test_the_stateful_links(app: Flask, api_schema, fuzz_token: str) -> None:
    """Draft created (201) -> read, commented, submitted, ... by its id (the declared links)."""
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    calls: Counter = Counter()

    # the outgoing document's operations: each links from the draft's creation or its reading
    outgoing = api_schema.include(path_regex="^/api/v1/outgoing")
    # only the links the document declares (no inferred ones): a draft's creation is the root
    outgoing.config.phases.stateful.inference.algorithms = []

    class Machine(outgoing.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls[(case.method, case.path, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    started = time.monotonic()
    Machine.run(settings=settings(SETTINGS, max_examples=30, stateful_step_count=6))
    print(f"\nschemathesis stateful: {sum(calls.values())} calls in "
          f"{time.monotonic() - started:.1f} s")
    for (method, path, status), n in sorted(calls.items()):
        print(f"  {n:3d} x {method} {path} -> {status}")
    followed = {(m, p) for (m, p, status) in calls if "{outgoing_id}" in p and status in (200, 201)}
    assert ("GET", "/api/v1/outgoing/{outgoing_id}") in followed, calls


def test_the_records_links(app: Flask, api_schema, fuzz_token: str) -> None:
    """Dossier planned (201) -> read, opened, filed into, closed, its table of contents."""
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    calls: Counter = Counter()
    dossiers = api_schema.include(path_regex=r"^/api/v1/records/(file-lists/|dossiers/\{)")
    dossiers.config.phases.stateful.inference.algorithms = []

    class Machine(dossiers.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls[(case.method, case.path, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Machine.run(settings=settings(SETTINGS, max_examples=20, stateful_step_count=5))
    for (method, path, status), n in sorted(calls.items()):
        print(f"  {n:3d} x {method} {path} -> {status}")
    followed = {(m, p) for (m, p, status) in calls if "{dossier_id}" in p and status == 200}
    assert ("GET", "/api/v1/records/dossiers/{dossier_id}") in followed, calls


ARCHIVE_MACHINES = {
    # root (the creating operation) -> what its links must reach with a 200
    r"^/api/v1/records/file-lists": "/api/v1/records/file-lists/{list_id}",
    r"^/api/v1/records/handovers": "/api/v1/records/handovers/{handover_id}",
    r"^/api/v1/records/destructions": "/api/v1/records/destructions/{destruction_id}",
    r"^/api/v1/records/(packages|restored/\{)": "/api/v1/records/restored/{package_id}",
}


@pytest.mark.parametrize("path_regex", list(ARCHIVE_MACHINES))
def test_the_archive_links(app: Flask, api_schema, fuzz_token: str, path_regex: str) -> None:
    """File list started (201) -> read, headed, approved, exported; hand-over started (201) ->
    read, its record downloaded, signed, cancelled, accepted or
    returned; destruction proposed (201) -> read, approved or rejected; package imported (201)
    -> the restored dossier read, held (the declared links). One machine per root: given
    several, hypothesis keeps to one."""
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    calls: Counter = Counter()
    archive = api_schema.include(path_regex=path_regex)
    archive.config.phases.stateful.inference.algorithms = []

    class Machine(archive.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls[(case.method, case.path, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    started = time.monotonic()
    Machine.run(settings=settings(SETTINGS, max_examples=10, stateful_step_count=5))
    print(f"\nschemathesis {path_regex}: {sum(calls.values())} calls in "
          f"{time.monotonic() - started:.1f} s")
    for (method, path, status), n in sorted(calls.items()):
        print(f"  {n:3d} x {method} {path} -> {status}")
    followed = {(m, p) for (m, p, status) in calls if "_id}" in p and status == 200}
    assert ("GET", ARCHIVE_MACHINES[path_regex]) in followed, calls


def test_the_administration_links(app: Flask, api_schema, fuzz_token: str) -> None:
    """User created (201) -> read, updated, deactivated, reactivated, password reset, token
    issued for them; token issued -> revoked (the declared links)."""
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    calls: Counter = Counter()
    admin = api_schema.include(path_regex="^/api/v1/(admin|tokens)")
    admin.config.phases.stateful.inference.algorithms = []

    class Machine(admin.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls[(case.method, case.path, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Machine.run(settings=settings(SETTINGS, max_examples=20, stateful_step_count=6))
    for (method, path, status), n in sorted(calls.items()):
        print(f"  {n:3d} x {method} {path} -> {status}")
    followed = {(m, p) for (m, p, status) in calls if "_id}" in p and status in (200, 201)}
    assert ("GET", "/api/v1/admin/users/{user_id}") in followed, calls
    assert ("POST", "/api/v1/tokens/{token_id}/revoke") in followed, calls
