"""`flask pki token-provision` and `flask pki token-check` against a real SoftHSM2 token."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from signing import Pki, Verdict, sign_pdf, validate_pdf
from signing.demo import make_demo_pdf
from tests.support import softhsm

pytestmark = pytest.mark.skipif(not softhsm.available(), reason="softhsm2 is not installed")

U_MINH = "000.01.21.H12"


@pytest.fixture(scope="module")
def hsm(tmp_path_factory):
    return softhsm.softhsm(tmp_path_factory.mktemp("softhsm"))


def test_provision_then_check_then_seal(app: Flask, db: Session, pki: Pki, hsm, tmp_path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(softhsm.PIN_ENV, hsm.pin)
    cert_file = tmp_path / "uminh-seal.crt"
    entry = softhsm.setting(hsm, label=softhsm.PROVISION, key_label="uminh-seal", key_id="21",
                            certificate=str(cert_file))
    app.config["SEAL_TOKENS"] = {U_MINH: entry}
    runner = app.test_cli_runner()

    result = runner.invoke(args=["pki", "token-check"])
    assert result.exit_code == 1
    assert "LỖI: Không có khóa bí mật (nhãn «uminh-seal», id 21)" in result.output

    result = runner.invoke(args=["pki", "token-provision", "--agency", U_MINH])
    assert result.exit_code == 0, result.output
    assert "Đã cấp chứng thư số" in result.output
    # a second key under the same label and id is refused
    again = runner.invoke(args=["pki", "token-provision", "--agency", U_MINH])
    assert again.exit_code == 1 and "đã có khóa" in again.output
    # a new certificate for the same key
    renewed = runner.invoke(args=["pki", "token-provision", "--agency", U_MINH, "--existing-key"])
    assert renewed.exit_code == 0, renewed.output

    check = runner.invoke(args=["pki", "token-check", "--agency", U_MINH])
    assert check.exit_code == 0, check.output
    assert "private key 'uminh-seal' id=21" in check.output
    assert "certificate 'uminh-seal' id=21" in check.output
    assert "ký thử: đạt" in check.output and "Organization Identifier: 000.01.21.H12" in check.output

    uminh = db.query(Agency).filter_by(code=U_MINH).one()
    row = keys.agency_seal(db, uminh.id)
    assert row.holder is KeyHolder.TOKEN
    credential = keys.seal_credential(db, pki, uminh.id, app.extensions["ioffice.services"]
                                      .seal_tokens)
    assert str(credential.serial) == row.serial  # the renewed certificate, from the file too
    assert cert_file.read_bytes() == credential.certificate.dump()
    trust = pki.trust_store()
    assert validate_pdf(sign_pdf(make_demo_pdf(1), credential, trust=trust),
                        trust).verdict is Verdict.VALID


def test_provision_for_an_agency_without_a_token(app: Flask) -> None:
    app.config["SEAL_TOKENS"] = {}
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pki", "token-provision", "--agency", U_MINH])
    assert result.exit_code == 1 and "không có token cho cơ quan 000.01.21.H12" in result.output
    result = runner.invoke(args=["pki", "token-check"])
    assert result.exit_code == 1 and "chưa có token nào" in result.output
