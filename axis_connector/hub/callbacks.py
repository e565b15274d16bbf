"""Which push URLs a system may register (``registerCallback``).

The hub POSTs to a callback URL from its own network position, so a URL chosen freely by a
connected system would let that system make the hub call anything the hub can reach (its own
admin ports, the metadata service of a cloud host, a database on the private network). The
rule: the URL lies under the system's own base URL, set by the hub operator
(``add-system --base-url``), and every address its host name resolves to is public, unless
the operator allows private targets (``AXIS_ALLOW_PRIVATE_CALLBACKS``, for a federation on one
machine or one private network).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

__all__ = ["CallbackRefused", "check_callback_url", "resolve"]


class CallbackRefused(Exception):
    """``code`` (stable, English) and ``message`` (Vietnamese) of the refusal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message


Resolver = Callable[[str, int], Sequence[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _parts(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(url)
    port = parts.port or (443 if scheme == "https" else 80)  # ValueError on a bad port
    return scheme, parts.hostname.lower().rstrip("."), port, parts.path or "/"


def _under(path: str, base_path: str) -> bool:
    base = base_path if base_path.endswith("/") else base_path + "/"
    return path == base_path or path.startswith(base)


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_callback_url(url: str, base_url: str | None, *, allow_private: bool = False,
                       resolver: Resolver = resolve) -> None:
    """Raise :class:`CallbackRefused` unless ``url`` may receive this system's pushes."""
    try:
        scheme, host, port, path = _parts(url)
    except ValueError:
        raise CallbackRefused("invalid_callback", "địa chỉ nhận thông báo phải là URL http:// hoặc "
                              "https:// có tên máy, không kèm tên đăng nhập") from None
    if not base_url:
        raise CallbackRefused("callback_not_configured",
                              "người quản trị trục chưa cấu hình địa chỉ gốc (base URL) cho hệ thống "
                              "này; không thể đăng ký địa chỉ nhận thông báo")
    try:
        base_scheme, base_host, base_port, base_path = _parts(base_url)
    except ValueError:
        raise CallbackRefused("callback_not_configured",
                              f"địa chỉ gốc {base_url!r} của hệ thống không hợp lệ") from None
    if (scheme, host, port) != (base_scheme, base_host, base_port) or not _under(path, base_path):
        raise CallbackRefused("callback_outside_base_url",
                              f"địa chỉ nhận thông báo phải nằm dưới địa chỉ gốc {base_url} của hệ thống")
    if allow_private:
        return
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        raise CallbackRefused("callback_unresolvable",
                              f"không phân giải được tên máy {host} của địa chỉ nhận thông báo") from None
    if not addresses:
        raise CallbackRefused("callback_unresolvable",
                              f"không phân giải được tên máy {host} của địa chỉ nhận thông báo")
    private = [a for a in addresses if _private(a)]
    if private:
        raise CallbackRefused("callback_private_address",
                              f"địa chỉ nhận thông báo trỏ tới địa chỉ nội bộ {', '.join(private)} "
                              "(loopback, mạng riêng hoặc link-local); trục không gọi tới đó")
