"""Long-term validation of sealed documents: the seal is PAdES B-LTA, and the re-timestamp job
adds an archival timestamp to a stored document whose last timestamp's TSA certificate nears
its expiry, as a new revision, only when it extends the proof, never under a lock while the
TSA is asked, and never losing the document when the TSA is down."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.outgoing import archival, numbering, review, signatures
from ioffice.outgoing.drafts import DraftInput, Upload, create_draft
from ioffice.outgoing.models import OutgoingDocument, SignedRevision
from ioffice.outgoing.timestamps import TimestampPolicy, from_config
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, validate_pdf
from signing.archival import last_timestamp
from signing.tsa import TsaResponder
from tests.outgoing.conftest import CLERK, LEADER, PIN, approve_all, new_draft, pdf_bytes
from tests.support.factories import actor, user_id
from tests.support.tsa import reply, tsa_double

SHORT_DAYS = 100
"""The soon-expiring TSA certificate's life: within the job's 180 days."""


@contextmanager
def short_lived_tsa(pki: Pki, days: int = SHORT_DAYS) -> Iterator[TimestampPolicy]:
    """A TSA over HTTP whose certificate expires in ``days``."""
    responder = TsaResponder(*pki.issue_timestamp_authority(days))
    with tsa_double(lambda body, headers: reply(responder.respond(body))) as (url, _seen):
        yield from_config({"TSA_URL": url})


def _closed_port_policy() -> TimestampPolicy:
    with tsa_double(lambda b, h: reply(b"")) as (url, _seen):
        pass
    return from_config({"TSA_URL": url, "TSA_TIMEOUT": 3})


def _sealed(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy
            ) -> OutgoingDocument:
    doc = approve_all(db, new_draft(db, blobs))
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    numbering.assign_number(db, actor(db, CLERK), doc.id)
    signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    db.commit()
    return doc


def _sealed_in_u_minh(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore,
                      tsa: TimestampPolicy) -> OutgoingDocument:
    drafter = actor(db, "chuyenvien.uminh")
    doc = create_draft(db, blobs, drafter, DraftInput(
        doc_type="bao_cao", subject="Báo cáo của huyện U Minh",
        signer_id=user_id(db, "lanhdao.uminh"), department_ids=(drafter.department_id,)),
        Upload("du-thao.pdf", pdf_bytes("Báo cáo của huyện U Minh")))
    review.submit(db, drafter, doc.id)
    for _ in range(6):  # whoever the chain names, step by step, until the leader approved
        step = review.current_step(db, doc)
        if step is None:
            break
        approver = next(a for a in (actor(db, f"{who}.uminh") for who in
                                    ("truongphong", "vanthu", "lanhdao"))
                        if review.can_review(db, a, doc))
        review.approve(db, approver, doc.id, "Đạt.")
    signatures.sign_with_pin(db, blobs, trust, actor(db, "lanhdao.uminh"), doc.id, "123456")
    numbering.assign_number(db, actor(db, "vanthu.uminh"), doc.id)
    signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, "vanthu.uminh"), doc.id,
                                      tsa=tsa)
    db.commit()
    return doc


@pytest.fixture
def sessions(connection: Connection) -> Callable[[], Session]:
    """The job's own sessions, on the test's connection (rolled back at the end)."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)


def _run(sessions, blobs: BlobStore, tsa: TimestampPolicy | None, trust: TrustStore,
         **kwargs) -> archival.RetimestampRun:
    return archival.retimestamp(sessions, blobs, tsa, lambda: trust, **kwargs)


def _external_checks(pdf: bytes, tmp_path: Path, signatures_: int) -> None:
    path = tmp_path / f"archived-{len(pdf)}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == signatures_, out
    qpdf = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr


def _events(db: Session, doc: OutgoingDocument) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(
        AuditEvent.tag == archival.TAG, AuditEvent.subject_id == str(doc.id))))


def test_the_seal_is_b_lta(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore,
                           tsa: TimestampPolicy, pin_key, tmp_path: Path) -> None:
    doc = _sealed(db, blobs, pki, trust, tsa)
    pdf = blobs.read_bytes(doc.current_sha256)
    report = validate_pdf(pdf, trust)
    assert report.valid, report.explanation
    assert report.level == "B-LTA"
    assert [r.kind for r in report.signatures] == ["signature", "signature", "timestamp"]
    assert report.archival_time == report.signatures[-1].timestamp_time
    assert report.signatures[-1].coverage == "entire_file"  # the document timestamp is last
    assert b"/DSS" in pdf
    seal = doc.signatures[-1]
    last = last_timestamp(pdf)
    assert last is not None and last.kind == "document"
    assert (seal.level, seal.timestamp_at, seal.timestamp_expires) == (
        "B-LTA", last.time, last.expires)
    _external_checks(pdf, tmp_path, 2)


def test_the_document_page_shows_the_level(app: Flask, db: Session, blobs: BlobStore, pki: Pki,
                                           trust: TrustStore, tsa: TimestampPolicy,
                                           pin_key) -> None:
    from flask import render_template_string

    doc = _sealed(db, blobs, pki, trust, tsa)
    with app.test_request_context():
        from signing.validate import LEVEL_NAMES

        html = render_template_string(
            '{% for s in doc.signatures %}{% if s.level %}{{ level_names[s.level] }} '
            '{{ s.timestamp_at|local }}{% endif %}{% endfor %}', doc=doc, level_names=LEVEL_NAMES)
    assert "PAdES B-LTA (lưu trữ dài hạn" in html


def test_a_timestamp_near_expiry_gets_an_archival_timestamp(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        pin_key, sessions, tmp_path: Path) -> None:
    with short_lived_tsa(pki) as short:
        doc = _sealed(db, blobs, pki, trust, short)
    sealed_sha = doc.current_sha256
    sealed_pdf = blobs.read_bytes(sealed_sha)
    assert (doc.signatures[-1].timestamp_expires - last_timestamp(sealed_pdf).time).days <= \
        SHORT_DAYS

    assert _run(sessions, blobs, tsa, trust, dry_run=True).due.count(doc.id) == 1
    db.expire_all()
    assert doc.current_sha256 == sealed_sha  # a dry run changes nothing

    run = _run(sessions, blobs, tsa, trust)
    assert doc.id in run.renewed and not run.stopped
    db.expire_all()
    assert doc.current_sha256 != sealed_sha
    archived = blobs.read_bytes(doc.current_sha256)
    assert archived.startswith(sealed_pdf)  # an incremental update
    assert blobs.read_bytes(sealed_sha) == sealed_pdf  # the previous bytes are kept
    revision = doc.signatures[-1]
    assert (revision.kind, revision.method, revision.previous_sha256, revision.signer_id) == (
        "archival", "tsa", sealed_sha, None)
    assert revision.timestamp_expires > doc.signatures[-2].timestamp_expires
    report = validate_pdf(archived, trust)
    assert report.valid, report.explanation
    assert [r.kind for r in report.signatures] == [
        "signature", "signature", "timestamp", "timestamp"]
    assert all(r.verdict.value == "valid" for r in report.signatures)
    assert report.level == "B-LTA" and report.archival_time == revision.timestamp_at
    _external_checks(archived, tmp_path, 2)
    (event,) = _events(db, doc)
    assert event.agency_id == doc.agency_id and event.actor_id is None
    assert event.details["previous_sha256"] == sealed_sha
    assert event.details["sha256"] == doc.current_sha256

    again = _run(sessions, blobs, tsa, trust)  # renewed: not due any more, nothing stacks
    assert doc.id not in again.due
    db.expire_all()
    assert doc.current_sha256 == revision.sha256 and len(_events(db, doc)) == 1


def test_a_document_not_due_is_untouched(db: Session, blobs: BlobStore, pki: Pki,
                                         trust: TrustStore, tsa: TimestampPolicy, pin_key,
                                         sessions) -> None:
    doc = _sealed(db, blobs, pki, trust, tsa)  # the TSA's certificate lives ten years
    sha = doc.current_sha256
    run = _run(sessions, blobs, tsa, trust)
    assert doc.id not in run.due
    db.expire_all()
    assert doc.current_sha256 == sha and len(doc.signatures) == 2 and not _events(db, doc)


def test_a_tsa_not_renewed_adds_nothing(db: Session, blobs: BlobStore, pki: Pki,
                                        trust: TrustStore, pin_key, sessions) -> None:
    """Timestamping again with a TSA certificate expiring no later would stack timestamps
    that extend nothing: the job leaves the document and says the TSA must be renewed."""
    with short_lived_tsa(pki) as short:
        doc = _sealed(db, blobs, pki, trust, short)
        sha = doc.current_sha256
        run = _run(sessions, blobs, short, trust)
    assert doc.id in run.due and run.skipped[doc.id] == "tsa_not_renewed"
    db.expire_all()
    assert doc.current_sha256 == sha and not _events(db, doc)


def test_tsa_down_leaves_the_document_and_the_next_round_renews(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        pin_key, sessions, caplog: pytest.LogCaptureFixture) -> None:
    with short_lived_tsa(pki) as short:
        doc = _sealed(db, blobs, pki, trust, short)
    sha = doc.current_sha256
    down = _run(sessions, blobs, _closed_port_policy(), trust)
    assert down.stopped and doc.id in down.due and not down.renewed
    assert "re-timestamp stopped" in caplog.text
    db.expire_all()
    assert doc.current_sha256 == sha and len(doc.signatures) == 2 and not _events(db, doc)
    assert _run(sessions, blobs, None, trust).stopped  # no TSA configured: said, nothing done
    later = _run(sessions, blobs, tsa, trust)
    assert doc.id in later.renewed
    db.expire_all()
    assert doc.current_sha256 != sha and len(_events(db, doc)) == 1


def test_a_file_changed_meanwhile_is_not_replaced(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        pin_key, sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pointer is swapped only if the document still has the file that was timestamped
    (no lock is held while the TSA answers)."""
    with short_lived_tsa(pki) as short:
        doc = _sealed(db, blobs, pki, trust, short)
    original = archival.add_archival_timestamp
    meanwhile = blobs.put_bytes(b"%PDF-1.7 changed meanwhile").sha256

    def racing(pdf, timestamper, trust_):
        out = original(pdf, timestamper, trust_)
        with sessions() as other:
            other.get(OutgoingDocument, doc.id).current_sha256 = meanwhile
            other.commit()
        return out

    monkeypatch.setattr(archival, "add_archival_timestamp", racing)
    run = _run(sessions, blobs, tsa, trust)
    assert run.skipped[doc.id] == "changed" and not run.renewed
    db.expire_all()
    assert doc.current_sha256 == meanwhile and not _events(db, doc)
    assert not db.scalars(select(SignedRevision).where(
        SignedRevision.document_id == doc.id, SignedRevision.kind == "archival")).all()


def test_every_agency_is_processed_and_audited_in_its_own_chain(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        pin_key, sessions) -> None:
    with short_lived_tsa(pki) as short:
        ca_mau = _sealed(db, blobs, pki, trust, short)
        u_minh = _sealed_in_u_minh(db, blobs, pki, trust, short)
    assert ca_mau.agency_id != u_minh.agency_id
    run = _run(sessions, blobs, tsa, trust)
    assert {ca_mau.id, u_minh.id} <= set(run.renewed)
    for doc in (ca_mau, u_minh):
        (event,) = _events(db, doc)
        assert event.agency_id == doc.agency_id


def test_seals_recorded_before_levels_are_read_from_their_files(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, pin_key, sessions) -> None:
    """A seal stored before this release has no level nor expiry: the job reads them from
    its file once, and renews it if due."""
    with short_lived_tsa(pki) as short:
        doc = _sealed(db, blobs, pki, trust, short)
    seal = doc.signatures[-1]
    seal.level, seal.timestamp_at, seal.timestamp_expires = "", None, None
    db.commit()
    with sessions() as session:
        found = archival.due(session, blobs)
    assert doc.id in [d.id for target, d in found if target is archival.OUTGOING]
    db.expire_all()
    assert seal.level == "B-LTA" and seal.timestamp_expires is not None


def test_cli_dry_run(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["pki", "retimestamp", "--dry-run", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "đến hạn" in result.output and "Bản sao đến hạn" in result.output


@pytest.mark.parametrize("days", ["-5", "nửa năm"])
def test_cli_refuses_a_bad_horizon(app: Flask, days: str) -> None:
    result = app.test_cli_runner().invoke(args=["pki", "retimestamp", "--days", days])
    assert result.exit_code == 2 and "--days" in result.output


def test_the_page_lists_the_archival_timestamp(app: Flask, db: Session, blobs: BlobStore,
                                               pki: Pki, trust: TrustStore,
                                               tsa: TimestampPolicy, pin_key, sessions) -> None:
    from tests.conftest import login

    with short_lived_tsa(pki) as short:
        doc = _sealed(db, blobs, pki, trust, short)
    assert doc.id in _run(sessions, blobs, tsa, trust).renewed
    client = app.test_client()
    assert login(client, CLERK).status_code == 302
    html = " ".join(client.get(f"/van-ban-di/{doc.id}").get_data(as_text=True).split())
    assert "PAdES B-LTA (lưu trữ dài hạn" in html
    assert "Dấu thời gian lưu trữ (gia hạn tự động)" in html
    assert "chứng thư máy chủ cấp dấu thời gian hết hạn" in html
