"""The synchronous entry points run pyHanko's async API on one event loop per thread."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from signing import sign_pdf, validate_pdf
from signing._loop import run_sync, thread_loop
from signing.errors import SigningError


def test_validations_in_a_row_share_the_threads_loop_and_agree(seal, trust, demo_pdf):
    signed = sign_pdf(demo_pdf, seal, trust=trust)
    loop = thread_loop()
    first = validate_pdf(signed, trust)
    second = validate_pdf(signed, trust)
    assert first.verdict.value == "valid"
    assert second == first
    i = signed.index(b"842")  # the page height, within the signed range
    assert validate_pdf(signed[:i] + b"843" + signed[i + 3:], trust).verdict.value == "invalid"
    assert validate_pdf(signed, trust) == first
    assert thread_loop() is loop and not loop.is_closed()
    assert not [t for t in asyncio.all_tasks(loop) if not t.done()]


def test_each_thread_has_its_own_loop_closed_when_the_thread_ends():
    mine = thread_loop()
    seen: list[asyncio.AbstractEventLoop] = []

    def work() -> None:
        seen.append(thread_loop())
        assert run_sync(asyncio.sleep(0, result=7)) == 7

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    del thread
    gc.collect()
    assert seen[0] is not mine
    assert seen[0].is_closed()
    assert not mine.is_closed()


def test_a_loop_closed_by_someone_is_replaced():
    thread_loop().close()
    assert run_sync(asyncio.sleep(0, result="ok")) == "ok"
    assert not thread_loop().is_closed()


def test_tasks_left_behind_are_cancelled_as_asyncio_run_does():
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def straggler() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> str:
        asyncio.get_running_loop().create_task(straggler())
        await started.wait()
        return "done"

    assert run_sync(main()) == "done"
    assert cancelled == [True]
    assert not [t for t in asyncio.all_tasks(thread_loop()) if not t.done()]


def test_inside_a_running_loop_the_sync_calls_refuse(seal, trust, demo_pdf):
    signed = sign_pdf(demo_pdf, seal, trust=trust)

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="async_"):
            validate_pdf(signed, trust)
        with pytest.raises(SigningError, match="async_"):
            sign_pdf(demo_pdf, seal, trust=trust)

    asyncio.run(inside())
