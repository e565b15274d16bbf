"""The worker's OCR: a thread of its own beside the exchange loop, so that a 200-page scan
does not hold up sending and receiving. The exchange worker's timed job :func:`start_pending`
(every :data:`CHECK_SECONDS`, and at once after a commit that queued a job: wake.py) starts the
thread when jobs wait and none runs; the thread drains the queue and ends."""

from __future__ import annotations

import logging
import threading

from ioffice.exchange.runtime import Exchange
from ioffice.ocr import service

log = logging.getLogger(__name__)

CHECK_SECONDS = 3
_lock = threading.Lock()
_thread: threading.Thread | None = None


def start_pending(rt: Exchange) -> bool:
    """Start the OCR thread if jobs wait and it is not running; True if it runs now."""
    global _thread
    try:
        with _lock:
            if _thread is not None and _thread.is_alive():
                return True
            with rt.session_factory() as session:
                if not service.has_pending(session):
                    return False
            _thread = threading.Thread(target=drain, args=(rt,), name="ioffice-ocr", daemon=True)
            _thread.start()
            return True
    except Exception:
        log.exception("starting the OCR thread failed")
        return False


def drain(rt: Exchange, limit: int | None = None) -> int:
    """Do queued OCR jobs one after another until none is left (or ``limit`` done)."""
    done = 0
    while limit is None or done < limit:
        try:
            job_id = service.run_next(rt.session_factory, rt.blobs)
        except Exception:  # a job that breaks the engine's wrapper: logged, the thread ends
            log.exception("OCR job failed")
            return done
        if job_id is None:
            return done
        done += 1
    return done
