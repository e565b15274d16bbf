"""Commands: ``flask --app axis_connector.hub db-upgrade | add-system | add-agency | forward``."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import click
from flask import Flask, current_app

from . import migrate, services, worker
from .directory import SystemEntry
from .services import AgencyInput, HubError

__all__ = ["init_app"]


def _hub():
    return current_app.extensions["axis_hub"]


@click.command("db-upgrade")
def db_upgrade() -> None:
    """Migrate the hub database to the latest schema."""
    migrate.upgrade(_hub().db.url)
    click.echo("axis hub database is up to date")


@click.command("add-system")
@click.argument("system_id")
@click.option("--name", default="", help="Display name")
@click.option("--secret", default=None, help="HMAC secret (default: a new random one, printed)")
@click.option("--admin", is_flag=True, help="May register agencies for other systems")
@click.option("--patterns", default="", help="Agencies served without registration, e.g. '*.H12'")
@click.option("--callback-url", default=None, help="Push notifications to this URL")
def add_system(system_id: str, name: str, secret: str | None, admin: bool, patterns: str,
               callback_url: str | None) -> None:
    """Connect a system to this hub (or update it) and print its secret."""
    secret = secret or secrets.token_urlsafe(32)
    with _hub().db.session() as session:
        try:
            services.add_system(session, system_id, name or system_id, secret, is_admin=admin,
                                organ_patterns=patterns, callback_url=callback_url)
        except HubError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"{system_id}\t{secret}")


@click.command("add-agency")
@click.argument("organ_id")
@click.option("--name", required=True)
@click.option("--system", "system_id", required=True, help="The system the agency is reached through")
@click.option("--certificate", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM seal certificate the axis trusts for the agency")
@click.option("--level", default="")
@click.option("--parent", default=None)
def add_agency(organ_id: str, name: str, system_id: str, certificate: str | None, level: str,
               parent: str | None) -> None:
    """Register an agency in the directory (as an administrator)."""
    hub = _hub()
    pem = Path(certificate).read_text() if certificate else None
    with hub.db.session() as session:
        admin = SystemEntry(id="-cli-", name="cli", secret="", is_admin=True, patterns=(),
                            callback_url=None)
        try:
            services.register_agency(session, hub.settings, admin, AgencyInput(
                organ_id, name, parent, level, certificate_pem=pem, system_id=system_id))
        except HubError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"{organ_id} -> {system_id}")


@click.command("forward")
@click.option("--once", is_flag=True, help="One round, then exit")
def forward(once: bool) -> None:
    """Forward packages upstream, pull packages down, push notifications; loop until stopped."""
    hub = _hub()
    interval = float(hub.config["WORKER_INTERVAL"])
    while True:
        report = worker.run_once(hub)
        if report.total:
            click.echo(f"forwarded {report.forwarded}, pulled {report.pulled}, pushed {report.pushed}, "
                       f"failed {report.failed}")
        if once:
            return
        if report.total == 0:
            time.sleep(interval)


def init_app(app: Flask) -> None:
    for command in (db_upgrade, add_system, add_agency, forward):
        app.cli.add_command(command)
