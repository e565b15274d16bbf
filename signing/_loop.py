"""One asyncio event loop per thread, kept between calls, for the synchronous entry points
(``validate_pdf``, ``sign_pdf``, ``check_certificate``) over pyHanko's async API.

``asyncio.run`` makes a new loop (a selector and a self-pipe), installs a SIGINT handler,
then shuts everything down again on every call: 77 µs measured alone (8 µs here), and ~10 %
of ``validate_pdf``'s samples in bench/exchange.py's recipient profile, where the machine is
loaded. The loop here lives as long as its thread and is closed when the thread ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _ThreadLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:  # the thread ended (thread-locals are dropped with it)
        if not self.loop.is_closed():
            self.loop.close()


_local = threading.local()


def thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's loop (made on first use, made again if someone closed it)."""
    holder: _ThreadLoop | None = getattr(_local, "holder", None)
    if holder is None or holder.loop.is_closed():
        holder = _local.holder = _ThreadLoop()
    return holder.loop


def run_sync(coro: Coroutine[Any, Any, T], refusal: type[Exception] = RuntimeError) -> T:
    """Run ``coro`` to completion on this thread's loop. Like ``asyncio.run``, refuses to run
    inside a running event loop (``refusal``; the coroutine is closed, never started)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise refusal("Inside an event loop: use the async_ variant.")
    loop = thread_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        # what asyncio.run does on the way out, so no task outlives the call
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
