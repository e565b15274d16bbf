"""Địa danh: the place name a document's date line starts with (Decree 30 Appendix I, «Cà
Mau, ngày ... tháng ... năm ...»), read from the agency's name."""

from __future__ import annotations

import re

from ioffice.agencies.models import Agency

__all__ = ["place_of"]

PLACE_RE = re.compile(r"(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn)\s+(.+)$",
                      re.IGNORECASE)


def place_of(agency: Agency) -> str:
    """The place in the agency's name ("Ủy ban nhân dân tỉnh Cà Mau" -> "Cà Mau"), else the
    name."""
    match = PLACE_RE.search(agency.name)
    return match.group(1).strip() if match else agency.name
