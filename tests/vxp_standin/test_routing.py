"""Who may send for which agency, and to whom."""

from __future__ import annotations

from axis_connector.edxml import build_package
from tests.axis_connector.conftest import make_document

from .conftest import CA_MAU, SO_TTTT, VPCP, Server


def refused(answer, code: str, http_status: int) -> str:
    data = answer.json
    assert (answer.status, data["status"], data["ErrorCode"]) == (http_status, "FAIL", code), data
    return data["ErrorDesc"]


def _counts(server: Server) -> tuple[int, int]:
    return tuple(server.ok("countReceiveEdoc", system, {"messagetype": "edoc"})["count"]
                 for system in ("sys-vpcp", "sys-sotttt"))


def test_from_an_agency_of_another_system(server: Server) -> None:
    package = build_package(make_document())  # From: CA_MAU, which is sys-camau's
    assert CA_MAU in refused(server.send("sys-vpcp", package, CA_MAU), "130", 403)
    assert _counts(server) == (0, 0)


def test_from_an_agency_not_in_the_directory(server: Server) -> None:
    refused(server.send("sys-camau", build_package(make_document()), "000.00.99.H12"), "130", 403)


def test_from_header_must_match_the_package(server: Server) -> None:
    package = build_package(make_document())  # From: CA_MAU
    desc = refused(server.send("sys-camau", package, "000.00.01.H12"), "131", 400)  # sys-camau's too
    assert CA_MAU in desc and "000.00.01.H12" in desc


def test_unknown_recipient_in_the_to_header(server: Server) -> None:
    package = build_package(make_document())
    desc = refused(server.send("sys-camau", package, CA_MAU, to=[VPCP, "000.00.77.Z99"]), "133", 400)
    assert "000.00.77.Z99" in desc and VPCP not in desc
    assert _counts(server) == (0, 0)  # all or nothing


def test_unknown_recipient_in_the_package(server: Server) -> None:
    from axis_connector.edxml import Organization
    from tests.axis_connector.conftest import VPCP as VPCP_ORG

    stranger = Organization(organ_id="000.00.88.Z99", organ_name="Cơ quan lạ")
    package = build_package(make_document(recipients=(VPCP_ORG, stranger)))
    assert "000.00.88.Z99" in refused(server.send("sys-camau", package, CA_MAU), "133", 400)


def test_to_header_not_a_json_list(server: Server) -> None:
    package = build_package(make_document())
    for bad in ('"000.00.00.G22"', "000.00.00.G22", '[1, 2]', '{"to": []}'):
        answer = server.call("sendEdoc", "sys-camau", {"from": CA_MAU, "servicetype": "eDoc",
                                                       "messagetype": "edoc", "to": bad},
                             body=package, content_type="application/octet-stream", hash_body=package)
        refused(answer, "120", 400)


def test_empty_to_list(server: Server) -> None:
    refused(server.send("sys-camau", build_package(make_document()), CA_MAU, to=[]), "132", 400)


def test_messagetype_and_servicetype_values(server: Server) -> None:
    package = build_package(make_document())
    refused(server.send("sys-camau", package, CA_MAU, messagetype="memo"), "120", 400)
    params = {"from": CA_MAU, "servicetype": "fax", "messagetype": "edoc"}
    answer = server.call("sendEdoc", "sys-camau", params, body=package,
                         content_type="application/octet-stream", hash_body=package)
    refused(answer, "120", 400)


def test_duplicate_recipients_get_one_delivery(server: Server) -> None:
    package = build_package(make_document())
    assert server.send("sys-camau", package, CA_MAU, to=[SO_TTTT, SO_TTTT]).json["status"] == "OK"
    assert _counts(server) == (0, 1)
