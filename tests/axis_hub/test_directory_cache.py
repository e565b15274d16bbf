"""Each hub process caches the directory (systems, agencies, seal certificates) and checks its
version per request: a change made through any process is seen by every other one at once."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from axis_connector.client import AxisClient, AxisError
from axis_connector.edxml import Organization
from axis_connector.hub import create_app, directory
from tests.axis_connector.pki import Identity, make_agency

from .conftest import CA_MAU, SECRETS, VPCP, FlaskPool, hub_config, make_document, pem, set_base_url, sign

CA_NUOC = Organization(organ_id="000.01.30.H12", organ_name="Sở Tài nguyên và Môi trường")


@pytest.fixture
def other_process(app: Flask, hub_database_url: str, root_ca: Identity) -> dict[str, AxisClient]:
    """A second hub application on the same database: another process with its own cache."""
    other = create_app(hub_config(hub_database_url, root_ca))
    pool = FlaskPool(other.test_client())
    yield {name.removeprefix("sys-"): AxisClient("http://hub", name, secret, pool=pool)
           for name, secret in SECRETS.items()}
    other.extensions["axis_hub"].db.dispose()


def test_an_agency_registered_elsewhere_is_routable_at_once(
        clients: dict[str, AxisClient], other_process: dict[str, AxisClient],
        seals: dict[str, Identity]) -> None:
    package = make_document(recipients=(VPCP,))
    clients["camau"].send_edoc(sign(package, seals[CA_MAU.organ_id]))  # this process caches it
    to_new = dataclasses.replace(package, document_id=package.document_id + "-2", recipients=(CA_NUOC,))
    with pytest.raises(AxisError) as refused:
        clients["camau"].send_edoc(sign(to_new, seals[CA_MAU.organ_id]))
    assert refused.value.code == "unknown_recipient"

    other_process["admin"].register_agency(CA_NUOC.organ_id, CA_NUOC.organ_name, system_id="sys-vpcp")

    sent = clients["camau"].send_edoc(sign(to_new, seals[CA_MAU.organ_id]))
    assert not sent.duplicate
    assert [i.to for i in clients["vpcp"].get_received_edoc_list()] == [(VPCP.organ_id,),
                                                                        (CA_NUOC.organ_id,)]


def test_a_replaced_seal_certificate_is_enforced_at_once(
        clients: dict[str, AxisClient], other_process: dict[str, AxisClient],
        seals: dict[str, Identity], root_ca: Identity) -> None:
    old_seal = seals[CA_MAU.organ_id]
    package = make_document(recipients=(VPCP,))
    clients["camau"].send_edoc(sign(package, old_seal))

    new_seal = make_agency(root_ca, CA_MAU.organ_id, CA_MAU.organ_name)
    other_process["admin"].register_agency(CA_MAU.organ_id, CA_MAU.organ_name, system_id="sys-camau",
                                           certificate_pem=pem(new_seal))

    second = dataclasses.replace(package, document_id=package.document_id + "-2")
    with pytest.raises(AxisError) as refused:
        clients["camau"].send_edoc(sign(second, old_seal))
    assert refused.value.code == "untrusted_certificate"
    assert not clients["camau"].send_edoc(sign(second, new_seal)).duplicate


def test_the_directory_is_loaded_once_while_it_does_not_change(
        app: Flask, clients: dict[str, AxisClient], seals: dict[str, Identity],
        monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[int] = []
    real_load = directory._load
    monkeypatch.setattr(directory, "_load", lambda session, version: loads.append(version)
                        or real_load(session, version))
    base = make_document(recipients=(VPCP,))
    for i in range(3):
        package = dataclasses.replace(base, document_id=f"{base.document_id}-{i}")
        clients["camau"].send_edoc(sign(package, seals[CA_MAU.organ_id]))
    clients["vpcp"].get_received_edoc_list()
    assert len(loads) == 1

    set_base_url(app, "sys-vpcp", "http://127.0.0.1:9")  # the operator's change: reloaded once
    clients["vpcp"].register_callback("http://127.0.0.1:9/callback")  # and again
    clients["vpcp"].get_received_edoc_list()
    clients["camau"].get_received_edoc_list()
    assert len(loads) == 3 and loads[2] > loads[1] > loads[0]


def test_an_unknown_system_is_refused_even_after_another_connected(
        clients: dict[str, AxisClient], other_process: dict[str, AxisClient], app: Flask) -> None:
    stranger = AxisClient("http://hub", "sys-new", "secret-new-0123456789", pool=FlaskPool(app.test_client()))
    with pytest.raises(AxisError) as refused:
        stranger.get_received_edoc_list()
    assert refused.value.code == "unknown_system"

    hub = app.extensions["axis_hub"]
    with hub.db.session() as session:
        from axis_connector.hub.services import add_system

        add_system(session, "sys-new", "Hệ thống mới", "secret-new-0123456789")
        session.commit()
    assert stranger.get_received_edoc_list() == []
