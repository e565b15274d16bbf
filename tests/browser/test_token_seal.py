"""The clerk's seal when the agency's seal lives in a PKCS#11 token whose configured PIN is
wrong (a real SoftHSM2 token): in Chromium, the clerk sees the Vietnamese reason on the page and
the document is left signed, not numbered. Screenshot test-artifacts/screenshots/token-pin.png."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import (
    LIVE_ENV,
    login,
    new_page,
    screenshot,
    start_gunicorn,
    stop_gunicorn,
)
from tests.browser.steps import approve, create_draft
from tests.browser.test_outgoing_flows import DEMO_PIN
from tests.support import softhsm

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only,
              pytest.mark.skipif(not softhsm.available(), reason="softhsm2 is not installed")]


@pytest.fixture(scope="module")
def token_server(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server on the live server's database and PKI, whose Cà Mau seal is in a token
    with a wrong PIN configured."""
    hsm = softhsm.softhsm(tmp_path_factory.mktemp("softhsm"))
    tokens = {"000.00.00.H12": softhsm.setting(hsm, label=softhsm.WRONG_PIN,
                                               pin_env="IOFFICE_SEAL_PIN_CAMAU")}
    env = LIVE_ENV | {"IOFFICE_SEAL_TOKENS": json.dumps(tokens),
                      "IOFFICE_SEAL_PIN_CAMAU": "999999",
                      "SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}
    proc, url = start_gunicorn(env, tmp_path_factory.mktemp("token_server") / "gunicorn.log")
    try:
        yield url
    finally:
        stop_gunicorn(proc)


def test_the_clerk_sees_a_wrong_token_pin(browser: Browser, live_server: str, token_server: str,
                                          tmp_path: Path) -> None:
    url = create_draft(browser, live_server, tmp_path, "Báo cáo (con dấu trong token)")
    approve(browser, live_server, url, "truongphong.camau", "vanthu.camau")
    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(url)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Duyệt", exact=True).click()
    leader.get_by_label("Mã PIN khóa ký số").fill(DEMO_PIN)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký bằng mã PIN").click()
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    leader.context.close()

    path = url.removeprefix(live_server)
    clerk = login(new_page(browser), token_server, "vanthu.camau")
    clerk.goto(token_server + path)
    with clerk.expect_navigation(timeout=60_000):
        clerk.get_by_role("button", name="Cấp số, đóng dấu và phát hành").click(timeout=60_000)
    flash = clerk.locator(".flash-error")
    expect(flash).to_contain_text("Không dùng được token chứa con dấu số của cơ quan")
    expect(flash).to_contain_text("Mã PIN của token «Wrong PIN» không đúng")
    expect(flash).to_contain_text("Chưa có gì thay đổi")
    expect(clerk.locator("#status")).to_have_text("Đã ký, chờ cấp số")  # not numbered
    screenshot(clerk, "token-pin")
    clerk.context.close()
