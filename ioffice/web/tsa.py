"""``POST /pki/tsa``: the simulated PKI's timestamp authority over HTTP (RFC 3161, section 3.4),
served when ``TSA_SERVE`` is on (``make run``, the tests), so that signing in the demo and in
the tests takes the same HTTP path as with a real TSA.

No login and no CSRF token (a TSA client has neither: it is a public service, like any TSA);
rate-limited per client address (``TSA_RATE_LIMIT``, ``ioffice.web.limits``); the body must
say its length, at most ``MAX_REQUEST_BYTES``. Whatever the body, a well-formed request gets a
``TimeStampResp``: a token, or a rejection with its RFC 3161 failure bit, never a 500.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ioffice.services import services
from signing.tsa import MAX_REQUEST_BYTES, QUERY_TYPE, REPLY_TYPE

bp = Blueprint("tsa", __name__)


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.post("/pki/tsa")
def timestamp() -> Response:
    if request.mimetype != QUERY_TYPE:
        return _plain(415, f"Content-Type must be {QUERY_TYPE}")
    if request.content_length is None:
        return _plain(411, "Content-Length required")
    if request.content_length > MAX_REQUEST_BYTES:
        return _plain(413, f"a timestamp request is at most {MAX_REQUEST_BYTES} bytes")
    body = request.get_data(cache=False)
    return Response(services().tsa_responder.respond(body), status=200, mimetype=REPLY_TYPE)
