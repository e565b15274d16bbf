"""Alembic environment of the VXP stand-in: its own version table, only ``vxp_`` tables compared."""

from __future__ import annotations

from alembic import context

from axis_connector.hub.db import UTCDateTime, make_engine
from axis_connector.vxp_standin.migrate import VERSION_TABLE
from axis_connector.vxp_standin.models import Base

config = context.config
metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("Run through axis_connector.vxp_standin.migrate.upgrade (it sets the URL).")
    return url


def _include_name(name, type_, parent_names) -> bool:
    """The database may hold other applications' tables: look only at ours."""
    if type_ == "table":
        return bool(name) and name.startswith("vxp_")
    return True


def _render_item(type_, obj, autogen_context):
    """Write our TypeDecorators as plain SQLAlchemy types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=_include_name,
        render_item=_render_item,
        compare_type=True,
        transaction_per_migration=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
