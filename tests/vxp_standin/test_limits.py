"""Size cap, hostile XML, unknown paths, wrong methods and crashes: always a JSON FAIL."""

from __future__ import annotations

import pytest

from axis_connector.edxml import build_package
from axis_connector.vxp_standin import services
from tests.axis_connector.conftest import make_document

from .conftest import CA_MAU, SECRETS, Server, signed_headers


def fail(answer, code: str, http_status: int) -> dict:
    assert answer.headers["Content-Type"].startswith("application/json")
    data = answer.json
    assert (answer.status, data["status"], data["ErrorCode"]) == (http_status, "FAIL", code), data
    return data


def _count(server: Server) -> int:
    return server.ok("countReceiveEdoc", "sys-vpcp", {"messagetype": "edoc"})["count"]


def test_body_over_the_cap(server: Server) -> None:  # MAX_BODY_MB = 1 in the tests
    package = build_package(make_document())
    big = package.replace(b"</edXML:Subject>", b"x" * (1024 * 1024) + b"</edXML:Subject>", 1)
    data = fail(server.send("sys-camau", big, CA_MAU), "111", 413)
    assert "vượt giới hạn" in data["ErrorDesc"]
    assert _count(server) == 0


def test_body_over_the_cap_without_content_length(server: Server) -> None:
    body = b"<edXML/>" + b" " * (1024 * 1024 + 10)
    headers = signed_headers("sys-camau", SECRETS["sys-camau"], {"from": CA_MAU, "servicetype": "eDoc",
                                                                 "messagetype": "edoc"},
                             content_type="application/octet-stream", hash_body=body)
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    response = server.http.request("POST", f"{server.url}/sendEdoc", headers=headers, body=chunks,
                                   chunked=True, timeout=30)
    assert response.status == 413
    assert response.json()["ErrorCode"] == "111"


@pytest.mark.parametrize("chunked", [False, True])
def test_body_exactly_at_the_cap_passes(server: Server, chunked: bool) -> None:
    package = build_package(make_document())
    body = package + b" " * (1024 * 1024 - len(package) - 2) + b"\r\n"
    assert len(body) == 1024 * 1024
    headers = signed_headers("sys-camau", SECRETS["sys-camau"], {"from": CA_MAU, "servicetype": "eDoc",
                                                                 "messagetype": "edoc"},
                             content_type="application/octet-stream", hash_body=body)
    sent = (body[i:i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    response = server.http.request("POST", f"{server.url}/sendEdoc", headers=headers, body=sent,
                                   chunked=chunked, timeout=30)
    assert response.json()["status"] == "OK", response.json()
    assert _count(server) == 1


HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x "boom">]><edXML>&x;</edXML>',
    b'<?xml version="1.0"?><!DOCTYPE edXML SYSTEM "http://127.0.0.1:1/evil.dtd"><edXML/>',
    b"<edXML><unclosed></edXML>",
    b"not xml at all",
]


@pytest.mark.parametrize("package", HOSTILE)
def test_hostile_or_broken_xml_refused(server: Server, package: bytes) -> None:
    fail(server.send("sys-camau", package, CA_MAU), "121", 400)
    assert _count(server) == 0


def test_root_must_be_edxml(server: Server) -> None:
    data = fail(server.send("sys-camau", b"<?xml version='1.0'?><html/>", CA_MAU), "121", 400)
    assert "edXML" in data["ErrorDesc"]


def test_unknown_operation_and_unknown_path(server: Server) -> None:
    fail(server.call("getEverything", "sys-vpcp"), "160", 404)
    fail(server.raw("GET", "a/b/c", {}), "160", 404)


def test_wrong_method(server: Server) -> None:
    fail(server.call("sendEdoc", "sys-camau", method="GET"), "161", 405)
    fail(server.call("downloadEdoc", "sys-vpcp", {"docId": "x"}), "161", 405)
    fail(server.raw("PUT", "getEdoc", {}, b"{}"), "161", 405)
    fail(server.raw("OPTIONS", "getEdoc", {}), "161", 405)


def test_a_handler_crash_answers_json_500(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(session):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "agencies_list", broken)
    data = fail(server.call("getAgenciesList", "sys-vpcp", body=b""), "1", 500)
    assert data["ErrorDesc"] == "lỗi nội bộ của trục: RuntimeError"  # no internals beyond the type


def test_a_refused_send_stores_nothing_and_the_next_one_works(server: Server) -> None:
    fail(server.send("sys-camau", HOSTILE[0], CA_MAU), "121", 400)
    assert server.send("sys-camau", build_package(make_document()), CA_MAU).json["status"] == "OK"
    assert _count(server) == 1
