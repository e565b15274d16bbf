"""Per-address rate limits (Flask-Limiter) where a password or an API token can be guessed.

Only refused attempts count, so an office behind one address can log in all morning; once an
address has used its allowance it gets 429 until the window passes. This is what keeps one
address from locking every account: a name locks after ``LOGIN_MAX_FAILURES`` refusals, and
an address gets ``LOGIN_RATE_LIMIT`` refusals in all. Counters live in ``RATELIMIT_STORAGE_URI``
(``memory://`` per process; ``redis://...`` shared by every process and host). Every other
Flask-Limiter setting (``RATELIMIT_*``) can be set the same way, with the ``IOFFICE_`` prefix.
"""

from __future__ import annotations

from flask import Flask
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

TOO_MANY = ("Quá nhiều lần thử không thành công từ địa chỉ của bạn. "
            "Vui lòng chờ một lúc rồi thử lại.")

TOO_MANY_TIMESTAMPS = "Quá nhiều yêu cầu dấu thời gian từ địa chỉ của bạn; hãy thử lại sau."

TOO_MANY_OCSP = ("Quá nhiều yêu cầu kiểm tra trạng thái chứng thư (OCSP) từ địa chỉ của bạn; "
                 "hãy thử lại sau ít phút.")


def _refused(response: Response) -> bool:
    return response.status_code >= 400


def _token_refused(response: Response) -> bool:
    return response.status_code == 401


def init_app(app: Flask) -> Limiter:
    """The app's own limiter (its own storage), applied to the login form, the password
    change form and the API's bearer-token check."""
    from ioffice.api.views import bp as api_bp

    limiter = Limiter(get_remote_address, app=app)
    for endpoint in ("auth.login", "auth.change_password"):
        # wrapped here, per app, so each app's limiter (and its storage) guards its own views
        app.view_functions[endpoint] = limiter.limit(
            lambda: app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_refused,
            error_message=TOO_MANY)(app.view_functions[endpoint])
    limiter.limit(lambda: app.config["API_AUTH_RATE_LIMIT"], deduct_when=_token_refused,
                  error_message=TOO_MANY)(api_bp)
    if "tsa.timestamp" in app.view_functions:  # the simulated TSA, if served: every request
        app.view_functions["tsa.timestamp"] = limiter.limit(
            lambda: app.config["TSA_RATE_LIMIT"], error_message=TOO_MANY_TIMESTAMPS,
        )(app.view_functions["tsa.timestamp"])
    # the OCSP responder signs each answer with a CA key (asymmetric work per request, no
    # login): one limit shared by its POST and GET forms, per address
    ocsp_limit = limiter.shared_limit(lambda: app.config["OCSP_RATE_LIMIT"], scope="ocsp",
                                      error_message=TOO_MANY_OCSP)
    for endpoint in ("revocation.ocsp_post", "revocation.ocsp_get"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = ocsp_limit(app.view_functions[endpoint])
    return limiter
