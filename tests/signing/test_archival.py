"""The library's long-term validation: a B-LTA signature, the level validation reports, and
an archival timestamp added to a B-LTA, B-LT or B-T file (the re-timestamp job's step)."""

from __future__ import annotations

import pytest

from signing import AgencyStamp, SigningError, sign_pdf, validate_pdf
from signing.archival import add_archival_timestamp, last_timestamp

from .conftest import PERSONAL_BOX, external_checks


def _signed(demo_pdf, chairman_ec, seal, trust, personal_stamp, pki, level: str) -> bytes:
    first = sign_pdf(demo_pdf, chairman_ec, trust=trust, stamp=personal_stamp)
    return sign_pdf(first, seal, trust=trust, stamp=AgencyStamp(PERSONAL_BOX, "45/BC-UBND"),
                    level=level, timestamper=None if level == "B-B" else pki.timestamper())


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_the_level_reached_is_reported(demo_pdf, chairman_ec, seal, trust, personal_stamp, pki,
                                       tmp_path, level: str) -> None:
    signed = _signed(demo_pdf, chairman_ec, seal, trust, personal_stamp, pki, level)
    report = validate_pdf(signed, trust)
    assert report.valid, report.explanation
    assert report.level == level
    last = last_timestamp(signed)
    if level == "B-B":
        assert last is None and report.archival_time is None
        return
    assert last is not None and last.level == level
    if level == "B-LTA":
        assert last.kind == "document" and report.archival_time == last.time
        assert report.signatures[-1].kind == "timestamp"
        assert report.signatures[-1].coverage == "entire_file"
    else:
        assert last.kind == "signature" and report.archival_time is None
    external_checks(signed, tmp_path, 2)


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_an_archival_timestamp_extends_any_timestamped_file(
        demo_pdf, chairman_ec, seal, trust, personal_stamp, pki, tmp_path, level: str) -> None:
    signed = _signed(demo_pdf, chairman_ec, seal, trust, personal_stamp, pki, level)
    renewed = add_archival_timestamp(signed, pki.timestamper(), trust)
    assert renewed.startswith(signed)
    report = validate_pdf(renewed, trust)
    assert report.valid, report.explanation
    assert report.level == "B-LTA" and all(r.verdict.value == "valid" for r in report.signatures)
    stamps = [r for r in report.signatures if r.kind == "timestamp"]
    assert len(stamps) == (2 if level == "B-LTA" else 1)
    assert report.archival_time == stamps[-1].timestamp_time == last_timestamp(renewed).time
    external_checks(renewed, tmp_path, 2)


def test_an_unreadable_file_is_refused(trust, pki) -> None:
    assert last_timestamp(b"not a pdf") is None
    with pytest.raises(SigningError):
        add_archival_timestamp(b"not a pdf", pki.timestamper(), trust)
