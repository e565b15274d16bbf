"""The worker's side: the timed job that starts the OCR thread, and the thread's loop."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy.orm import Session

from ioffice.exchange.worker import PERIODIC_JOBS
from ioffice.ocr import engine, service, worker
from ioffice.ocr.models import OcrJob, OcrState
from ioffice.storage import BlobStore
from tests.support.factories import actor


def test_the_exchange_worker_starts_the_ocr_on_its_timer() -> None:
    [job] = [j for j in PERIODIC_JOBS if j.name == "ocr"]
    assert job.every <= 5 and job.run is worker.start_pending


def test_the_thread_drains_the_queue_oldest_first_and_stops(db: Session, blobs: BlobStore,
                                                            connection, monkeypatch) -> None:
    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint",
                       expire_on_commit=False)

    rt = SimpleNamespace(session_factory=sessions, blobs=blobs)
    assert worker.start_pending(rt) is False  # nothing waits: no thread
    clerk = actor(db, "vanthu.camau")
    from PIL import Image

    from ioffice.ocr import specimen

    scan = specimen.to_pdf([Image.new("L", (80, 110), 255)], 10)
    ids = [service.start_scan(db, blobs, clerk, f"quet-{n}.pdf", scan).job.id for n in range(3)]
    db.commit()
    order: list[int] = []

    def fake(data: bytes, pages: int, *, progress) -> engine.OcrOutput:
        progress(pages)
        return engine.OcrOutput(data, ["Số: 01/UBND-VP"])

    monkeypatch.setattr(engine, "ocr_pdf", fake)
    monkeypatch.setattr(service, "run_next", _recording(service.run_next, order))
    assert worker.drain(rt) == 3
    assert order == ids
    for job_id in ids:
        job = db.get(OcrJob, job_id, populate_existing=True)
        assert job.state is OcrState.DONE and job.fields["number"] == "01"


def _recording(run_next, order):
    def run(factory, blobs, **kwargs):
        done = run_next(factory, blobs, **kwargs)
        if done is not None:
            order.append(done)
        return done
    return run
