"""Lets :class:`~axis_connector.client.AxisClient` talk to a Flask test client instead of the
network (it stands in for the urllib3 pool: ``request`` with the same arguments)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient


@dataclass
class FlaskResponse:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


class FlaskPool:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(self, method: str, url: str, *, body: bytes, headers: dict[str, str],
                **_: Any) -> FlaskResponse:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        response = self.client.open(path, method=method, data=body, headers=headers)
        return FlaskResponse(response.status_code, response.get_data(), dict(response.headers))
