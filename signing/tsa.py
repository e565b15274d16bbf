"""RFC 3161 timestamps over HTTP: the client signing uses, and the simulated TSA's responder.

The client is pyHanko's own HTTP timestamper (:class:`pyhanko.sign.timestamps.HTTPTimeStamper`,
on aiohttp, one total timeout per request), through its documented extension points only
(``async_request_tsa_response``, ``async_timestamp``: call pyHanko's, then check what came back)
and with errors a clerk can read. Every token is checked before it is embedded: the TSA's
status, the nonce and the message imprint of the request, and the token's signature and the
TSA certificate's path against the trust store (pyHanko's ``validate_tst_signed_data``).

The responder answers a DER ``TimeStampReq`` with a DER ``TimeStampResp`` signed with a key the
caller holds (the simulated PKI's TSA, :meth:`signing.Pki.timestamp_authority`); a request it
cannot honour gets a ``rejection`` with the RFC 3161 failure bit, never an exception.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import certifi
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from .errors import SigningError

__all__ = [
    "MAX_REQUEST_BYTES",
    "QUERY_TYPE",
    "REPLY_TYPE",
    "SIMULATED_POLICY",
    "HttpTimestamper",
    "TimestampUnavailable",
    "TsaClient",
    "TsaResponder",
]

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_REQUEST_BYTES = 8192
"""A TimeStampReq is ~60 bytes plus the digest (and a policy or extensions, if any): far less."""
SIMULATED_POLICY = "2.25.141048484312893405315111892766351506491"
"""The simulated TSA's policy (a UUID-based OID, ITU-T X.667: needs no registration)."""

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


class TimestampUnavailable(SigningError):
    """No usable timestamp: the TSA is not configured, unreachable, too slow, refused the
    request or the credentials, or answered something that is not a timestamp for this request.

    ``reason`` tells which (``not_configured``, ``unreachable``, ``timeout``, ``credentials``,
    ``busy``, ``http_error``, ``malformed``, ``rejected``, ``wrong_nonce``, ``wrong_imprint``,
    ``bad_token``, ``untrusted``); the message is Vietnamese, for the clerk."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _where(url: str) -> str:
    """The TSA's address for a message: scheme, host and path, never credentials in the URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _unavailable(url: str, reason: str, detail: str) -> TimestampUnavailable:
    return TimestampUnavailable(
        reason, f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian (TSA) {_where(url)}: "
                f"{detail}")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS context pyHanko's default session builds (certifi's roots), built once: loading
    the bundle takes longer than the whole timestamp exchange (docs/benchmarks.md, signing)."""
    return ssl.create_default_context(cafile=certifi.where())


class _Session(LazySession):
    """Like pyHanko's lazy per-request session, with the TLS context built once per process.
    The timestamper closes it after each request (pyHanko closes only sessions it made)."""

    def __init__(self) -> None:
        super().__init__()
        self._client: aiohttp.ClientSession | None = None

    def get_session(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_tls_context()))
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


class HttpTimestamper(HTTPTimeStamper):
    """pyHanko's HTTP timestamper, plus a bearer token, the checks of every token, and
    :class:`TimestampUnavailable` for every way of not getting one.

    ``timeout`` bounds the whole request (connecting, sending, the answer): aiohttp's total
    timeout, which a server trickling its answer cannot stretch."""

    def __init__(self, url: str, *, trust, timeout: float = 10.0,
                 username: str | None = None, password: str | None = None,
                 bearer_token: str | None = None,
                 dummy_cache: dict[str, cms.ContentInfo] | None = None) -> None:
        if username is not None and bearer_token:
            raise ValueError("TSA credentials: a user name and password, or a bearer token, "
                             "not both.")
        self._http = _Session()
        super().__init__(
            url, timeout=timeout,
            auth=(username, password or "") if username is not None else None,
            headers={"Authorization": f"Bearer {bearer_token}"} if bearer_token else None,
            session=self._http)
        self._trust = trust
        self._dummies = dummy_cache if dummy_cache is not None else {}

    async def async_dummy_response(self, md_algorithm) -> cms.ContentInfo:
        """pyHanko's size estimate for a document timestamp (B-LTA) asks the TSA for a token
        over a dummy digest, once per timestamper; a timestamper lives for one signature, so
        the estimate is kept by the :class:`TsaClient` for the process (one request less per
        B-LTA seal)."""
        dummy = self._dummies.get(md_algorithm)
        if dummy is None:
            dummy = await super().async_dummy_response(md_algorithm)
            self._dummies[md_algorithm] = dummy
        return dummy

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            resp = await super().async_request_tsa_response(req)
        except TimestampRequestError as exc:
            raise self._transport_error(exc) from exc
        except (ValueError, TypeError) as exc:  # asn1crypto on a body that is not DER
            raise _unavailable(self.url, "malformed", "máy chủ trả lời không phải một phản hồi "
                               "dấu thời gian RFC 3161.") from exc
        finally:
            await self._http.close()
        self._check_response(req, resp)
        return resp

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        token = await super().async_timestamp(message_digest, md_algorithm)

        def expected(algorithm: str) -> bytes:
            return message_digest if algorithm == md_algorithm else b""

        try:
            kwargs = await validate_tst_signed_data(
                token["content"], self._trust.validation_context(), expected)
            status = TimestampSignatureStatus(**kwargs)
        except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
            raise _unavailable(self.url, "bad_token", "dấu thời gian nhận được không kiểm tra "
                               f"được ({exc}).") from exc
        if not (status.intact and status.valid):
            raise _unavailable(self.url, "bad_token", "chữ ký của máy chủ trên dấu thời gian "
                               "không hợp lệ hoặc không khớp với chữ ký cần gắn dấu thời gian.")
        if not status.trusted:
            raise _unavailable(self.url, "untrusted", "chứng thư của máy chủ cấp dấu thời gian "
                               f"«{status.signing_cert.subject.human_friendly}» không được tin "
                               "cậy (không thuộc chuỗi tin cậy, đã hết hạn hoặc bị thu hồi).")
        return token

    def _transport_error(self, exc: TimestampRequestError) -> TimestampUnavailable:
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ContentTypeError):
            return _unavailable(self.url, "malformed", "máy chủ trả lời không đúng kiểu "
                                f"{REPLY_TYPE}.")
        if isinstance(cause, aiohttp.ClientResponseError):
            if cause.status in (401, 403):
                return _unavailable(self.url, "credentials", f"máy chủ từ chối thông tin xác thực "
                                    f"(HTTP {cause.status}); kiểm tra tài khoản TSA trong cấu hình.")
            if cause.status == 429:
                return _unavailable(self.url, "busy", "máy chủ đang quá tải (HTTP 429); hãy thử "
                                    "lại sau ít phút.")
            return _unavailable(self.url, "http_error", f"máy chủ trả lời lỗi HTTP {cause.status}.")
        if isinstance(cause, asyncio.TimeoutError | TimeoutError):
            return _unavailable(self.url, "timeout", f"máy chủ không trả lời trong {self.timeout:g} "
                                "giây.")
        return _unavailable(self.url, "unreachable", "không kết nối được tới máy chủ.")

    def _check_response(self, req: tsp.TimeStampReq, resp: tsp.TimeStampResp) -> None:
        """What pyHanko's ``handle_tsp_response`` checks, read defensively, and the imprint,
        which it does not check (the token's own check follows in ``async_timestamp``)."""
        try:
            # The response's own contents, not ``resp.dump()``: asn1crypto takes a header whose
            # last byte is 0x80 for an indefinite length and re-encodes the whole response
            # (the simulated TSA's answers are 3,204 bytes, a length of 0x0C80: 0.2-0.37 s of
            # CPU for each timestamp, for nothing).
            lenient = _TimeStampResp(contents=resp.contents)
            status = lenient["status"]["status"].native
            if status not in ("granted", "granted_with_mods"):
                said = "; ".join(lenient["status"]["status_string"].native or [])
                fail = ", ".join(sorted(lenient["status"]["fail_info"].native or []))
                raise _unavailable(self.url, "rejected", f"máy chủ từ chối yêu cầu ({status}"
                                   f"{': ' + said if said else ''}{'; ' + fail if fail else ''}).")
            tst_info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
            if not isinstance(tst_info, tsp.TSTInfo):
                raise ValueError("no TSTInfo")
            nonce = tst_info["nonce"].native
            imprint = tst_info["message_imprint"]
            same_imprint = (
                imprint["hash_algorithm"]["algorithm"].native
                == req["message_imprint"]["hash_algorithm"]["algorithm"].native
                and imprint["hashed_message"].native == req["message_imprint"]["hashed_message"].native)
        except TimestampUnavailable:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _unavailable(self.url, "malformed", "máy chủ trả lời không phải một dấu thời "
                               "gian RFC 3161 đọc được.") from exc
        if req["nonce"].native is not None and nonce != req["nonce"].native:
            raise _unavailable(self.url, "wrong_nonce", "dấu thời gian nhận được không phải trả "
                               "lời cho yêu cầu này (sai số nonce).")
        if not same_imprint:
            raise _unavailable(self.url, "wrong_imprint", "dấu thời gian nhận được được cấp cho "
                               "dữ liệu khác, không phải cho chữ ký này.")


@dataclass(frozen=True)
class TsaClient:
    """Where and how to ask for timestamps: what configuration gives, once per process."""

    url: str
    """The TSA's RFC 3161 HTTP endpoint (``http://`` or ``https://``)."""
    timeout: float = 10.0
    """Seconds for one request, all included: connecting, sending, the answer."""
    username: str | None = None
    """HTTP basic authentication (with ``password``), if the TSA asks for it."""
    password: str | None = None
    bearer_token: str | None = None
    """``Authorization: Bearer ...``, for TSAs that issue tokens; not with ``username``."""
    _dummies: dict = field(default_factory=dict, compare=False, repr=False)
    """Size-estimate tokens, per digest algorithm (:meth:`HttpTimestamper.async_dummy_response`)."""

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"TSA URL must be http:// or https://, not {self.url!r}.")
        if self.username is not None and self.bearer_token:
            raise ValueError("TSA credentials: a user name and password, or a bearer token, "
                             "not both.")
        if not self.timeout > 0:
            raise ValueError("TSA timeout must be positive.")

    def timestamper(self, trust) -> HttpTimestamper:
        """A timestamper whose tokens are checked against ``trust`` (a :class:`TrustStore`)."""
        return HttpTimestamper(self.url, trust=trust, timeout=self.timeout,
                               username=self.username, password=self.password,
                               bearer_token=self.bearer_token, dummy_cache=self._dummies)


class TsaResponder:
    """An RFC 3161 timestamp authority over bytes: :meth:`respond` takes the body of a
    ``application/timestamp-query`` request and gives the ``application/timestamp-reply``.

    Accepts SHA-256/384/512 imprints of the right length, no policy or this one, no
    extensions; copies the nonce; includes the certificates when ``certReq`` is set. Signs
    with RSA (PKCS#1 v1.5) or ECDSA, SHA-256, an ESS signing-certificate-v2 attribute."""

    def __init__(self, certificate: asn1_x509.Certificate, private_key, chain:
                 Sequence[asn1_x509.Certificate] = (), *, policy: str = SIMULATED_POLICY,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError("TSA key must be RSA or EC.")
        self.certificate = certificate
        self._key = private_key
        self._chain = tuple(chain)
        self.policy = policy
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._ess = simple_cms_attribute("signing_certificate_v2",
                                         as_signing_certificate_v2(certificate, "sha256"))

    def respond(self, body: bytes) -> bytes:
        """The DER TimeStampResp for ``body``: a token, or a rejection saying why."""
        try:
            req = tsp.TimeStampReq.load(body, strict=True)
            _ = req.native  # parse everything now: a malformed field is a bad request, not later
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            return _rejection("bad_data_format", "not a DER TimeStampReq").dump()
        try:
            refusal = self._refusal(req)
            if refusal is not None:
                return _rejection(*refusal).dump()
            return self._grant(req).dump()
        except Exception:
            return _rejection("system_failure", "internal error").dump()

    def _refusal(self, req: tsp.TimeStampReq) -> tuple[str, str] | None:
        if req["version"].native != "v1":
            return "bad_request", "version must be 1"
        algorithm = req["message_imprint"]["hash_algorithm"]["algorithm"].native
        if algorithm not in _DIGESTS:
            return "bad_alg", f"unsupported hash algorithm {algorithm}"
        if len(req["message_imprint"]["hashed_message"].native) != _DIGESTS[algorithm].digest_size:
            return "bad_data_format", "digest length does not match the algorithm"
        policy = req["req_policy"].native
        if policy is not None and policy != self.policy:
            return "unaccepted_policy", f"policy {policy} not supported"
        if req["extensions"].native:
            return "unaccepted_extensions", "no extensions are supported"
        return None

    def _grant(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        now = self._clock().astimezone(dt.UTC).replace(microsecond=0)
        info = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": req["message_imprint"],
            "serial_number": secrets.randbits(63) | 1 << 62,  # unique, positive, 8 bytes
            "gen_time": now,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self.certificate.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        digest = hashes.Hash(hashes.SHA256())
        digest.update(tst_info)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
            self._ess,
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        if isinstance(self._key, rsa.RSAPrivateKey):
            mechanism = "rsassa_pkcs1v15"
            value = self._key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        else:
            mechanism = "sha256_ecdsa"
            value = self._key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
                "issuer": self.certificate.issuer,
                "serial_number": self.certificate.serial_number})}),
            "digest_algorithm": sha256,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            "signed_attrs": signed_attrs,
            "signature": value,
        })
        signed_data = {
            "version": "v3",
            "digest_algorithms": cms.DigestAlgorithms([sha256]),
            "encap_content_info": cms.EncapsulatedContentInfo({
                "content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)}),
            "signer_infos": [signer_info],
        }
        if req["cert_req"].native:
            signed_data["certificates"] = [self.certificate, *self._chain]
        token = cms.ContentInfo({"content_type": "signed_data",
                                 "content": cms.SignedData(signed_data)})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


class _TimeStampResp(core.Sequence):
    """RFC 3161's TimeStampResp, whose token is OPTIONAL (a rejection has none): asn1crypto's
    ``tsp.TimeStampResp`` requires it, so neither writes nor reads a rejection."""

    _fields = [("status", tsp.PKIStatusInfo),
               ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def _rejection(failure: str, text: str) -> _TimeStampResp:
    return _TimeStampResp({"status": {
        "status": "rejection", "status_string": [text],
        "fail_info": tsp.PKIFailureInfo({failure})}})
