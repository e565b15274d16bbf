"""Electronic agency identifiers (mã định danh), Decision 20/2020/QĐ-TTg.

``LLL.KK.JJ.Mnn``, read right to left: ``Mnn`` the level-1 body (``G..`` ministries and
government bodies, ``H..`` provincial People's Committees, ...), ``JJ`` level 2 (departments,
districts), ``KK`` level 3 (units under them, communes), ``LLL`` level 4.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?P<l4>\d{3})\.(?P<l3>\d{2})\.(?P<l2>\d{2})\.(?P<l1>[A-Z]\d{2})$")


class AgencyLevel(enum.StrEnum):
    CENTRAL = "central"
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"

    @property
    def label(self) -> str:
        return {"central": "Trung ương", "province": "Tỉnh", "district": "Huyện",
                "commune": "Xã"}[self.value]


class InvalidAgencyIdentifier(ValueError):
    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"Mã định danh '{value}' không hợp lệ: {reason}")
        self.value = value
        self.reason = reason


@dataclass(frozen=True)
class AgencyIdentifier:
    level1: str
    level2: str
    level3: str
    level4: str

    @classmethod
    def parse(cls, value: str) -> AgencyIdentifier:
        text = (value or "").strip()
        m = _PATTERN.match(text)
        if not m:
            raise InvalidAgencyIdentifier(
                value, "phải có dạng LLL.KK.JJ.Mnn, ví dụ 000.00.00.H12 (Quyết định 20/2020/QĐ-TTg)")
        if m["l4"] != "000" and (m["l3"] == "00" or m["l2"] == "00"):
            raise InvalidAgencyIdentifier(value, "cấp 4 phải nằm dưới một đơn vị cấp 3 và cấp 2")
        if m["l3"] != "00" and m["l2"] == "00":
            raise InvalidAgencyIdentifier(value, "cấp 3 phải nằm dưới một đơn vị cấp 2")
        return cls(m["l1"], m["l2"], m["l3"], m["l4"])

    def __str__(self) -> str:
        return f"{self.level4}.{self.level3}.{self.level2}.{self.level1}"

    @property
    def level(self) -> AgencyLevel:
        if self.level1.startswith("G"):
            return AgencyLevel.CENTRAL
        if self.level2 == "00":
            return AgencyLevel.PROVINCE
        if self.level3 == "00":
            return AgencyLevel.DISTRICT
        return AgencyLevel.COMMUNE

    @property
    def parent(self) -> AgencyIdentifier | None:
        """The identifier of the body directly above, by the code's structure."""
        if self.level4 != "000":
            return AgencyIdentifier(self.level1, self.level2, self.level3, "000")
        if self.level3 != "00":
            return AgencyIdentifier(self.level1, self.level2, "00", "000")
        if self.level2 != "00":
            return AgencyIdentifier(self.level1, "00", "00", "000")
        return None
