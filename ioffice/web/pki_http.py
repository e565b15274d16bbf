"""The simulated PKI's revocation URLs, for validators outside the app (no login, no CSRF).

Certificates issued by the simulated CA name these URLs under ``IOFFICE_PUBLIC_URL``:

- ``GET /pki/crl/<ca>.crl``: the CA's current CRL, DER (``application/pkix-crl``);
- ``POST /pki/ocsp`` (``application/ocsp-request``) and ``GET /pki/ocsp/<base64 request>``:
  OCSP (RFC 6960), answered from the CA's current revocation state;
- ``GET /pki/ca/<ca>.crt``: the CA's certificate, DER (``application/pkix-cert``, caIssuers).

Caches may keep an answer for at most :data:`MAX_AGE` seconds and never past its nextUpdate,
so that a revocation reaches validators behind a cache within minutes. What is answered is
``signing.responder``'s; this module only speaks HTTP.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
from base64 import b64decode

from flask import Blueprint, Response, request

from ioffice.services import services
from signing import responder

bp = Blueprint("revocation", __name__, url_prefix="/pki")

MAX_OCSP_REQUEST = 8 * 1024
"""Bytes an OCSP request may have (one request is ~100 bytes; a signed one ~2 kB)."""

MAX_AGE = 300
"""Seconds an HTTP cache may keep a CRL or an OCSP answer (never past its nextUpdate)."""

OCSP_RESPONSE = "application/ocsp-response"


@bp.get("/crl/<name>.crl")
def crl(name: str) -> Response:
    pki = _pki()
    if pki is None:
        return _text(503, "Chưa có hạ tầng khóa công khai (PKI) trên máy chủ này.")
    try:
        published = responder.crl(pki, name)
    except (responder.UnknownAuthority, FileNotFoundError):
        return _text(404, f"Không có CRL của CA «{name}».")
    return _published(published, "application/pkix-crl")


@bp.get("/ca/<name>.crt")
def ca_certificate(name: str) -> Response:
    pki = _pki()
    if pki is None:
        return _text(503, "Chưa có hạ tầng khóa công khai (PKI) trên máy chủ này.")
    try:
        published = responder.ca_certificate(pki, name)
    except responder.UnknownAuthority:
        return _text(404, f"Không có chứng thư của CA «{name}».")
    response = Response(published.body, mimetype="application/pkix-cert")
    response.headers["Cache-Control"] = "public, max-age=86400"  # changes once in years
    return response


@bp.post("/ocsp")
def ocsp_post() -> Response:
    if request.content_length is not None and request.content_length > MAX_OCSP_REQUEST:
        return _text(413, f"Yêu cầu OCSP quá lớn (tối đa {MAX_OCSP_REQUEST} byte).")
    body = request.stream.read(MAX_OCSP_REQUEST + 1)  # also bounds a body without a length
    if len(body) > MAX_OCSP_REQUEST:
        return _text(413, f"Yêu cầu OCSP quá lớn (tối đa {MAX_OCSP_REQUEST} byte).")
    return _ocsp(body)


# base64 has "/" (and may have "//"): the request is the rest of the path; werkzeug merges
# repeated slashes only outside a converter, so "//" reaches the view (tested)
@bp.get("/ocsp/<path:encoded>")
def ocsp_get(encoded: str) -> Response:
    if len(encoded) > MAX_OCSP_REQUEST * 4 // 3 + 4:
        return _text(413, f"Yêu cầu OCSP quá lớn (tối đa {MAX_OCSP_REQUEST} byte).")
    try:
        body = b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        body = b""  # answered malformedRequest, as any other request that does not parse
    return _ocsp(body)


def _ocsp(body: bytes) -> Response:
    pki = _pki()
    if pki is None:
        return _text(503, "Chưa có hạ tầng khóa công khai (PKI) trên máy chủ này.")
    return _published(responder.ocsp_response(pki, body), OCSP_RESPONSE)


def _pki():
    try:
        return services().pki
    except RuntimeError:  # no PKI yet (`flask pki init`)
        return None


def _published(published: responder.Published, mimetype: str) -> Response:
    """The answer with cache headers that never outlive its nextUpdate (RFC 5019 §6.2)."""
    response = Response(published.body, mimetype=mimetype)
    now = dt.datetime.now(dt.UTC)
    if not published.cacheable or published.next_update is None:
        response.headers["Cache-Control"] = "no-store"
        return response
    max_age = max(0, min(MAX_AGE, int((published.next_update - now).total_seconds())))
    response.headers["Cache-Control"] = f"public, max-age={max_age}, no-transform, must-revalidate"
    response.expires = now + dt.timedelta(seconds=max_age)
    if published.this_update is not None:
        response.last_modified = published.this_update
    response.set_etag(hashlib.sha256(published.body).hexdigest())
    if request.method == "GET":  # a cache revalidating what it holds gets a 304
        response.make_conditional(request)
    return response


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
