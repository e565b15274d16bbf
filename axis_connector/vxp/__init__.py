"""The national axis's own wire protocol (VXP, ``shared/spec/vxp-wire.md``): a client for
every operation of its SDK (:class:`VxpClient`), the header signing (:mod:`.signing`), and
:class:`VxpHubClient`, the same client behind the batch calls the exchange worker makes of
:class:`~axis_connector.client.AxisClient`. urllib3 and lxml only (no Flask, no SQLAlchemy).
"""

from .adapter import PackageRoute, VxpHubClient, package_route
from .client import (
    VxpAgency,
    VxpAgencyQD20,
    VxpClient,
    VxpError,
    VxpReceived,
    VxpSent,
    VxpUnavailable,
    VxpUnit,
    code_mapping,
)
from .signing import hash_header, sdk_hash_file, sdk_timestamp, signed_headers

__all__ = [
    "PackageRoute",
    "VxpAgency",
    "VxpAgencyQD20",
    "VxpClient",
    "VxpError",
    "VxpHubClient",
    "VxpReceived",
    "VxpSent",
    "VxpUnavailable",
    "VxpUnit",
    "code_mapping",
    "hash_header",
    "package_route",
    "sdk_hash_file",
    "sdk_timestamp",
    "signed_headers",
]
