"""A provincial platform and a national axis for one deployment (the demo, tests, the bench).

The deployment hosts agencies at every level. It is connected as ``ioffice-camau`` to the
provincial platform (LGSP Cà Mau, serving ``*.H12``) and as ``ioffice-trunguong`` to the
national axis (the ministries, ``*.G*``); the platform itself is the system ``lgsp-camau`` of
the national axis, serving ``*.H12`` by pattern. A document from the Ministry of Home Affairs
to the province therefore goes up to the national axis and down through the platform.
"""

from __future__ import annotations

import fnmatch
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.hub import migrate as hub_migrate
from axis_connector.hub.db import Database as HubDatabase
from axis_connector.hub.models import Agency as HubAgency
from axis_connector.hub.services import (
    OPERATOR,
    AgencyInput,
    HubError,
    HubSettings,
    add_system,
    register_agency,
)
from ioffice.agencies.models import Agency
from ioffice.keys.service import agency_seal
from signing import Pki

PROVINCIAL, NATIONAL = "tinh", "quoc-gia"
PROVINCIAL_ID, NATIONAL_ID = "000.00.00.H12.LGSP", "000.00.00.TRUCQG"
PROVINCIAL_PATTERNS = ("*.H12",)
NATIONAL_PATTERNS = ("*.G*",)


@dataclass(frozen=True)
class Secrets:
    ioffice_provincial: str
    ioffice_national: str
    platform: str

    @classmethod
    def generate(cls) -> Secrets:
        return cls(*(secrets.token_urlsafe(24) for _ in range(3)))

    @classmethod
    def load_or_create(cls, path: Path) -> Secrets:
        if path.exists():
            return cls(**json.loads(path.read_text()))
        value = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value.__dict__))
        path.chmod(0o600)
        return value


def ca_pem(pki: Pki) -> str:
    store = pki.trust_store()
    return "".join(x509.load_der_x509_certificate(c.dump()).public_bytes(Encoding.PEM).decode()
                   for c in (*store.roots, *store.intermediates) if c.ca)


def hub_configs(provincial_db: str, national_db: str, national_url: str, secrets_: Secrets,
                pki: Pki) -> tuple[dict, dict]:
    """Configs for ``axis_connector.hub.create_app`` of the platform and of the national axis."""
    pem = ca_pem(pki)
    provincial = {"DATABASE_URL": provincial_db, "ORGAN_ID": PROVINCIAL_ID, "NAME": "LGSP Cà Mau",
                  "TRUSTED_CA_PEM": pem, "UPSTREAM_URL": national_url,
                  "UPSTREAM_SYSTEM_ID": "lgsp-camau", "UPSTREAM_SECRET": secrets_.platform,
                  "SERVED_PATTERNS": ",".join(PROVINCIAL_PATTERNS), "PUSH_INLINE": False,
                  "WORKER_INTERVAL": 0.5, "FORWARD_BACKOFF_SECONDS": 0.5,
                  "ALLOW_PRIVATE_CALLBACKS": True}  # every system of the demo is on this machine
    national = {"DATABASE_URL": national_db, "ORGAN_ID": NATIONAL_ID,
                "NAME": "Trục liên thông văn bản quốc gia", "TRUSTED_CA_PEM": pem,
                "PUSH_INLINE": False, "WORKER_INTERVAL": 0.5, "ALLOW_PRIVATE_CALLBACKS": True}
    return provincial, national


def exchange_hubs(provincial_url: str, national_url: str, secrets_: Secrets) -> list[dict]:
    """The value of ``IOFFICE_EXCHANGE_HUBS`` for this deployment."""
    return [
        {"name": PROVINCIAL, "url": provincial_url, "system_id": "ioffice-camau",
         "secret": secrets_.ioffice_provincial, "agencies": list(PROVINCIAL_PATTERNS)},
        {"name": NATIONAL, "url": national_url, "system_id": "ioffice-trunguong",
         "secret": secrets_.ioffice_national, "agencies": list(NATIONAL_PATTERNS)},
    ]


@dataclass(frozen=True)
class AgencyCard:
    code: str
    name: str
    level: str
    parent: str | None
    certificate_pem: str | None


def agency_cards(session: Session, pki: Pki, codes: Collection[str] | None = None) -> list[AgencyCard]:
    """Every local agency (or those of ``codes``) with its seal certificate (PEM), as the hubs'
    directory needs it."""
    cards = []
    query = select(Agency).order_by(Agency.id)
    if codes is not None:
        query = query.where(Agency.code.in_(list(codes)))
    for agency in session.scalars(query):
        seal = agency_seal(session, agency.id)
        pem = None
        if seal is not None:
            der = pki.certificate(int(seal.serial)).dump()
            pem = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()
        cards.append(AgencyCard(agency.code, agency.name, agency.level.value,
                                agency.parent.code if agency.parent else None, pem))
    return cards


def _matches(code: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(code, p) for p in patterns)


def bootstrap(provincial_db: str, national_db: str, secrets_: Secrets,
              cards: list[AgencyCard], *, migrate: bool = True,
              callback_base_url: str | None = None) -> None:
    """Migrate both hub databases, connect the systems, register the agencies (idempotent).
    ``callback_base_url``: the deployment's push address (``EXCHANGE_CALLBACK_URL``), set as
    its systems' base URL so that the hubs accept it in ``registerCallback``."""
    if migrate:
        hub_migrate.upgrade(provincial_db)
        hub_migrate.upgrade(national_db)
    # (system, name, secret, patterns it serves, codes it may register): the deployment's
    # iOffice registers the agencies created later itself (worker.register_agencies)
    for url, systems, patterns, system_id in (
        (national_db, (("ioffice-trunguong", "iOffice – các bộ, ngành", secrets_.ioffice_national, "",
                        ",".join(NATIONAL_PATTERNS)),
                       ("lgsp-camau", "LGSP Cà Mau", secrets_.platform, "*.H12", "")),
         NATIONAL_PATTERNS, "ioffice-trunguong"),
        (provincial_db, (("ioffice-camau", "iOffice – tỉnh Cà Mau", secrets_.ioffice_provincial, "",
                          ",".join(PROVINCIAL_PATTERNS)),),
         PROVINCIAL_PATTERNS, "ioffice-camau"),
    ):
        db = HubDatabase(url)
        try:
            with db.session() as session:
                for sid, name, secret, organ_patterns, grants in systems:
                    base = callback_base_url if sid.startswith("ioffice-") else None
                    add_system(session, sid, name, secret, organ_patterns=organ_patterns,
                               register_patterns=grants, base_url=base)
                settings = HubSettings(organ_id="setup")
                for card in cards:
                    if not _matches(card.code, patterns):
                        continue
                    existing = session.get(HubAgency, card.code)
                    if existing is not None and existing.system_id == system_id \
                            and existing.certificate_pem == card.certificate_pem \
                            and existing.name == card.name and existing.parent_id == card.parent:
                        continue
                    try:
                        register_agency(session, settings, OPERATOR, AgencyInput(
                            card.code, card.name, card.parent, card.level,
                            certificate_pem=card.certificate_pem, system_id=system_id))
                    except HubError:
                        continue
                session.commit()
        finally:
            db.dispose()
