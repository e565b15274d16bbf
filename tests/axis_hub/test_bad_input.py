"""Hostile and wrong packages and requests: each refused with a clear error, nothing stored."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from flask import Flask

from axis_connector.client import AxisClient, AxisError
from axis_connector.client.signing import sign_headers
from axis_connector.edxml import Attachment, Organization, build_package
from tests.axis_connector.pki import Identity, make_agency

from .conftest import CA_MAU, SECRETS, SO_TTTT, VPCP, count_messages, make_document, sign


def _refused(client: AxisClient, data: bytes, messagetype: str = "edoc") -> AxisError:
    with pytest.raises(AxisError) as info:
        client.send_edoc(data, messagetype)  # type: ignore[arg-type]
    return info.value


@pytest.fixture
def camau(clients: dict[str, AxisClient]) -> AxisClient:
    return clients["camau"]


def test_malformed_xml(camau: AxisClient, app: Flask) -> None:
    error = _refused(camau, b"<edXML><edXMLEnvelope></edXML>")
    assert (error.code, error.status) == ("malformed_xml", 400)
    assert count_messages(app) == 0


def test_entity_expansion_bomb(camau: AxisClient, app: Flask) -> None:
    lols = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY lol0 "lol">{lols}]>'
            '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><x>&lol9;</x></edXML>').encode()
    started = time.perf_counter()
    error = _refused(camau, bomb)
    assert error.code == "doctype_forbidden"
    assert time.perf_counter() - started < 1
    assert count_messages(app) == 0


def test_external_entity_to_a_local_file(camau: AxisClient, app: Flask, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    document = build_package(make_document(attachments=())).decode().split("?>", 1)[1]
    document = document.replace("<edXML:Content>", "<edXML:Content>&xxe;", 1)
    xxe = f'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file://{secret}">]>{document}'
    error = _refused(camau, xxe.encode())
    assert error.code == "doctype_forbidden"
    assert "TOP-SECRET" not in error.message
    assert count_messages(app) == 0


def test_package_over_the_size_limit(camau: AxisClient, app: Flask, seals: dict[str, Identity]) -> None:
    big = make_document(attachments=(Attachment("cid:1", "big.pdf", "application/pdf", b"%PDF" * 200_000),))
    error = _refused(camau, sign(big, seals[CA_MAU.organ_id]))  # 1 MB limit in the tests
    assert (error.code, error.status) == ("too_large", 413)
    assert count_messages(app) == 0


def test_request_body_over_the_limit_is_refused_before_parsing(app: Flask) -> None:
    body = json.dumps({"messagetype": "edoc", "package": "A" * 2_000_000}).encode()
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/sendEdoc", "sys-camau", body)
    response = app.test_client().post("/api/sendEdoc", data=body, headers=headers,
                                      content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_unknown_sender(camau: AxisClient, app: Flask, root_ca: Identity) -> None:
    stranger = Organization("000.00.77.H12", "Sở chưa kết nối")
    seal = make_agency(root_ca, stranger.organ_id, stranger.organ_name)
    error = _refused(camau, sign(make_document(sender=stranger), seal))
    assert error.code == "unknown_sender"
    assert "000.00.77.H12" in error.message
    assert count_messages(app) == 0


def test_unknown_recipient_is_named(camau: AxisClient, app: Flask, seals: dict[str, Identity]) -> None:
    package = make_document(recipients=(VPCP, Organization("000.00.88.H12", "Không có"), SO_TTTT))
    error = _refused(camau, sign(package, seals[CA_MAU.organ_id]))
    assert (error.code, error.status) == ("unknown_recipient", 404)
    assert "000.00.88.H12" in error.message
    assert error.details["recipients"] == ["000.00.88.H12"]
    assert count_messages(app) == 0


def test_signed_by_a_key_that_is_not_the_senders(camau: AxisClient, app: Flask,
                                                  seals: dict[str, Identity]) -> None:
    error = _refused(camau, sign(make_document(), seals[VPCP.organ_id]))
    assert error.code == "sender_mismatch"
    assert count_messages(app) == 0


def test_signed_by_another_key_for_the_same_agency(camau: AxisClient, app: Flask, root_ca: Identity,
                                                    rogue_ca: Identity) -> None:
    # A valid-looking seal from a CA the axis does not trust ...
    rogue = make_agency(rogue_ca, CA_MAU.organ_id, CA_MAU.organ_name)
    assert _refused(camau, sign(make_document(), rogue)).code == "untrusted_certificate"
    # ... and one from the trusted CA that is not the certificate registered for the agency.
    other = make_agency(root_ca, CA_MAU.organ_id, CA_MAU.organ_name)
    assert _refused(camau, sign(make_document(), other)).code == "untrusted_certificate"
    assert count_messages(app) == 0


def test_tampered_package(camau: AxisClient, app: Flask, signed_document: bytes) -> None:
    tampered = signed_document.replace(b"1234/UBND-VP</edXML:DocumentId>",
                                       b"1235/UBND-VP</edXML:DocumentId>", 1)
    assert tampered != signed_document and len(tampered) == len(signed_document)
    assert _refused(camau, tampered).code == "digest_mismatch"
    assert count_messages(app) == 0


def test_unsigned_package(camau: AxisClient, app: Flask) -> None:
    assert _refused(camau, build_package(make_document())).code == "signature_missing"


def test_system_acting_for_an_agency_not_registered_to_it(clients: dict[str, AxisClient], app: Flask,
                                                          signed_document: bytes) -> None:
    error = _refused(clients["vpcp"], signed_document)  # sys-vpcp posting Cà Mau's package
    assert (error.code, error.status) == ("agency_not_yours", 403)
    assert count_messages(app) == 0


def _post(app: Flask, headers: dict[str, str], body: bytes = b"{}") -> tuple[int, str]:
    response = app.test_client().post("/api/getAgenciesList", data=body, headers=headers,
                                      content_type="application/json")
    return response.status_code, (response.get_json().get("error") or {}).get("code", "")


def test_replayed_request(app: Flask) -> None:
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/getAgenciesList", "sys-camau", b"{}")
    assert _post(app, headers) == (200, "")
    assert _post(app, headers) == (401, "replayed_request")


def test_stale_timestamp(app: Flask) -> None:
    old = sign_headers(SECRETS["sys-camau"], "POST", "/api/getAgenciesList", "sys-camau", b"{}",
                       now=time.time() - 3600)
    assert _post(app, old) == (401, "stale_request")
    future = sign_headers(SECRETS["sys-camau"], "POST", "/api/getAgenciesList", "sys-camau", b"{}",
                          now=time.time() + 3600)
    assert _post(app, future) == (401, "stale_request")


def test_wrong_secret_unknown_system_and_changed_body(app: Flask) -> None:
    wrong = sign_headers("not-the-secret-at-all", "POST", "/api/getAgenciesList", "sys-camau", b"{}")
    assert _post(app, wrong) == (401, "bad_signature")
    nobody = sign_headers("whatever-secret-12345", "POST", "/api/getAgenciesList", "sys-nobody", b"{}")
    assert _post(app, nobody) == (401, "unknown_system")
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/getAgenciesList", "sys-camau", b"{}")
    assert _post(app, headers, b'{"limit": 5}') == (401, "bad_signature")
    assert _post(app, {}) == (401, "unknown_system")


def test_package_not_base64(app: Flask) -> None:
    body = json.dumps({"messagetype": "edoc", "package": "***"}).encode()
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/sendEdoc", "sys-camau", body)
    response = app.test_client().post("/api/sendEdoc", data=body, headers=headers,
                                      content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request"
    assert base64  # the package travels base64-encoded in JSON


def test_signed_body_that_is_not_a_json_object(app: Flask) -> None:
    for body, content_type in ((b'{"limit": 5', "application/json"), (b"[1, 2]", "application/json"),
                               (b'{"limit": 5}', "text/plain")):
        headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/getReceivedEdocList",
                               "sys-camau", body)
        response = app.test_client().post("/api/getReceivedEdocList", data=body, headers=headers,
                                          content_type=content_type)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "invalid_request"


def test_failed_operation_burns_its_nonce(app: Flask) -> None:
    body = b'{"message_id": "no-such-message", "status": "delivered"}'
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/updateStatus", "sys-camau", body)

    def post() -> tuple[int, str]:
        response = app.test_client().post("/api/updateStatus", data=body, headers=headers,
                                          content_type="application/json")
        return response.status_code, (response.get_json().get("error") or {}).get("code", "")

    assert post() == (404, "not_found")
    assert post() == (401, "replayed_request")


def test_relative_namespace_uri_is_refused_not_a_server_error(camau: AxisClient, app: Flask,
                                                               signed_document: bytes) -> None:
    # canonical XML cannot represent a relative namespace URI: lxml raises C14NError
    odd = signed_document.replace(b"<edXML:Code>", b'<edXML:Code xmlns:rel="relative/uri">', 1)
    assert odd != signed_document
    error = _refused(camau, odd)
    assert error.status == 400 and error.code == "signature_invalid"
    assert count_messages(app) == 0


def _post_binary(app: Flask, operation: str, body: bytes, accept: str = "") -> object:
    from axis_connector.client.wire import BLOBS_MEDIA_TYPE

    headers = sign_headers(SECRETS["sys-camau"], "POST", f"/api/{operation}", "sys-camau", body)
    if accept:
        headers["Accept"] = accept
    return app.test_client().post(f"/api/{operation}", data=body, headers=headers,
                                  content_type=BLOBS_MEDIA_TYPE)


@pytest.mark.parametrize("body", [
    b'{"messagetype": "edoc", "package": {"$blob": 10}}\x00short',
    b'{"messagetype": "edoc", "package": {"$blob": 2}}\x00abEXTRA',
    b'{"messagetype": "edoc", "package": {"$blob": 2}}no NUL',
], ids=["length beyond the body", "bytes left over", "no NUL"])
def test_a_binary_request_that_breaks_the_format_is_refused(app: Flask, body: bytes) -> None:
    response = _post_binary(app, "sendEdoc", body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and "application/vnd.ioffice.axis-blobs" in error["message"]
    assert count_messages(app) == 0


def test_raw_bytes_where_text_is_expected_are_refused(app: Flask, seals: dict[str, Identity]) -> None:
    package = sign(make_document(), seals[CA_MAU.organ_id])
    body = b'{"messagetype": "edoc", "to": [{"$blob": 3}], "package": {"$blob": %d}}\x00' % len(package)
    response = _post_binary(app, "sendEdoc", body + SO_TTTT.organ_id[:3].encode() + package)
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_request",
                                            "message": "trường 'to' phải là danh sách chuỗi"}
    assert count_messages(app) == 0


def test_packages_come_back_in_the_form_the_client_asked_for(app: Flask, camau: AxisClient,
                                                             clients: dict[str, AxisClient],
                                                             seals: dict[str, Identity]) -> None:
    """AxisClient sends and asks for raw bytes; a JSON-only client still gets base64."""
    package = sign(make_document(), seals[CA_MAU.organ_id])
    sent = camau.send_edoc(package)
    edoc = camau.get_edoc(sent.message_id)  # the binary round trip (the hub adds its TraceHeader)
    assert hashlib.sha256(edoc.package).hexdigest() == edoc.content_sha256
    assert b"TraceHeader" in edoc.package and len(edoc.package) > len(package)

    body = json.dumps({"message_id": sent.message_id}).encode()
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/getEdoc", "sys-camau", body)
    plain = app.test_client().post("/api/getEdoc", data=body, headers=headers,
                                   content_type="application/json")
    assert plain.mimetype == "application/json"
    assert base64.b64decode(plain.get_json()["package"]) == edoc.package

    from axis_connector.client.wire import BLOBS_MEDIA_TYPE, loads_binary
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/getEdoc", "sys-camau", body)
    raw = app.test_client().post("/api/getEdoc", data=body, content_type="application/json",
                                 headers={**headers, "Accept": f"{BLOBS_MEDIA_TYPE}, application/json"})
    assert raw.mimetype == BLOBS_MEDIA_TYPE
    assert raw.get_data().endswith(edoc.package)
    assert loads_binary(raw.get_data())["package"] == edoc.package


def test_a_body_arriving_in_pieces_is_read_whole_and_once(app: Flask) -> None:
    """The hub reads a request body itself (large reads); a socket hands it over in pieces."""
    import io

    from axis_connector.hub.api import _body

    data = os.urandom(300_000)

    class Trickle(io.RawIOBase):
        reads = 0

        def __init__(self) -> None:
            self.pos = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            Trickle.reads += 1
            piece = data[self.pos:self.pos + min(len(buffer), 65_536)]
            buffer[:len(piece)] = piece
            self.pos += len(piece)
            return len(piece)

    with app.test_request_context("/api/sendEdoc", method="POST", content_type="application/octet-stream",
                                  environ_overrides={"wsgi.input": Trickle(),
                                                     "CONTENT_LENGTH": str(len(data))}):
        assert _body() == data
        assert _body() is _body()  # kept for the request: read once
    assert Trickle.reads == 5  # 300,000 bytes in 64 KiB pieces, no read past the end


def test_a_body_over_the_limit_is_refused_unread_and_a_short_body_as_disconnected(app: Flask) -> None:
    import io

    from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

    from axis_connector.hub.api import _body

    class Counting(io.BytesIO):
        reads = 0

        def read(self, size=-1):
            Counting.reads += 1
            return super().read(size)

    limit = app.config["MAX_CONTENT_LENGTH"]
    with app.test_request_context("/api/sendEdoc", method="POST", content_type="application/octet-stream",
                                  environ_overrides={"wsgi.input": Counting(b"x" * 10),
                                                     "CONTENT_LENGTH": str(limit + 1)}), \
            pytest.raises(RequestEntityTooLarge):
        _body()
    assert Counting.reads == 0
    with app.test_request_context("/api/sendEdoc", method="POST", content_type="application/octet-stream",
                                  environ_overrides={"wsgi.input": Counting(b"x" * 10),
                                                     "CONTENT_LENGTH": "1000"}), \
            pytest.raises(ClientDisconnected):
        _body()


def test_a_body_without_a_length_is_read_through_werkzeug(app: Flask) -> None:
    import io

    from axis_connector.hub.api import _body

    data = os.urandom(100_000)
    with app.test_request_context("/api/sendEdoc", method="POST", content_type="application/octet-stream",
                                  environ_overrides={"wsgi.input": io.BytesIO(data),
                                                     "wsgi.input_terminated": True}):
        assert _body() == data


def test_a_request_that_ends_early_stores_nothing(app: Flask) -> None:
    body = json.dumps({"messagetype": "edoc", "package": "QUJD"}).encode()
    headers = sign_headers(SECRETS["sys-camau"], "POST", "/api/sendEdoc", "sys-camau", body)
    headers["Content-Length"] = str(len(body) + 500)
    import io

    response = app.test_client().post("/api/sendEdoc", input_stream=io.BytesIO(body), headers=headers,
                                      content_type="application/json")
    assert response.status_code == 400
    assert count_messages(app) == 0


def test_a_body_with_a_length_is_read_exactly_under_gunicorn(app: Flask) -> None:
    """gunicorn sets ``wsgi.input_terminated`` on every request: a body with a Content-Length
    is still read straight from its input, in one read of exactly that length."""
    import io

    from axis_connector.hub.api import _body

    data = os.urandom(300_000)

    class Counting(io.BytesIO):
        sizes: list[int] = []

        def read(self, size=-1):
            Counting.sizes.append(size)
            return super().read(size)

    with app.test_request_context("/api/sendEdoc", method="POST", content_type="application/octet-stream",
                                  environ_overrides={"wsgi.input": Counting(data + b"next request"),
                                                     "wsgi.input_terminated": True,
                                                     "CONTENT_LENGTH": str(len(data))}):
        assert _body() == data
    assert Counting.sizes == [len(data)]
