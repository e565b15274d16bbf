"""Running the hub's own Alembic environment from code (CLI, tests); the pieces are shared with
the VXP stand-in (``axis_connector.vxp_standin.migrate``), which keeps its own tables the same
way: :class:`OwnMigrations` and :func:`run_env`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

__all__ = ["VERSION_TABLE", "OwnMigrations", "alembic_config", "check", "run_env", "upgrade"]

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "axis_alembic_version"


class OwnMigrations:
    """An application's own Alembic environment in ``script_location``, recorded in its own
    ``version_table`` (so it can share a database with the app's migrations)."""

    def __init__(self, script_location: Path, version_table: str) -> None:
        self.script_location = script_location
        self.version_table = version_table

    def config(self, url: str) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(self.script_location))
        cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return cfg

    def upgrade(self, url: str, revision: str = "head") -> None:
        command.upgrade(self.config(url), revision)

    def check(self, url: str) -> None:
        """Raise if the models and the migrated schema differ."""
        command.check(self.config(url))


HUB = OwnMigrations(HERE / "migrations", VERSION_TABLE)


def alembic_config(url: str) -> Config:
    return HUB.config(url)


def upgrade(url: str, revision: str = "head") -> None:
    HUB.upgrade(url, revision)


def check(url: str) -> None:
    """Raise if the models and the migrated schema differ."""
    HUB.check(url)


def run_env(context: Any, metadata: MetaData, version_table: str, table_prefix: str,
            how_to_run: str) -> None:
    """The body of an own environment's ``env.py``: only the tables named ``table_prefix...``
    are compared, our TypeDecorators written as plain SQLAlchemy types (migrations never import
    app code), SQLite altered in batches."""
    from axis_connector.hub.db import UTCDateTime, make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit(f"Run through {how_to_run} (it sets the URL).")

    def include_name(name, type_, parent_names) -> bool:
        """The database may hold other applications' tables: look only at ours."""
        if type_ == "table":
            return bool(name) and name.startswith(table_prefix)
        return True

    def render_item(type_, obj, autogen_context):
        if type_ == "type" and isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        return False

    def configure(**kwargs) -> None:
        context.configure(target_metadata=metadata, version_table=version_table,
                          include_name=include_name, render_item=render_item, compare_type=True,
                          transaction_per_migration=True, **kwargs)

    if context.is_offline_mode():
        configure(url=url, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
