"""RFC 3161 timestamps over HTTP (signing/tsa.py): the simulated TSA's responder behind a real
HTTP server on 127.0.0.1, pyHanko's HTTP client with our checks, and every way a TSA can fail
a signature: down, slow, refusing the credentials, busy, answering garbage, a wrong nonce, a
timestamp over other bytes, a token whose signature does not verify, an untrusted TSA."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from asn1crypto import cms, core, tsp

from signing import AgencyStamp, Box, Pki, TrustStore, sign_pdf, validate_pdf
from signing.tsa import (
    MAX_REQUEST_BYTES,
    SIMULATED_POLICY,
    TimestampUnavailable,
    TsaClient,
    TsaResponder,
)
from tests.signing.conftest import external_checks
from tests.support.tsa import reply, tsa_double

STAMP = AgencyStamp(Box(page=1, x1=330, y1=560, x2=530, y2=690), "15/UBND-VP")


@pytest.fixture(scope="module")
def responder(pki: Pki) -> TsaResponder:
    return TsaResponder(*pki.timestamp_authority())


def _answered_by(responder: TsaResponder):
    return lambda body, headers: reply(responder.respond(body))


def _seal(pdf: bytes, seal, trust: TrustStore, client: TsaClient) -> bytes:
    return sign_pdf(pdf, seal, trust=trust, stamp=STAMP, level="B-T",
                    timestamper=client.timestamper(trust))


def _refused(pdf, seal, trust, client) -> TimestampUnavailable:
    with pytest.raises(TimestampUnavailable) as info:
        _seal(pdf, seal, trust, client)
    assert "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian (TSA)" in str(info.value)
    return info.value


def test_a_seal_timestamped_over_http_validates_everywhere(
        demo_pdf, seal, trust, responder, tmp_path: Path) -> None:
    with tsa_double(_answered_by(responder)) as (url, seen):
        signed = _seal(demo_pdf, seal, trust, TsaClient(url))
    assert len(seen) == 1  # one request per signature: no dry run, no dummy request
    body, headers = seen[0]
    assert headers["Content-Type"] == "application/timestamp-query"
    req = tsp.TimeStampReq.load(body)
    assert req["cert_req"].native is True and req["nonce"].native is not None
    report = validate_pdf(signed, trust)
    assert report.valid, report.explanation
    sig = report.signatures[0]
    assert sig.timestamp_time is not None
    assert abs((sig.timestamp_time - sig.signing_time).total_seconds()) < 60
    external_checks(signed, tmp_path, 1)


def test_an_ec_seal_too(demo_pdf, seal_ec, trust, responder, tmp_path: Path) -> None:
    with tsa_double(_answered_by(responder)) as (url, _seen):
        signed = _seal(demo_pdf, seal_ec, trust, TsaClient(url))
    assert validate_pdf(signed, trust).valid
    external_checks(signed, tmp_path, 1)


def test_tsa_down_fails_at_once(demo_pdf, seal, trust) -> None:
    with tsa_double(lambda b, h: reply(b"")) as (url, _seen):
        pass  # the server is stopped: nothing listens on its port any more
    started = time.monotonic()
    exc = _refused(demo_pdf, seal, trust, TsaClient(url, timeout=5))
    assert exc.reason == "unreachable"
    assert "không kết nối được" in str(exc)
    assert time.monotonic() - started < 3


def test_a_slow_tsa_is_given_up_after_the_timeout(demo_pdf, seal, trust, responder) -> None:
    with tsa_double(lambda b, h: reply(responder.respond(b), delay=5)) as (url, seen):
        started = time.monotonic()
        exc = _refused(demo_pdf, seal, trust, TsaClient(url, timeout=0.5))
        elapsed = time.monotonic() - started
    assert exc.reason == "timeout" and "0.5 giây" in str(exc)
    assert len(seen) == 1 and elapsed < 2.5, elapsed


def test_credentials_sent_and_refused(demo_pdf, seal, trust, responder) -> None:
    import base64

    good = "Basic " + base64.b64encode(b"tsa-user:dung-mat-khau").decode()

    def basic_auth(body: bytes, headers: dict[str, str]):
        if headers.get("Authorization") != good:
            return 401, "text/plain", b"unauthorized", 0.0
        return reply(responder.respond(body))

    with tsa_double(basic_auth) as (url, _seen):
        signed = _seal(demo_pdf, seal, trust, TsaClient(url, username="tsa-user",
                                                          password="dung-mat-khau"))
        assert validate_pdf(signed, trust).valid
        exc = _refused(demo_pdf, seal, trust, TsaClient(url, username="tsa-user",
                                                         password="sai-mat-khau"))
        assert exc.reason == "credentials" and "HTTP 401" in str(exc)
        exc = _refused(demo_pdf, seal, trust, TsaClient(url))
        assert exc.reason == "credentials"
    assert "sai-mat-khau" not in str(exc)


def test_a_bearer_token_is_sent(demo_pdf, seal, trust, responder) -> None:
    with tsa_double(lambda b, h: reply(responder.respond(b)) if h.get("Authorization")
                    == "Bearer tok-123" else (403, "text/plain", b"no", 0.0)) as (url, _seen):
        assert validate_pdf(_seal(demo_pdf, seal, trust, TsaClient(url, bearer_token="tok-123")),
                            trust).valid
        assert _refused(demo_pdf, seal, trust, TsaClient(url, bearer_token="x")).reason \
            == "credentials"


def test_user_and_bearer_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        TsaClient("http://127.0.0.1:1/", username="u", password="p", bearer_token="t")
    with pytest.raises(ValueError, match="http"):
        TsaClient("ftp://tsa.example/")


@pytest.mark.parametrize(("answer", "reason"), [
    (reply(b"this is not DER"), "malformed"),
    (reply(b"\x30\x03\x02\x01\x00"), "malformed"),  # a SEQUENCE, but no TimeStampResp
    ((200, "text/html", b"<html>proxy login</html>", 0.0), "malformed"),
    ((500, "text/plain", b"boom", 0.0), "http_error"),
    ((429, "text/plain", b"slow down", 0.0), "busy"),
])
def test_a_tsa_answering_nonsense(demo_pdf, seal, trust, answer, reason) -> None:
    with tsa_double(lambda b, h: answer) as (url, _seen):
        assert _refused(demo_pdf, seal, trust, TsaClient(url)).reason == reason


def _altered_request(body: bytes, **changes) -> bytes:
    req = tsp.TimeStampReq.load(body)
    fields = {name: req[name] for name in ("version", "message_imprint", "req_policy", "nonce",
                                           "cert_req") if req[name].native is not None}
    fields.update(changes)
    return tsp.TimeStampReq(fields).dump()


def test_a_wrong_nonce(demo_pdf, seal, trust, responder) -> None:
    def other_nonce(body, headers):
        nonce = tsp.TimeStampReq.load(body)["nonce"].native
        return reply(responder.respond(_altered_request(body, nonce=nonce + 1)))

    with tsa_double(other_nonce) as (url, _seen):
        exc = _refused(demo_pdf, seal, trust, TsaClient(url))
    assert exc.reason == "wrong_nonce" and "nonce" in str(exc)


def test_a_timestamp_over_other_bytes(demo_pdf, seal, trust, responder) -> None:
    def other_bytes(body, headers):
        imprint = tsp.MessageImprint({"hash_algorithm": {"algorithm": "sha256"},
                                      "hashed_message": hashlib.sha256(b"another").digest()})
        return reply(responder.respond(_altered_request(body, message_imprint=imprint)))

    with tsa_double(other_bytes) as (url, _seen):
        exc = _refused(demo_pdf, seal, trust, TsaClient(url))
    assert exc.reason == "wrong_imprint" and "dữ liệu khác" in str(exc)


def test_a_token_whose_signature_does_not_verify(demo_pdf, seal, trust, pki: Pki) -> None:
    """The TSA's certificate, another key: pyHanko's check of the token refuses it."""
    from signing import KeyType, generate_key

    cert, _key, chain = pki.timestamp_authority()
    forger = TsaResponder(cert, generate_key(KeyType.RSA), chain)
    with tsa_double(_answered_by(forger)) as (url, _seen):
        exc = _refused(demo_pdf, seal, trust, TsaClient(url))
    assert exc.reason == "bad_token"


def test_a_tsa_outside_the_trust_store(demo_pdf, seal, trust, tmp_path: Path) -> None:
    foreign = Pki.create(tmp_path / "foreign", "khac")
    with tsa_double(_answered_by(TsaResponder(*foreign.timestamp_authority()))) as (url, _seen):
        exc = _refused(demo_pdf, seal, trust, TsaClient(url))
    assert exc.reason == "untrusted" and "không được tin cậy" in str(exc)


def test_a_rejection_is_reported_with_its_reason(demo_pdf, seal, trust, responder) -> None:
    def with_policy(body, headers):  # a policy the TSA does not have
        return reply(responder.respond(_altered_request(body, req_policy="1.2.3.4")))

    with tsa_double(with_policy) as (url, _seen):
        exc = _refused(demo_pdf, seal, trust, TsaClient(url))
    assert exc.reason == "rejected" and "unaccepted_policy" in str(exc)


# --- the responder alone ---------------------------------------------------------------------

def _request(**fields) -> bytes:
    values = {"version": "v1",
              "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                  "hashed_message": hashlib.sha256(b"x").digest()},
              "nonce": 12345, "cert_req": True}
    values.update(fields)
    return tsp.TimeStampReq(values).dump()


def _status(der: bytes) -> tuple[str, set[str]]:
    from signing.tsa import _TimeStampResp

    status = _TimeStampResp.load(der, strict=True)["status"]
    return status["status"].native, set(status["fail_info"].native or ())


@pytest.mark.parametrize(("body", "failure"), [
    (b"", "bad_data_format"),
    (b"\x00" * 40, "bad_data_format"),
    (_request() + b"trailing", "bad_data_format"),
    (_request(version=2), "bad_request"),
    (_request(message_imprint={"hash_algorithm": {"algorithm": "sha1"},
                               "hashed_message": hashlib.sha1(b"x").digest()}), "bad_alg"),
    (_request(message_imprint={"hash_algorithm": {"algorithm": "sha256"},
                               "hashed_message": b"short"}), "bad_data_format"),
    (_request(req_policy="1.2.3.4"), "unaccepted_policy"),
    (_request(extensions=[{"extn_id": "1.2.3.5", "critical": False,
                           "extn_value": core.OctetString(b"x").dump()}]),
     "unaccepted_extensions"),
])
def test_the_responder_rejects_what_it_cannot_honour(responder, body, failure) -> None:
    assert _status(responder.respond(body)) == ("rejection", {failure})


def test_the_responder_grants_a_proper_request(responder) -> None:
    resp = tsp.TimeStampResp.load(responder.respond(_request(req_policy=SIMULATED_POLICY)))
    assert resp["status"]["status"].native == "granted"
    signed: cms.SignedData = resp["time_stamp_token"]["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 12345
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"x").digest()
    assert info["policy"].native == SIMULATED_POLICY
    assert len(signed["certificates"]) == 2  # the TSA and the root
    no_certs = tsp.TimeStampResp.load(responder.respond(_request(cert_req=False)))
    assert not no_certs["time_stamp_token"]["content"]["certificates"].native


def test_serial_numbers_differ(responder) -> None:
    serials = {tsp.TimeStampResp.load(responder.respond(_request()))["time_stamp_token"]["content"]
               ["encap_content_info"]["content"].parsed["serial_number"].native for _ in range(20)}
    assert len(serials) == 20


def test_request_limit_is_generous() -> None:
    assert len(_request(req_policy=SIMULATED_POLICY)) * 10 < MAX_REQUEST_BYTES


class _NotReEncoded(tsp.TimeStampResp):
    """An answer that fails the test if anything encodes it again."""

    def dump(self, force: bool = False) -> bytes:
        raise AssertionError("the TSA's answer was encoded again")


def test_the_client_checks_the_answer_as_it_came(responder, trust) -> None:
    """asn1crypto takes a header whose last byte is 0x80 for an indefinite length, and its
    ``dump()`` then encodes the whole value again: the simulated TSA's answers are 3,204 bytes
    (a length of 0x0C80), and that cost 0.2-0.37 s of CPU per timestamp. The client's checks
    read the answer's own bytes."""
    body = _request()
    answer = responder.respond(body)
    client = TsaClient("http://127.0.0.1:9/").timestamper(trust)
    client._check_response(tsp.TimeStampReq.load(body), _NotReEncoded.load(answer))
    with pytest.raises(TimestampUnavailable) as info:  # and still reads what it must refuse
        client._check_response(tsp.TimeStampReq.load(_request(nonce=54321)),
                               _NotReEncoded.load(answer))
    assert info.value.reason == "wrong_nonce"
