"""In Chromium: changing one's password ends the session a copied cookie opened elsewhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEMO_PASSWORD, collect_console, login, new_page, screenshot

pytestmark = pytest.mark.browser

USERNAME = "truongphong.khanhbinh"  # used by no other browser test: its password changes here
NEW_PASSWORD = "mat-khau-moi-cua-truong-phong"


def test_password_change_ends_a_copied_session(page: Page, browser: Browser,
                                               live_server: str) -> None:
    console = collect_console(page)
    login(page, live_server, USERNAME, form=True)
    expect(page.locator("header .who .person")).to_be_visible()

    # a second browser context holding a copy of the session cookie (a stolen cookie)
    thief = new_page(browser)
    thief.context.add_cookies(page.context.cookies())
    thief.goto(live_server + "/")
    expect(thief).to_have_url(live_server + "/")
    expect(thief.locator("header .who .person")).to_be_visible()

    page.get_by_role("link", name="Đổi mật khẩu").click()
    expect(page.get_by_role("heading", name="Đổi mật khẩu")).to_be_visible()
    page.get_by_label("Mật khẩu hiện tại").fill(DEMO_PASSWORD)
    page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill("khong-khop-mat-khau")
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page.get_by_role("alert")).to_have_text("Mật khẩu mới nhập lại không khớp.")
    screenshot(page, "desktop-change-password-mismatch")

    page.get_by_label("Mật khẩu hiện tại").fill(DEMO_PASSWORD)
    page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page).to_have_url(live_server + "/")
    expect(page.get_by_role("status")).to_contain_text("Đã đổi mật khẩu.")

    thief.reload()
    expect(thief).to_have_url(re.compile(r"/dang-nhap"))
    expect(thief.locator("header .who")).to_have_count(0)
    page.reload()  # the browser that changed the password goes on
    expect(page.locator("header .who .person")).to_be_visible()

    login(thief, live_server, USERNAME, NEW_PASSWORD, form=True)
    expect(thief).to_have_url(live_server + "/")
    thief.context.close()
    # (the refused form answers 400, which Chromium logs as a failed load: not a page error)
    assert [str(c) for c in console
            if c.type == "pageerror" or "Content Security Policy" in c.text] == []
