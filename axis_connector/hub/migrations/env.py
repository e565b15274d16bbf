"""Alembic environment of the axis hub: its own version table, only ``axis_`` tables compared."""

from __future__ import annotations

from alembic import context

from axis_connector.hub.migrate import VERSION_TABLE, run_env
from axis_connector.hub.models import Base

run_env(context, Base.metadata, VERSION_TABLE, "axis_",
        "`flask --app axis_connector.hub db-upgrade`")
