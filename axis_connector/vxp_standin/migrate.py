"""Running the stand-in's own Alembic environment from code (CLI, tests, the demo), the way
the hub runs its own (``axis_connector.hub.migrate.OwnMigrations``)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from axis_connector.hub.migrate import OwnMigrations

__all__ = ["VERSION_TABLE", "alembic_config", "check", "upgrade"]

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "vxp_alembic_version"
STANDIN = OwnMigrations(HERE / "migrations", VERSION_TABLE)


def alembic_config(url: str) -> Config:
    return STANDIN.config(url)


def upgrade(url: str, revision: str = "head") -> None:
    STANDIN.upgrade(url, revision)


def check(url: str) -> None:
    """Raise if the models and the migrated schema differ."""
    STANDIN.check(url)
