"""Running Alembic from code (CLI commands, tests) against a given database URL.

The migrations live in the repository's top-level ``migrations/`` folder; the wheel ships them
as the package ``ioffice._migrations`` (setup.py). No ``alembic.ini`` is read: the options it
holds for a person running ``alembic`` in a checkout are set here, so an installed package
needs none.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = Path(__file__).resolve().parent / "_migrations"


def migrations_dir() -> Path:
    """The installed copy when there is one, else the checkout's folder."""
    return PACKAGED if (PACKAGED / "env.py").exists() else ROOT / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrated schema differ."""
    command.check(alembic_config(url))
