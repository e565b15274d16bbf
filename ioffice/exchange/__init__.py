"""Exchange: the connector between iOffice and the document exchange axis (docs/exchange.md).

``dispatch`` queues an outgoing document in the caller's transaction; the worker
(``ioffice.exchange.worker``) builds, signs and sends it, polls the hubs, verifies and stores
what arrives, and sends statuses back. ``recipient_statuses`` tells a sender what each
recipient did.
"""

from ioffice.exchange.dispatch import (
    OutgoingEdoc,
    RecipientStatus,
    StatusEvent,
    dispatch,
    install_listeners,
    recipient_statuses,
)
from ioffice.exchange.errors import ConfidentialRefused, ExchangeError, UnknownRecipients
from ioffice.exchange.runtime import Exchange, exchange

__all__ = [
    "ConfidentialRefused",
    "Exchange",
    "ExchangeError",
    "OutgoingEdoc",
    "RecipientStatus",
    "StatusEvent",
    "UnknownRecipients",
    "dispatch",
    "exchange",
    "install_listeners",
    "recipient_statuses",
]
