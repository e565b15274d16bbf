"""Who may register which agency code (issue 15, "Directory hijack on the axis"): a system only
codes under its grants, never a code another system serves (registered or by pattern); a code
moves only by the operator's command; every change, and every refused claim, is logged."""

from __future__ import annotations

import pytest
from flask import Flask

from axis_connector.client import AxisClient, AxisError
from axis_connector.edxml import Organization
from axis_connector.hub.models import DirectoryEvent
from axis_connector.hub.services import add_system, directory_log
from tests.axis_connector.pki import Identity
from tests.support.flask_pool import FlaskPool

from .conftest import CA_MAU, SO_TTTT, VPCP, make_document, sign

BAC_LIEU = Organization(organ_id="000.00.00.H04", organ_name="UBND tỉnh Bạc Liêu")
LGSP_SECRET = "secret-lgsp-baclieu-0123456789"


def _events(app: Flask, organ_id: str | None = None) -> list[DirectoryEvent]:
    with app.extensions["axis_hub"].db.session() as session:
        events = directory_log(session, organ_id=organ_id)
        session.expunge_all()
        return events


def _refused(call) -> str:
    with pytest.raises(AxisError) as info:
        call()
    return info.value.code


class _Cli:
    """The hub's commands as the operator runs them (``flask --app axis_connector.hub ...``)."""

    def __init__(self, app: Flask) -> None:
        self.app, self.runner = app, app.test_cli_runner()

    def invoke(self, *, args: list[str]):
        with self.app.app_context():
            return self.runner.invoke(args=args)


@pytest.fixture
def platform(app: Flask) -> AxisClient:
    """A provincial platform reaching ``*.H04`` by pattern, and sys-vpcp granted every code."""
    with app.extensions["axis_hub"].db.session() as session:
        add_system(session, "lgsp-baclieu", "LGSP Bạc Liêu", LGSP_SECRET, organ_patterns="*.H04")
        add_system(session, "sys-vpcp", "sys-vpcp", "secret-vpcp-0123456789", register_patterns="*")
        session.commit()
    return AxisClient("http://hub", "lgsp-baclieu", LGSP_SECRET, pool=FlaskPool(app.test_client()))


def test_a_code_served_by_another_systems_pattern_cannot_be_claimed(
        app: Flask, clients: dict[str, AxisClient], platform: AxisClient,
        seals: dict[str, Identity]) -> None:
    # sys-vpcp may register any code, yet not one the platform serves by its pattern
    assert _refused(lambda: clients["vpcp"].register_agency(
        BAC_LIEU.organ_id, "Chiếm mã của tỉnh khác")) == "agency_served_by_pattern"
    assert BAC_LIEU.organ_id not in {a.organ_id for a in clients["vpcp"].get_agencies_list()}

    # the rightful platform keeps receiving the agency's mail
    sent = clients["camau"].send_edoc(sign(make_document(recipients=(BAC_LIEU,)), seals[CA_MAU.organ_id]))
    assert [i.message_id for i in platform.get_received_edoc_list()] == [sent.message_id]
    assert clients["vpcp"].get_received_edoc_list() == []

    [refusal] = _events(app, BAC_LIEU.organ_id)
    assert (refusal.action, refusal.actor, refusal.new_system_id) == ("refused", "sys-vpcp", "sys-vpcp")
    assert refusal.detail.startswith("agency_served_by_pattern")


def test_a_system_registers_only_codes_under_its_grants(app: Flask, clients: dict[str, AxisClient]) -> None:
    info = clients["sotttt"].register_agency("000.01.13.H12", "Phòng CNTT", parent_id=SO_TTTT.organ_id)
    assert info.system_id == "sys-sotttt"
    [event] = _events(app, "000.01.13.H12")
    assert (event.action, event.actor, event.old_system_id, event.new_system_id) == \
        ("register", "sys-sotttt", None, "sys-sotttt")

    assert _refused(lambda: clients["sotttt"].register_agency("000.00.20.H12", "Sở khác")) \
        == "agency_not_granted"
    # a system connected before the guard (no grant yet) registers nothing new
    assert _refused(lambda: clients["admin"].register_agency("000.00.21.H12", "X")) == "agency_not_granted"
    # updating its own registration needs no new grant
    clients["camau"].register_agency(CA_MAU.organ_id, "UBND tỉnh Cà Mau (đổi tên)")
    assert _events(app, CA_MAU.organ_id)[0].action == "update"


def test_a_registered_code_is_neither_taken_nor_moved_by_a_system(
        app: Flask, clients: dict[str, AxisClient]) -> None:
    refusals = {
        "agency_taken": lambda: clients["camau"].register_agency(VPCP.organ_id, "Chiếm chỗ"),
        "move_requires_operator": lambda: clients["admin"].register_agency(
            VPCP.organ_id, "Chuyển", system_id="sys-camau"),
        "forbidden": lambda: clients["camau"].register_agency("000.02.13.H12", "X", system_id="sys-vpcp"),
    }
    for code, call in refusals.items():
        assert _refused(call) == code
    assert {a.organ_id: a.system_id for a in clients["vpcp"].get_agencies_list()}[VPCP.organ_id] == "sys-vpcp"
    logged = [e.detail.split(":")[0] for e in _events(app) if e.action == "refused"]
    assert sorted(logged) == sorted(refusals)


def test_the_operator_moves_and_removes_codes_and_both_are_logged(
        app: Flask, clients: dict[str, AxisClient], seals: dict[str, Identity]) -> None:
    runner = _Cli(app)
    result = runner.invoke(args=["move-agency", SO_TTTT.organ_id, "--system", "sys-camau",
                                 "--reason", "sáp nhập"])
    assert result.exit_code == 0, result.output
    assert "sys-sotttt -> sys-camau" in result.output
    sent = clients["camau"].send_edoc(sign(make_document(recipients=(SO_TTTT,)), seals[CA_MAU.organ_id]))
    assert [i.message_id for i in clients["camau"].get_received_edoc_list()] == [sent.message_id]
    assert clients["sotttt"].get_received_edoc_list() == []

    assert runner.invoke(args=["remove-agency", SO_TTTT.organ_id]).exit_code == 0
    assert SO_TTTT.organ_id not in {a.organ_id for a in clients["camau"].get_agencies_list()}
    remove, move, register = _events(app, SO_TTTT.organ_id)[:3]
    assert (move.action, move.actor, move.old_system_id, move.new_system_id, move.detail) == \
        ("move", "operator", "sys-sotttt", "sys-camau", "sáp nhập")
    assert (remove.action, remove.old_system_id) == ("remove", "sys-camau")
    assert (register.action, register.actor) == ("register", "operator")

    log = runner.invoke(args=["directory-log", "--agency", SO_TTTT.organ_id])
    assert log.exit_code == 0 and [line.split("\t")[1] for line in log.output.splitlines()][:2] == \
        ["remove", "move"]
    refused = runner.invoke(args=["move-agency", "000.99.99.H12", "--system", "sys-camau"])
    assert refused.exit_code != 0 and "chưa đăng ký" in refused.output


def test_grants_are_set_by_the_operator_and_logged(app: Flask, clients: dict[str, AxisClient]) -> None:
    runner = _Cli(app)
    result = runner.invoke(args=["add-system", "sys-admin", "--secret", "secret-admin-0123456789",
                                 "--may-register", "000.00.21.H12", "--base-url", "https://qtri.example/axis"])
    assert result.exit_code == 0, result.output
    assert clients["admin"].register_agency("000.00.21.H12", "Sở mới").system_id == "sys-admin"
    grant = next(e for e in _events(app) if e.action == "grant" and e.system_id == "sys-admin")
    assert "may_register='000.00.21.H12'" in grant.detail and "https://qtri.example/axis" in grant.detail
