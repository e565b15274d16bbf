"""Every header check of the stand-in refuses with its own ErrorCode, and stores nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest

from axis_connector.edxml import build_package
from tests.axis_connector.conftest import make_document

from .conftest import CA_MAU, SECRETS, Server, quirky_sha256, sign, signed_headers, vxp_timestamp

LIST = {"servicetype": "eDoc", "messagetype": "edoc"}


def refused(answer: Any, code: str, http_status: int = 401) -> str:
    data = answer.json
    assert (answer.status, data["status"], data["ErrorCode"]) == (http_status, "FAIL", code), data
    assert data["ErrorDesc"]
    return data["ErrorDesc"]


def headers(**changes: str) -> dict[str, str]:
    return {**signed_headers("sys-vpcp", SECRETS["sys-vpcp"], LIST), **changes}


def resigned(vxp: dict[str, str], content_type: str = "application/json") -> dict[str, str]:
    return sign(vxp, SECRETS["sys-vpcp"], content_type)


def unsigned(**params: str) -> dict[str, str]:
    return {"XroadVnpt-systemid": "sys-vpcp", "XroadVnpt-timestamp": vxp_timestamp(),
            "XroadVnpt-version": "3.0.201608", "XroadVnpt-Content-Type": "application/json", **params}


def listing(server: Server, **vxp: str) -> Any:
    """getReceivedEdocList with the common headers changed as ``vxp`` says, signed well."""
    return server.raw("POST", "getReceivedEdocList", resigned(unsigned(**vxp)), b"")


def test_a_well_signed_call_passes(server: Server) -> None:
    answer = server.raw("POST", "getReceivedEdocList", headers(), b"")
    assert answer.json == {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", "data": []}


@pytest.mark.parametrize("name", ["XroadVnpt-systemid", "XroadVnpt-timestamp", "XroadVnpt-version",
                                  "XroadVnpt-Content-Type", "XroadVnpt-sign-header",
                                  "XroadVnpt-sign-header-key", "XroadVnpt-hash-header"])
def test_missing_header(server: Server, name: str) -> None:
    sent = headers()
    del sent[name]
    assert name in refused(server.raw("POST", "getReceivedEdocList", sent, b""), "101", 400)


def test_unknown_system(server: Server) -> None:
    vxp = {**unsigned(**{f"XroadVnpt-{k}": v for k, v in LIST.items()}), "XroadVnpt-systemid": "sys-stranger"}
    answer = server.raw("POST", "getReceivedEdocList", resigned(vxp), b"")
    assert "sys-stranger" in refused(answer, "102")


@pytest.mark.parametrize("timestamp", ["2026-12-03T14:30:05", "03122026T143005", "03122026T143005+42",
                                       "03122026 143005+0042", "32132026T143005+0000", "1701612605"])
def test_bad_timestamp_format(server: Server, timestamp: str) -> None:
    refused(listing(server, **{"XroadVnpt-timestamp": timestamp}), "103", 400)


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-6), dt.timedelta(minutes=6)])
def test_timestamp_outside_the_skew(server: Server, offset: dt.timedelta) -> None:
    stamp = vxp_timestamp(dt.datetime.now(dt.UTC) + offset)
    refused(listing(server, **{"XroadVnpt-timestamp": stamp}), "104")


def test_timestamp_is_vietnam_wall_time(server: Server) -> None:
    """The same instant written in UTC wall time is 7 hours off: refused."""
    now = dt.datetime.now(dt.UTC)
    utc_wall = now.strftime("%d%m%YT%H%M%S") + f"+{now.microsecond // 1000:04d}"
    refused(listing(server, **{"XroadVnpt-timestamp": utc_wall}), "104")
    near = vxp_timestamp(now - dt.timedelta(minutes=4))
    assert listing(server, **{"XroadVnpt-timestamp": near}).json["status"] == "OK"


def test_wrong_version(server: Server) -> None:
    assert "3.0.201608" in refused(listing(server, **{"XroadVnpt-version": "2.0"}), "105", 400)


def test_content_type_differs_from_its_copy(server: Server) -> None:
    sent = headers(**{"Content-Type": "text/plain"})
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "106", 400)


def test_a_header_changed_after_signing(server: Server) -> None:
    sent = headers(**{"XroadVnpt-messagetype": "status"})
    assert "messagetype" in refused(server.raw("POST", "getReceivedEdocList", sent, b""), "107")


def test_a_header_sent_but_not_signed(server: Server) -> None:
    sent = headers(**{"XroadVnpt-docId": "123"})
    assert "docid" in refused(server.raw("POST", "getReceivedEdocList", sent, b""), "107")


def test_a_signed_header_not_sent(server: Server) -> None:
    sent = headers()
    del sent["XroadVnpt-messagetype"]
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "107")


@pytest.mark.parametrize("sign_header", ["not json", "[]", '{"XroadVnpt-systemid": 1}',
                                         '{"XroadVnpt-systemid":"sys-vpcp","XroadVnpt-systemid":"sys-vpcp"}'])
def test_sign_header_that_is_not_an_object_of_strings(server: Server, sign_header: str) -> None:
    sent = headers(**{"XroadVnpt-sign-header": sign_header})
    sent["XroadVnpt-hash-header"] = hmac.new(SECRETS["sys-vpcp"].encode(), sign_header.encode(),
                                             hashlib.sha256).hexdigest()
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "107")


@pytest.mark.parametrize("keys", ["systemid;timestamp;version;Content-Type;servicetype",
                                  "systemid;timestamp;version;Content-Type;servicetype;messagetype;docId",
                                  "XroadVnpt-systemid;XroadVnpt-timestamp;XroadVnpt-version;"
                                  "XroadVnpt-Content-Type;XroadVnpt-servicetype;XroadVnpt-messagetype",
                                  "systemid,timestamp,version,Content-Type,servicetype,messagetype"])
def test_sign_header_key_mismatch(server: Server, keys: str) -> None:
    sent = headers(**{"XroadVnpt-sign-header-key": keys})
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "108")


def test_sign_header_key_in_another_order_passes(server: Server) -> None:
    sent = headers()
    sent["XroadVnpt-sign-header-key"] = ";".join(reversed(sent["XroadVnpt-sign-header-key"].split(";")))
    assert server.raw("POST", "getReceivedEdocList", sent, b"").json["status"] == "OK"


def test_hmac_with_another_secret(server: Server) -> None:
    sent = signed_headers("sys-vpcp", SECRETS["sys-camau"], LIST)
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "109")


def test_hmac_of_a_reformatted_sign_header(server: Server) -> None:
    """The HMAC covers the exact string: the same object with spaces is another string."""
    sent = headers()
    sent["XroadVnpt-sign-header"] = json.dumps(json.loads(sent["XroadVnpt-sign-header"]))
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "109")


def test_hmac_in_uppercase_hex_refused(server: Server) -> None:
    sent = headers()
    sent["XroadVnpt-hash-header"] = sent["XroadVnpt-hash-header"].upper()
    refused(server.raw("POST", "getReceivedEdocList", sent, b""), "109")


def _send_headers(body: bytes, hash_file: str) -> dict[str, str]:
    vxp = {**unsigned(**{"XroadVnpt-Content-Type": "application/octet-stream"}),
           "XroadVnpt-from": CA_MAU, "XroadVnpt-servicetype": "eDoc", "XroadVnpt-messagetype": "edoc",
           "XroadVnpt-systemid": "sys-camau", "XroadVnpt-hash-file": hash_file}
    return sign(vxp, SECRETS["sys-camau"], "application/octet-stream")


def _count(server: Server) -> int:
    return server.ok("countReceiveEdoc", "sys-vpcp", {"messagetype": "edoc"})["count"]


def test_hash_file_of_another_body(server: Server) -> None:
    body = build_package(make_document()) + b"\r\n"
    answer = server.raw("POST", "sendEdoc", _send_headers(body, quirky_sha256(body + b" ")), body)
    refused(answer, "110", 400)
    assert _count(server) == 0


def test_hash_file_missing_on_send(server: Server) -> None:
    body = build_package(make_document()) + b"\r\n"
    sent = _send_headers(body, "x")
    vxp = {k: v for k, v in sent.items() if k.startswith("XroadVnpt-") and k not in (
        "XroadVnpt-sign-header", "XroadVnpt-sign-header-key", "XroadVnpt-hash-header", "XroadVnpt-hash-file")}
    answer = server.raw("POST", "sendEdoc", sign(vxp, SECRETS["sys-camau"], "application/octet-stream"), body)
    assert "hash-file" in refused(answer, "101", 400)


def _body_whose_digest(has_small_byte: bool) -> bytes:
    base = build_package(make_document())
    for n in range(10_000):
        body = base + b"<!-- %d -->\r\n" % n
        if any(b < 0x10 for b in hashlib.sha256(body).digest()) == has_small_byte:
            return body
    raise AssertionError("no such body")


def test_zero_padded_hash_file_refused_when_it_differs(server: Server) -> None:
    body = _body_whose_digest(True)
    padded = hashlib.sha256(body).hexdigest()
    assert padded != quirky_sha256(body)
    refused(server.raw("POST", "sendEdoc", _send_headers(body, padded), body), "110", 400)
    assert _count(server) == 0
    ok = server.raw("POST", "sendEdoc", _send_headers(body, quirky_sha256(body)), body)
    assert ok.json["status"] == "OK", ok.json
    assert _count(server) == 1


def test_zero_padded_hash_file_is_the_same_string_when_no_byte_is_small(server: Server) -> None:
    body = _body_whose_digest(False)
    assert hashlib.sha256(body).hexdigest() == quirky_sha256(body)
    answer = server.raw("POST", "sendEdoc", _send_headers(body, quirky_sha256(body)), body)
    assert answer.json["status"] == "OK"


def test_get_is_checked_too(server: Server) -> None:
    sent = signed_headers("sys-vpcp", SECRETS["sys-camau"], {"docId": "x"})
    refused(server.raw("GET", "downloadEdoc", sent), "109")
