"""``registerCallback`` (issue 15): only under the system's own base URL, set by the operator;
never to loopback, private or link-local addresses unless AXIS_ALLOW_PRIVATE_CALLBACKS.
And the hub's security headers on every answer."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from axis_connector.client import AxisClient, AxisError
from axis_connector.hub.callbacks import CallbackRefused, check_callback_url

from .conftest import set_base_url

BASE = "https://vpcp.example.vn/axis"


def _resolver(*addresses: str):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("addresses", [
    ("127.0.0.1",), ("10.1.2.3",), ("172.16.0.5",), ("192.168.1.1",), ("169.254.169.254",),
    ("::1",), ("fe80::1",), ("fd00::1",), ("::ffff:127.0.0.1",), ("0.0.0.0",), ("100.64.0.1",),
    ("203.0.113.7", "10.0.0.1"),  # one private address among public ones is enough
])
def test_private_targets_are_refused(addresses: tuple[str, ...]) -> None:
    with pytest.raises(CallbackRefused) as info:
        check_callback_url(BASE + "/notify", BASE, resolver=_resolver(*addresses))
    assert info.value.code == "callback_private_address"
    check_callback_url(BASE + "/notify", BASE, allow_private=True, resolver=_resolver(*addresses))


@pytest.mark.parametrize("url", [
    "https://evil.example/axis/notify",       # another host
    "https://vpcp.example.vn:8443/axis/x",    # another port
    "http://vpcp.example.vn/axis/notify",     # another scheme
    "https://vpcp.example.vn/axisevil",       # not under the path
    "https://vpcp.example.vn/other",
])
def test_urls_outside_the_base_url_are_refused(url: str) -> None:
    with pytest.raises(CallbackRefused) as info:
        check_callback_url(url, BASE, allow_private=True, resolver=_resolver("93.184.215.14"))
    assert info.value.code == "callback_outside_base_url"


def test_the_own_base_url_on_public_addresses_is_accepted() -> None:
    public = _resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    check_callback_url(BASE + "/notify", BASE, resolver=public)
    check_callback_url(BASE, BASE, resolver=public)
    check_callback_url("https://VPCP.example.vn./axis/a/b", BASE, resolver=public)
    for url, code in (("https://user:pw@vpcp.example.vn/axis", "invalid_callback"),
                      ("ftp://vpcp.example.vn/axis", "invalid_callback")):
        with pytest.raises(CallbackRefused) as info:
            check_callback_url(url, BASE, resolver=public)
        assert info.value.code == code
    with pytest.raises(CallbackRefused) as info:
        check_callback_url(BASE, None, resolver=public)
    assert info.value.code == "callback_not_configured"


@pytest.fixture
def strict(app: Flask) -> Flask:
    """The hub as run in production: no private callback targets."""
    hub = app.extensions["axis_hub"]
    hub.settings = dataclasses.replace(hub.settings, allow_private_callbacks=False)
    return app


def _code(call) -> str:
    with pytest.raises(AxisError) as info:
        call()
    return info.value.code


def test_register_callback_through_the_hub(strict: Flask, clients: dict[str, AxisClient]) -> None:
    vpcp = clients["vpcp"]
    assert _code(lambda: vpcp.register_callback("https://vpcp.example.vn/axis")) == "callback_not_configured"
    set_base_url(strict, "sys-vpcp", "http://127.0.0.1:9/axis")
    assert _code(lambda: vpcp.register_callback("http://127.0.0.1:9/axis/notify")) \
        == "callback_private_address"
    set_base_url(strict, "sys-vpcp", "http://localhost:9/axis")  # a name is resolved, then checked
    assert _code(lambda: vpcp.register_callback("http://localhost:9/axis/notify")) \
        == "callback_private_address"
    set_base_url(strict, "sys-vpcp", "http://93.184.215.14/axis")  # an address: no DNS needed
    assert _code(lambda: vpcp.register_callback("http://169.254.169.254/latest/meta-data")) \
        == "callback_outside_base_url"
    vpcp.register_callback("http://93.184.215.14/axis/notify")
    vpcp.register_callback(None)  # stopping needs no check


def test_private_callbacks_when_the_operator_allows_them(app: Flask, clients: dict[str, AxisClient]) -> None:
    set_base_url(app, "sys-vpcp", "http://127.0.0.1:9/axis")
    clients["vpcp"].register_callback("http://127.0.0.1:9/axis/notify")
    assert _code(lambda: clients["vpcp"].register_callback("http://127.0.0.1:5432/")) \
        == "callback_outside_base_url"


def test_security_headers_on_every_answer(app: Flask, clients: dict[str, AxisClient]) -> None:
    client = app.test_client()
    answers = [client.get("/"), client.post("/api/getAgenciesList", json={}),  # 401: unsigned
               client.get("/nowhere")]
    for answer in answers:
        assert answer.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert [a.status_code for a in answers] == [200, 401, 404]
