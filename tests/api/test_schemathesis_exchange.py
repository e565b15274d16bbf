"""Schemathesis' stateful run over the exchange endpoints (read -> act -> read): a real dead
letter and a real revoke request of Cà Mau, so the reads answer 200 and the links to `retry`
and `decision` are followed to their success and then to their 409 (checked against the
documented schemas, as in ``test_schemathesis``)."""

from __future__ import annotations

import time
from collections import Counter

from flask import Flask
from hypothesis import settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox, InboxState, OutboxState
from ioffice.storage import BlobStore
from tests.api.conftest import CAMAU
from tests.api.test_schemathesis import CHECKS, SETTINGS, api_schema, fuzz_token  # noqa: F401
from tests.support.factories import actor, register

BNV = "000.00.00.G09"


def test_the_exchange_links(app: Flask, db: Session, blobs: BlobStore, api_schema,  # noqa: F811
                            fuzz_token: str) -> None:  # noqa: F811
    agency_id = db.scalars(select(Agency.id).where(Agency.code == CAMAU)).one()
    copy = register(db, blobs, actor(db, "vanthu.camau"))
    dead = ExchangeOutbox(agency_id=agency_id, kind="edoc", document_identifier=f"{CAMAU},1",
                          recipients=[BNV], payload={}, state=OutboxState.DEAD,
                          last_error="Trục liên thông không trả lời")
    request = ExchangeInbox(hub="test", message_id="m-stateful", recipient_organ_id=CAMAU,
                            agency_id=agency_id, messagetype="edoc", sender_organ_id=BNV,
                            sender_name="Bộ Nội vụ", business_type="revoke",
                            reason="Ban hành nhầm", state=InboxState.AWAITING_DECISION,
                            target_document_id=copy.id)
    db.add_all([dead, request])
    db.commit()
    real = {"outbox_id": dead.id, "inbox_id": request.id}
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    calls: Counter = Counter()

    exchange = api_schema.include(path_regex=r"^/api/v1/exchange/(outbox|inbox)/")
    exchange.config.phases.stateful.inference.algorithms = []

    class Machine(exchange.as_state_machine()):
        def before_call(self, case):
            # a generated id would only ever be another agency's or none: the real package
            for name, value in real.items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = value

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            super().after_call(response, case)
            calls[(case.method, case.path, response.status_code)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    started = time.monotonic()
    Machine.run(settings=settings(SETTINGS, max_examples=20, stateful_step_count=5))
    print(f"\nschemathesis stateful (exchange): {sum(calls.values())} calls in "
          f"{time.monotonic() - started:.1f} s")
    for (method, path, status), n in sorted(calls.items()):
        print(f"  {n:3d} x {method} {path} -> {status}")
    seen = {(m, p, s) for (m, p, s) in calls}
    assert ("GET", "/api/v1/exchange/outbox/{outbox_id}", 200) in seen, calls
    assert ("POST", "/api/v1/exchange/outbox/{outbox_id}/retry", 409) in seen, calls
    assert ("GET", "/api/v1/exchange/inbox/{inbox_id}", 200) in seen, calls
    db.expire_all()
    assert db.get(ExchangeOutbox, dead.id).state == OutboxState.PENDING
