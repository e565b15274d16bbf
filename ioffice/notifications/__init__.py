"""Notifications: the bell, e-mail through an outbox, reminders of deadlines and chasing.

Each business operation that should tell someone calls :func:`notify` (or
:func:`notify_many`) in its own transaction; the rows commit or roll back with it. Mail leaves
the process only from the worker (:mod:`ioffice.notifications.mail`). docs/notifications.md.
"""

from ioffice.notifications.models import Channel, Kind
from ioffice.notifications.service import Notice, notify, notify_many

__all__ = ["Channel", "Kind", "Notice", "notify", "notify_many"]
