"""In-transaction domain events: a capability announces what happened; others react.

Listeners run synchronously inside the caller's transaction, so what they write (an outbox
row for the exchange axis, say) commits or rolls back with the business change. Nothing here
leaves the process: work that does is written as a row and done after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Listener = Callable[..., None]
_listeners: dict[str, list[Listener]] = defaultdict(list)

INCOMING_REGISTERED = "incoming.registered"
INCOMING_REJECTED = "incoming.rejected"
INCOMING_DISTRIBUTED = "incoming.distributed"
INCOMING_HANDLING_STARTED = "incoming.handling_started"
INCOMING_FINISHED = "incoming.finished"


def listen(name: str, listener: Listener) -> None:
    if listener not in _listeners[name]:
        _listeners[name].append(listener)


def emit(session: Session, name: str, **data: Any) -> None:
    for listener in list(_listeners[name]):
        listener(session, **data)
