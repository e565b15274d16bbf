"""The edXML envelope signed with the sender's seal in a PKCS#11 token (SoftHSM2), through
signxml and the hubs: the recipient accepts it; a token that cannot sign keeps the package for
a retry instead of dead-lettering it."""

from __future__ import annotations

import pytest
from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.exchange import dispatch
from ioffice.exchange.models import ExchangeOutbox, OutboxState
from ioffice.exchange.sending import _seal
from ioffice.exchange.worker import register_agencies
from ioffice.incoming.models import IncomingDocument
from ioffice.keys import service as keys
from ioffice.keys.tokens import SealTokens
from tests.support import softhsm

from .conftest import BNV, CA_MAU, Federation, agency, outgoing

pytestmark = pytest.mark.skipif(not softhsm.available(), reason="softhsm2 is not installed")
CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


@pytest.fixture(scope="module")
def hsm(tmp_path_factory):
    return softhsm.softhsm(tmp_path_factory.mktemp("softhsm"))


def _use_tokens(federation: Federation, tokens: SealTokens) -> None:
    federation.rt.seal_tokens = tokens
    federation.rt.__dict__.pop("_seals", None)  # the worker keeps the seal it loaded


def test_a_package_sealed_in_the_token_is_received(db: Session, federation: Federation, hsm,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(softhsm.PIN_ENV, hsm.pin)
    bnv = agency(db, BNV)
    entry = softhsm.setting(hsm, key_label="bnv-seal", key_id="31")
    token_cert = softhsm.provision(hsm, federation.pki, entry, bnv.code, bnv.name)
    edoc = outgoing(db, federation, recipients=(CA_MAU,))  # its PDF sealed with the file key
    _use_tokens(federation, SealTokens({BNV: entry}))
    # what `pki token-provision` does: the token's certificate becomes the agency's seal, and
    # the hub's directory learns it (the worker registers agencies whose seal changed)
    keys.record_token_seal(db, CTX, bnv, token_cert)
    db.commit()
    assert register_agencies(federation.rt, {BNV}) == [BNV]
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    row = db.scalars(select(ExchangeOutbox).where(
        ExchangeOutbox.document_identifier == edoc.document_identifier)).first()
    assert row.state == OutboxState.SENT, row.last_error
    [doc] = db.scalars(select(IncomingDocument).where(
        IncomingDocument.document_identifier == edoc.document_identifier)).all()
    assert doc.agency_id == agency(db, CA_MAU).id
    # the envelope the worker builds is signed by the token's key
    key, chain = _seal(federation.rt, db, bnv.id)
    assert type(key).__name__ == "TokenRSAKey"
    assert chain[0] == x509.load_der_x509_certificate(token_cert.dump())


def test_a_token_that_cannot_sign_keeps_the_package_for_a_retry(
        db: Session, federation: Federation, hsm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOFFICE_BAD_PIN", "999999")
    _use_tokens(federation, SealTokens({BNV: softhsm.setting(hsm, label=softhsm.WRONG_PIN,
                                                             pin_env="IOFFICE_BAD_PIN")}))
    edoc = outgoing(db, federation, recipients=(CA_MAU,))
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump(rounds=1)
    db.expire_all()
    row = db.scalars(select(ExchangeOutbox).where(
        ExchangeOutbox.document_identifier == edoc.document_identifier)).first()
    assert row.state == OutboxState.PENDING  # retried with backoff, not dead
    assert "Mã PIN của token «Wrong PIN» không đúng" in (row.last_error or "")

