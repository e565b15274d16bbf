import pytest

from ioffice.agencies.identifiers import AgencyIdentifier, AgencyLevel, InvalidAgencyIdentifier


@pytest.mark.parametrize(("code", "level", "parent"), [
    ("000.00.00.G22", AgencyLevel.CENTRAL, None),
    ("000.00.05.G09", AgencyLevel.CENTRAL, "000.00.00.G09"),
    ("000.00.00.H12", AgencyLevel.PROVINCE, None),
    ("000.00.21.H12", AgencyLevel.DISTRICT, "000.00.00.H12"),
    ("000.01.21.H12", AgencyLevel.COMMUNE, "000.00.21.H12"),
    ("003.01.21.H12", AgencyLevel.COMMUNE, "000.01.21.H12"),
    (" 000.00.00.K41 ", AgencyLevel.PROVINCE, None),
])
def test_levels_and_parents_follow_the_code(code: str, level: AgencyLevel, parent: str | None) -> None:
    ident = AgencyIdentifier.parse(code)
    assert ident.level is level
    assert str(ident) == code.strip()
    assert (str(ident.parent) if ident.parent else None) == parent


@pytest.mark.parametrize("code", [
    "", "H12", "000.00.00.h12", "000.00.00.H1", "00.00.00.H12", "000.00.00.12H",
    "000-00-00-H12", "000.00.00.H12.1", "000.01.00.H12", "001.00.21.H12",
    "000.00.00.H12<script>",
])
def test_malformed_identifiers_are_refused_with_a_reason(code: str) -> None:
    with pytest.raises(InvalidAgencyIdentifier) as exc:
        AgencyIdentifier.parse(code)
    assert "không hợp lệ" in str(exc.value)
