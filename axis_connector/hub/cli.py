"""Commands: ``flask --app axis_connector.hub db-upgrade | add-system | add-agency | move-agency |
remove-agency | directory-log | forward``. These are the operator's: the directory guard of
``registerAgency`` does not apply to them, and every change they make is logged."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import click
from flask import Flask, current_app

from . import migrate, services, worker
from .models import Agency
from .services import OPERATOR, AgencyInput, HubError

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
@click.option("--may-register", "may_register", default="",
              help="Agency codes it may registerAgency, e.g. '*.H12' (default: none)")
@click.option("--base-url", default=None, help="Its own address: registerCallback only under it")
@click.option("--callback-url", default=None, help="Push notifications to this URL")
def add_system(system_id: str, name: str, secret: str | None, admin: bool, patterns: str,
               may_register: str, base_url: str | None, callback_url: str | None) -> None:
    """Connect a system to this hub (or update it) and print its secret."""
    secret = secret or secrets.token_urlsafe(32)
    with _hub().db.session() as session:
        try:
            services.add_system(session, system_id, name or system_id, secret, is_admin=admin,
                                organ_patterns=patterns, callback_url=callback_url,
                                register_patterns=may_register, base_url=base_url)
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
        try:
            services.register_agency(session, hub.settings, OPERATOR, AgencyInput(
                organ_id, name, parent, level, certificate_pem=pem, system_id=system_id))
        except HubError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"{organ_id} -> {system_id}")


@click.command("move-agency")
@click.argument("organ_id")
@click.option("--system", "system_id", required=True, help="The system that receives for it from now on")
@click.option("--reason", default="", help="Why (kept in the directory log)")
def move_agency(organ_id: str, system_id: str, reason: str) -> None:
    """Move a registered agency to another system (the only way a code changes system)."""
    with _hub().db.session() as session:
        try:
            old = session.get(Agency, organ_id)
            old_system = old.system_id if old is not None else None
            services.move_agency(session, organ_id, system_id, reason=reason)
        except HubError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"{organ_id}: {old_system} -> {system_id}")


@click.command("remove-agency")
@click.argument("organ_id")
@click.option("--reason", default="", help="Why (kept in the directory log)")
def remove_agency(organ_id: str, reason: str) -> None:
    """Remove an agency from the directory."""
    with _hub().db.session() as session:
        try:
            services.remove_agency(session, organ_id, reason=reason)
        except HubError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"{organ_id} removed")


@click.command("directory-log")
@click.option("--agency", "organ_id", default=None, help="Only this agency code")
@click.option("--limit", default=50, show_default=True)
def directory_log(organ_id: str | None, limit: int) -> None:
    """The latest directory changes and refused registrations, newest first."""
    with _hub().db.session() as session:
        for e in services.directory_log(session, organ_id=organ_id, limit=limit):
            moved = f"{e.old_system_id or '-'} -> {e.new_system_id or '-'}"
            click.echo("\t".join((e.at.isoformat(timespec="seconds"), e.action, e.actor,
                                  e.organ_id or e.system_id or "", moved, e.detail)))


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
    for command in (db_upgrade, add_system, add_agency, move_agency, remove_agency, directory_log,
                    forward):
        app.cli.add_command(command)
