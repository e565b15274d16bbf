"""Alembic environment: one transaction per migration, the models' metadata as target."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from ioffice.db import UTCDateTime, make_engine
from ioffice.models import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("IOFFICE_DATABASE_URL")
    if not url:
        raise SystemExit("Set IOFFICE_DATABASE_URL (or run through `ioffice db upgrade`).")
    return url


def _render_item(type_: str, obj, autogen_context):
    """Write our TypeDecorators as plain SQLAlchemy types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Full-text search objects the models cannot describe (docs/search.md): the FTS5 table and its
# shadow tables on SQLite, the generated tsvector column and its GIN index on PostgreSQL.
_FTS_INDEXES = {"ix_search_entries_tsv", "ix_search_outgoing_entries_tsv"}
_SEARCH_TABLES = ("search_entries", "search_outgoing_entries")


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(("search_fts", "search_outgoing_fts")):
        return False
    if type_ == "index" and name in _FTS_INDEXES:
        return False
    return not (type_ == "column" and name in ("tsv", "meta_tsv")
                and obj.table.name in _SEARCH_TABLES)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True,
                      render_as_batch=True, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      transaction_per_migration=True, compare_type=True,
                      render_item=_render_item, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
