"""Optional push: a notification (never the package) to the recipient's callback URL, signed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from axis_connector.client import AxisClient, AxisError
from axis_connector.client.signing import verify_signature
from axis_connector.hub import worker

from .conftest import SECRETS, set_base_url


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []
    status = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(app: Flask) -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for system_id in ("sys-vpcp", "sys-sotttt"):  # the receivers' own address, set by the operator
        set_base_url(app, system_id, f"http://127.0.0.1:{server.server_address[1]}/axis")
    yield f"http://127.0.0.1:{server.server_address[1]}/axis/notify", handler
    server.shutdown()
    server.server_close()


def test_push_after_commit_then_poll(app: Flask, clients: dict[str, AxisClient], signed_document: bytes,
                                     receiver: tuple[str, type[_Receiver]]) -> None:
    url, handler = receiver
    clients["vpcp"].register_callback(url)
    sent = clients["camau"].send_edoc(signed_document)
    assert worker.run_once(app.extensions["axis_hub"]).pushed == 1
    [(path, headers, body)] = handler.received
    assert json.loads(body)["message_id"] == sent.message_id
    assert b"edXML" not in body  # a notification, not the package
    assert verify_signature(SECRETS["sys-vpcp"], "POST", path, headers, body)
    assert [i.message_id for i in clients["vpcp"].get_received_edoc_list()] == [sent.message_id]


def test_failed_push_is_retried_and_polling_still_works(app: Flask, clients: dict[str, AxisClient],
                                                        signed_document: bytes,
                                                        receiver: tuple[str, type[_Receiver]]) -> None:
    url, handler = receiver
    handler.status = 503
    clients["vpcp"].register_callback(url)
    sent = clients["camau"].send_edoc(signed_document)
    report = worker.run_once(app.extensions["axis_hub"])
    assert (report.pushed, report.failed) == (0, 1)
    assert worker.run_once(app.extensions["axis_hub"]).total == 0  # backing off
    assert [i.message_id for i in clients["vpcp"].get_received_edoc_list()] == [sent.message_id]


def test_inline_push_after_commit(app: Flask, clients: dict[str, AxisClient], signed_document: bytes,
                                  receiver: tuple[str, type[_Receiver]]) -> None:
    url, handler = receiver
    app.extensions["axis_hub"].config["PUSH_INLINE"] = True
    clients["sotttt"].register_callback(url)
    clients["camau"].send_edoc(signed_document)
    for _ in range(100):
        if handler.received:
            break
        threading.Event().wait(0.05)
    assert len(handler.received) == 1


def test_callback_must_be_http(clients: dict[str, AxisClient]) -> None:
    with pytest.raises(AxisError) as info:
        clients["vpcp"].register_callback("file:///etc/passwd")
    assert info.value.code == "invalid_callback"
