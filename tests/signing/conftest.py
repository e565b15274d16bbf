"""Fixtures for the signing library: one PKI per test session, built into a temporary dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from signing import Box, PersonalStamp, Pki
from signing.demo import make_demo_pdf

PASSPHRASE = "mật khẩu PKI thử nghiệm"
AGENCY_ID = "000.00.00.H12"
AGENCY = "Ủy ban nhân dân tỉnh Cà Mau"
PERSONAL_BOX = Box(1, 330, 560, 530, 690)


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    Pki.create(d, PASSPHRASE)
    return d


@pytest.fixture(scope="session")
def pki(pki_dir) -> Pki:
    return Pki.open(pki_dir, PASSPHRASE)


@pytest.fixture(scope="session")
def chairman_rsa(pki):
    return pki.issue_personal("Nguyễn Văn An", "CHỦ TỊCH", AGENCY_ID, AGENCY, key_type="rsa")


@pytest.fixture(scope="session")
def chairman_ec(pki):
    return pki.issue_personal("Trần Thị Bích", "PHÓ CHỦ TỊCH", AGENCY_ID, AGENCY, key_type="ec")


@pytest.fixture(scope="session")
def seal(pki):
    return pki.issue_seal(AGENCY_ID, AGENCY, key_type="rsa")


@pytest.fixture(scope="session")
def seal_ec(pki):
    return pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")


@pytest.fixture
def trust(pki):
    return pki.trust_store()


@pytest.fixture(scope="session")
def demo_pdf() -> bytes:
    return make_demo_pdf(2)


@pytest.fixture
def personal_stamp():
    return PersonalStamp(PERSONAL_BOX, "CHỦ TỊCH", "Nguyễn Văn An")


def external_checks(pdf: bytes, tmp_path: Path, expected_signatures: int) -> None:
    """poppler's pdfsig must find every signature cryptographically valid; qpdf --check clean."""
    path = tmp_path / f"checked-{len(pdf)}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert out.count("Signature is Valid") == expected_signatures, out
    qpdf = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr
