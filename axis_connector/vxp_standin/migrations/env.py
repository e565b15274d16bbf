"""Alembic environment of the VXP stand-in: its own version table, only ``vxp_`` tables compared."""

from __future__ import annotations

from alembic import context

from axis_connector.hub.migrate import run_env
from axis_connector.vxp_standin.migrate import VERSION_TABLE
from axis_connector.vxp_standin.models import Base

run_env(context, Base.metadata, VERSION_TABLE, "vxp_", "axis_connector.vxp_standin.migrate.upgrade")
