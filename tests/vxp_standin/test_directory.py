"""The directory: agency lists (with the Decision 20 -> old code mapping), registerAgency,
deleteAgency, and what a deletion does to routing."""

from __future__ import annotations

import json
import unicodedata

from axis_connector.edxml import build_package
from tests.axis_connector.conftest import make_document

from .conftest import CA_MAU, SO_TTTT, VPCP, Server


def refused(answer, code: str, http_status: int) -> str:
    data = answer.json
    assert (answer.status, data["status"], data["ErrorCode"]) == (http_status, "FAIL", code), data
    return data["ErrorDesc"]


def register(server: Server, system_id: str, payload: dict) -> object:
    return server.call("registerAgency", system_id, body=json.dumps(payload, ensure_ascii=False).encode())


def test_agencies_list(server: Server) -> None:
    data = server.ok("getAgenciesList", "sys-vpcp", body=b"")["data"]
    by_code = {a["code"]: a for a in data}
    assert set(by_code) == {CA_MAU, "000.00.01.H12", VPCP, SO_TTTT}
    assert set(by_code[VPCP]) == {"id", "pid", "code", "name", "mail", "oldCode"}
    assert (by_code[VPCP]["name"], by_code[VPCP]["mail"], by_code[VPCP]["oldCode"]) == (
        "Văn phòng Chính phủ", "vpcp@chinhphu.vn", "G22")
    assert by_code[SO_TTTT]["pid"] == by_code[CA_MAU]["id"] and by_code[CA_MAU]["pid"] is None
    assert by_code["000.00.01.H12"]["name"] == "000.00.01.H12"  # configured by code only


def test_agencies_list_qd20_maps_codes_to_the_older_ones(server: Server) -> None:
    data = server.ok("getAgenciesListQD20", "sys-camau", body=b"")["data"]
    assert {a["code"]: a["code102"] for a in data} == {CA_MAU: "H12", "000.00.01.H12": "", VPCP: "G22",
                                                      SO_TTTT: "H12.13"}
    assert set(data[0]) == {"id", "code", "name", "mail", "code102"}
    level2 = server.ok("getAgenciesListQD20", "sys-camau", {"level": "2"}, body=b"")["data"]
    assert [a["code"] for a in level2] == [SO_TTTT]


def test_register_then_delete(server: Server) -> None:
    name = unicodedata.normalize("NFD", "Sở Nội vụ tỉnh Cà Mau")
    answer = register(server, "sys-camau", {"id": "999", "pcode": CA_MAU, "code": "000.00.07.H12",
                                            "name": name, "mail": "snv@camau.gov.vn", "mobile": "0290",
                                            "fax": "0291"})
    assert answer.json["status"] == "OK", answer.json
    listed = {a["code"]: a for a in server.ok("getAgenciesList", "sys-vpcp", body=b"")["data"]}
    assert listed["000.00.07.H12"]["name"] == unicodedata.normalize("NFC", name)
    assert listed["000.00.07.H12"]["pid"] == listed[CA_MAU]["id"]
    assert listed["000.00.07.H12"]["id"] != "999"

    # it receives for sys-camau now
    server.send("sys-vpcp", build_package(make_document(sender=_vpcp_org())), VPCP, to=["000.00.07.H12"])
    assert server.ok("countReceiveEdoc", "sys-camau", {"messagetype": "edoc"})["count"] == 1

    server.ok("deleteAgency", "sys-camau", {"AgencyCode": "000.00.07.H12"})
    listed = server.ok("getAgenciesList", "sys-vpcp", body=b"")["data"]
    assert "000.00.07.H12" not in {a["code"] for a in listed}
    units = {u["code"]: u for u in server.ok("getSynchronizeUnit", "sys-vpcp", body=b"")["data"]}
    deleted = units["000.00.07.H12"]
    assert deleted["deleted"] is True and deleted["version"] == 2 and deleted["centerCode"] == "sys-camau"
    assert set(deleted) == {"id", "pid", "code", "name", "mail", "version", "centerCode", "deleted",
                            "modifyDate", "isAgency"}
    assert units[VPCP]["deleted"] is False and units[VPCP]["isAgency"] is True
    # a deleted agency receives nothing new and can no longer send
    refused(server.send("sys-vpcp", build_package(make_document(sender=_vpcp_org())), VPCP,
                        to=["000.00.07.H12"]), "133", 400)
    refused(server.send("sys-camau", build_package(make_document()), "000.00.07.H12"), "130", 403)
    # another system may take the code once it is deleted
    assert register(server, "sys-vpcp", {"code": "000.00.07.H12", "name": "Sở Nội vụ"}).json["status"] == "OK"
    units = {u["code"]: u for u in server.ok("getSynchronizeUnit", "sys-vpcp", body=b"")["data"]}
    assert (units["000.00.07.H12"]["centerCode"], units["000.00.07.H12"]["deleted"],
            units["000.00.07.H12"]["version"]) == ("sys-vpcp", False, 3)


def _vpcp_org():
    from tests.axis_connector.conftest import VPCP as ORG

    return ORG


def test_register_a_code_of_another_system(server: Server) -> None:
    assert "thuộc một hệ thống khác" in refused(register(server, "sys-vpcp", {"code": CA_MAU, "name": "X"}),
                                                 "150", 409)


def test_register_again_updates(server: Server) -> None:
    answer = register(server, "sys-camau", {"code": CA_MAU, "name": "UBND tỉnh Cà Mau (mới)"})
    assert answer.json["status"] == "OK"
    units = {u["code"]: u for u in server.ok("getSynchronizeUnit", "sys-vpcp", body=b"")["data"]}
    assert (units[CA_MAU]["name"], units[CA_MAU]["version"]) == ("UBND tỉnh Cà Mau (mới)", 2)


def test_register_bad_bodies(server: Server) -> None:
    for body in (b"", b"[]", b"not json", b"\xff\xfe", json.dumps({"name": "no code"}).encode(),
                 json.dumps({"code": "000.00.08.H12"}).encode(),
                 json.dumps({"code": "x" * 36, "name": "too long"}).encode(),
                 json.dumps({"code": "000.00.08.H12", "name": ["list"]}).encode()):
        refused(server.call("registerAgency", "sys-camau", body=body), "120", 400)


def test_delete_refusals(server: Server) -> None:
    refused(server.call("deleteAgency", "sys-camau", {"AgencyCode": VPCP}), "152", 403)
    refused(server.call("deleteAgency", "sys-camau", {"AgencyCode": "000.00.55.H12"}), "151", 404)
    refused(server.call("deleteAgency", "sys-camau"), "101", 400)
    assert VPCP in {a["code"] for a in server.ok("getAgenciesList", "sys-camau", body=b"")["data"]}


def test_configured_agencies_are_seeded_once(serve) -> None:
    """A restart (a new app on the same database) keeps registrations and deletions."""
    first = serve()
    first.ok("deleteAgency", "sys-camau", {"AgencyCode": "000.00.01.H12"})
    from axis_connector.vxp_standin import create_app

    from .conftest import standin_config

    again = create_app(standin_config(first.app.extensions["vxp_standin"].db.url))
    standin = again.extensions["vxp_standin"]
    standin.ensure_seeded()
    from sqlalchemy import select

    from axis_connector.vxp_standin.models import Agency

    with standin.db.session() as session:
        assert session.scalars(select(Agency.deleted).where(Agency.code == "000.00.01.H12")).one() is True
    standin.db.dispose()
