"""Revocation data is valid for a week: whoever runs for longer reissues it before it expires
(the exchange worker, hourly), and holders of a trust store see the new data."""

from __future__ import annotations

import datetime as dt

from signing import sign_pdf, validate_pdf
from signing.pki import REFRESH_MARGIN

from .conftest import AGENCY, AGENCY_ID


def test_revocation_data_is_reissued_only_when_it_nears_its_next_update(pki, demo_pdf) -> None:
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    sealed = sign_pdf(demo_pdf, seal, trust=pki.trust_store())
    pki.refresh_revocation_data()
    expires, stamp = pki.revocation_data_expires(), pki.revocation_stamp()
    now = dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=6) < expires - now <= dt.timedelta(days=7)

    assert not pki.refresh_revocation_data_if_due()  # a week left: nothing rewritten
    assert pki.revocation_stamp() == stamp
    days_later = expires - REFRESH_MARGIN + dt.timedelta(minutes=1)
    assert not pki.refresh_revocation_data_if_due(now=days_later - dt.timedelta(minutes=2))

    assert pki.refresh_revocation_data_if_due(now=days_later)
    assert pki.revocation_stamp() != stamp
    assert pki.revocation_data_expires() >= expires  # issued now, valid a week from now
    assert validate_pdf(sealed, pki.trust_store()).valid  # the new data is usable at once


def test_revocation_stamp_changes_with_a_revocation(pki, demo_pdf) -> None:
    before = pki.revocation_stamp()
    doomed = pki.issue_personal("Lê Văn Tám", "CHUYÊN VIÊN", AGENCY_ID, AGENCY, key_type="ec")
    assert pki.revocation_stamp() != before  # its OCSP response was written
    issued = pki.revocation_stamp()
    pki.revoke(doomed.serial)
    assert pki.revocation_stamp() != issued
