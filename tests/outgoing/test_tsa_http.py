"""The agency seal's timestamp over HTTP: from the app's own TSA endpoint (``POST /pki/tsa``,
served by a live server on 127.0.0.1), and what the clerk gets when the TSA is down, slow or
refuses the credentials: a clear Vietnamese refusal within the timeout and nothing changed, or,
if the admin allowed it, a seal without a timestamp that the record says is one."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import tsp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ioffice import create_app
from ioffice.audit.models import AuditEvent
from ioffice.outgoing import numbering, signatures
from ioffice.outgoing.errors import OutgoingError
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, SignedRevision
from ioffice.outgoing.timestamps import TimestampPolicy, from_config
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, validate_pdf
from signing.tsa import MAX_REQUEST_BYTES, QUERY_TYPE, REPLY_TYPE, TsaResponder, _TimeStampResp
from tests.conftest import csrf_token
from tests.outgoing.conftest import CLERK, LEADER, PIN, approve_all, new_draft
from tests.support.factories import actor
from tests.support.tsa import reply, tsa_double


def _numbered(db: Session, blobs: BlobStore, trust: TrustStore) -> OutgoingDocument:
    doc = approve_all(db, new_draft(db, blobs))
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    numbering.assign_number(db, actor(db, CLERK), doc.id)
    return doc


def _seal_events(db: Session, doc: OutgoingDocument) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "outgoing:signature:agency", AuditEvent.subject_id == str(doc.id))))


def _external_checks(pdf: bytes, tmp_path: Path, signatures_: int) -> None:
    path = tmp_path / "sealed.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == signatures_, out
    qpdf = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr


def _closed_port_url() -> str:
    with tsa_double(lambda b, h: reply(b"")) as (url, _seen):
        pass
    return url  # nothing listens there any more


def test_the_seal_is_timestamped_by_the_served_tsa(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        pin_key, tmp_path: Path) -> None:
    assert tsa.client is not None and tsa.client.url.endswith("/pki/tsa")
    doc = _numbered(db, blobs, trust)
    signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    final = blobs.read_bytes(doc.current_sha256)
    report = validate_pdf(final, trust)
    assert report.valid, report.explanation
    assert report.signatures[-1].timestamp_time is not None
    assert _seal_events(db, doc)[0].details["level"] == "B-LTA"
    assert report.level == "B-LTA" and report.archival_time is not None
    assert doc.signatures[-1].level == "B-LTA" and doc.signatures[-1].timestamp_expires
    _external_checks(final, tmp_path, 2)


@pytest.mark.parametrize("tsa_kind", ["down", "slow", "credentials refused"])
def test_without_a_timestamp_nothing_is_sealed(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, pin_key, tsa_kind: str
        ) -> None:
    responder = TsaResponder(*pki.timestamp_authority())
    answers: dict[str, Callable] = {
        "slow": lambda b, h: reply(responder.respond(b), delay=4),
        "credentials refused": lambda b, h: (401, "text/plain", b"who are you", 0.0),
    }
    doc = _numbered(db, blobs, trust)
    before = doc.current_sha256
    with tsa_double(answers.get(tsa_kind, lambda b, h: reply(b""))) as (url, _seen):
        if tsa_kind == "down":
            url = _closed_port_url()
        policy = from_config({"TSA_URL": url, "TSA_TIMEOUT": 0.5})
        started = time.monotonic()
        with pytest.raises(OutgoingError) as info:
            signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id,
                                              tsa=policy)
        assert time.monotonic() - started < 3
    message = str(info.value)
    assert message.startswith("Chưa đóng dấu (ký số cơ quan) được: Không lấy được dấu thời gian")
    assert {"down": "không kết nối được", "slow": "không trả lời trong 0.5 giây",
            "credentials refused": "từ chối thông tin xác thực"}[tsa_kind] in message
    assert "Văn bản chưa thay đổi gì" in message
    db.refresh(doc)
    assert doc.status is OutgoingStatus.NUMBERED and doc.current_sha256 == before
    assert [s.kind for s in doc.signatures] == ["personal"]
    assert _seal_events(db, doc) == []


def test_no_tsa_configured_is_said_so(db: Session, blobs: BlobStore, pki: Pki,
                                      trust: TrustStore, pin_key) -> None:
    doc = _numbered(db, blobs, trust)
    with pytest.raises(OutgoingError, match="IOFFICE_TSA_URL"):
        signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id,
                                          tsa=from_config({}))


def test_the_admin_may_allow_seals_without_timestamp(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, pin_key,
        tmp_path: Path) -> None:
    doc = _numbered(db, blobs, trust)
    policy = from_config({"TSA_URL": _closed_port_url(), "TSA_FALLBACK_BB": "1"})
    revision = signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id,
                                                 tsa=policy)
    assert doc.status is OutgoingStatus.SEALED
    assert "không kết nối được" in revision.without_timestamp
    (event,) = _seal_events(db, doc)
    assert event.details["level"] == "B-B"
    assert "không kết nối được" in event.details["without_timestamp"]
    final = blobs.read_bytes(doc.current_sha256)
    report = validate_pdf(final, trust)
    assert report.valid, report.explanation
    assert report.signatures[-1].timestamp_time is None
    _external_checks(final, tmp_path, 2)


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match="IOFFICE_TSA_TIMEOUT"):
        from_config({"TSA_URL": "http://127.0.0.1:1/", "TSA_TIMEOUT": "mười"})
    with pytest.raises(ValueError, match="not both"):
        from_config({"TSA_URL": "http://127.0.0.1:1/", "TSA_USERNAME": "u",
                     "TSA_BEARER_TOKEN": "t"})
    # the environment's JSON parsing makes a numeric password a number: still sent as text
    assert from_config({"TSA_URL": "http://127.0.0.1:1/", "TSA_USERNAME": 123,
                        "TSA_PASSWORD": 456}).client.password == "456"


# --- the served endpoint ---------------------------------------------------------------------

def _query(nonce: int = 777) -> bytes:
    return tsp.TimeStampReq({
        "version": "v1", "nonce": nonce, "cert_req": True,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": hashlib.sha256(b"van ban").digest()}}).dump()


def _post(client: FlaskClient, body: bytes, ctype: str = QUERY_TYPE):
    return client.post("/pki/tsa", data=body, headers={"Content-Type": ctype})


def test_the_endpoint_needs_no_login_nor_csrf(client: FlaskClient) -> None:
    resp = _post(client, _query())
    assert resp.status_code == 200 and resp.mimetype == REPLY_TYPE
    answer = tsp.TimeStampResp.load(resp.data)
    assert answer["status"]["status"].native == "granted"
    info = answer["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 777


def test_the_endpoint_answers_bad_requests_properly(client: FlaskClient) -> None:
    resp = _post(client, b"\x30\x82garbage")
    assert resp.status_code == 200 and resp.mimetype == REPLY_TYPE
    status = _TimeStampResp.load(resp.data, strict=True)["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {"bad_data_format"}
    assert _post(client, _query(), "application/octet-stream").status_code == 415
    assert _post(client, b"\x00" * (MAX_REQUEST_BYTES + 1)).status_code == 413
    assert client.get("/pki/tsa").status_code == 405


@pytest.fixture
def app_with(app_config: dict[str, object], connection: Connection, tmp_path: Path
             ) -> Callable[..., Flask]:
    def make(**overrides: object) -> Flask:
        app = create_app({**app_config, **overrides})
        app.instance_path = str(tmp_path / "instance")
        app.extensions["ioffice.db"].bind_to(connection)
        return app

    return make


def test_the_endpoint_is_rate_limited(app_with) -> None:
    client = app_with(TSA_RATE_LIMIT="2 per minute").test_client()
    assert [_post(client, _query()).status_code for _ in range(3)] == [200, 200, 429]


def test_the_endpoint_is_served_only_when_asked(app_with) -> None:
    assert _post(app_with(TSA_SERVE=False).test_client(), _query()).status_code == 404


# --- what the clerk sees ---------------------------------------------------------------------

def _seal_page(app: Flask, db: Session, blobs: BlobStore, trust: TrustStore) -> tuple[str, OutgoingDocument]:
    from tests.conftest import login

    doc = _numbered(db, blobs, trust)
    client = app.test_client()
    assert login(client, CLERK).status_code == 302
    page = f"/van-ban-di/{doc.id}"
    resp = client.post(f"{page}/ky-so-co-quan", data={"csrf_token": csrf_token(client, page)})
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:2000]
    return re.sub(r"\s+", " ", client.get(page).get_data(as_text=True)), doc


def test_the_clerk_reads_why_the_seal_failed(app_with, db: Session, blobs: BlobStore,
                                              trust: TrustStore, pin_key) -> None:
    app = app_with(TSA_URL=_closed_port_url(), TSA_TIMEOUT=1)
    html, doc = _seal_page(app, db, blobs, trust)
    assert "Chưa đóng dấu (ký số cơ quan) được: Không lấy được dấu thời gian" in html
    db.refresh(doc)
    assert doc.status is OutgoingStatus.NUMBERED
    assert not db.scalars(select(SignedRevision).where(SignedRevision.document_id == doc.id,
                                                       SignedRevision.kind == "agency")).first()


def test_the_clerk_is_told_the_seal_has_no_timestamp(app_with, db: Session, blobs: BlobStore,
                                                     trust: TrustStore, pin_key) -> None:
    app = app_with(TSA_URL=_closed_port_url(), TSA_FALLBACK_BB=True)
    html, doc = _seal_page(app, db, blobs, trust)
    assert "Đã ký số của cơ quan. Lưu ý: chữ ký số của cơ quan không có dấu thời gian" in html
    db.refresh(doc)
    assert doc.status is OutgoingStatus.SEALED


def test_a_body_without_length_is_refused_by_the_live_endpoint(tsa_url: str) -> None:
    """Over a real socket: a chunked body (no Content-Length) is 411, never read unbounded."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(tsa_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=iter([_query()]),
                     headers={"Content-Type": QUERY_TYPE}, encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 411, resp.read()
    finally:
        conn.close()
