"""In Chromium: the agency admin edits a user's roles (the user's open session follows at once),
deactivates the account (its open session ends), reactivates it and resets its password (the
user must change it at the next login)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEMO_PASSWORD, collect_console, login, new_page, screenshot

pytestmark = pytest.mark.browser

# used by no other browser test: roles, state and password change here
ADMIN = "vanthu.tranhoi"
USER = "chuyenvien.tranhoi"
USER_NAME = "Thạch Văn Dũng"
OWN_PASSWORD = "mat-khau-rieng-cua-dung"
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


def test_admin_edits_deactivates_reactivates_and_resets(page: Page, browser: Browser,
                                                        live_server: str) -> None:
    console = collect_console(page)
    user = new_page(browser)
    login(user, live_server, USER, form=True)
    follow_up = user.locator('a[href="/van-ban-den/theo-doi"]')
    expect(user.locator("header .who .person")).to_be_visible()
    expect(follow_up).to_have_count(0)  # a specialist does not follow up documents

    login(page, live_server, ADMIN, form=True)
    page.locator('a[href="/quan-tri/nguoi-dung"]').first.click()
    page.get_by_role("link", name=USER_NAME).click()
    expect(page.get_by_role("heading", name=re.compile(USER_NAME))).to_be_visible()

    # a refused edit keeps what was typed
    page.get_by_label("Chức vụ tại cơ quan này").fill("Phó Chủ tịch Ủy ban nhân dân xã")
    page.get_by_label("Chuyên viên").uncheck()
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("alert")).to_contain_text("Phải chọn ít nhất một vai trò.")
    expect(page.get_by_label("Chức vụ tại cơ quan này")).to_have_value(
        "Phó Chủ tịch Ủy ban nhân dân xã")
    page.get_by_label("Lãnh đạo").check()
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã lưu thông tin {USER_NAME}")
    expect(page.get_by_label("Lãnh đạo")).to_be_checked()
    screenshot(page, "desktop-admin-user-edit")

    user.reload()  # the open session has the new role at once
    expect(follow_up.first).to_be_visible()

    page.get_by_role("button", name="Ngừng kích hoạt tài khoản").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã ngừng kích hoạt tài khoản {USER}")
    user.reload()  # the open session ended
    expect(user).to_have_url(re.compile(r"/dang-nhap"))
    login(user, live_server, USER, form=True)
    expect(user.get_by_role("alert")).to_have_text(WRONG)  # as for a wrong password

    page.get_by_role("button", name="Kích hoạt lại tài khoản").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã kích hoạt lại tài khoản {USER}")

    page.get_by_role("button", name="Đặt lại mật khẩu").click()
    temporary = page.locator("#temporary-password").inner_text()
    assert len(temporary) == 14
    screenshot(page, "desktop-admin-user-reset")

    login(user, live_server, USER, temporary, form=True)
    expect(user).to_have_url(live_server + "/doi-mat-khau")
    expect(user.locator("#forced-change")).to_be_visible()
    user.goto(live_server + "/van-ban-den/")
    expect(user).to_have_url(live_server + "/doi-mat-khau")
    user.get_by_label("Mật khẩu hiện tại").fill(temporary)
    user.get_by_label("Mật khẩu mới", exact=True).fill(OWN_PASSWORD)
    user.get_by_label("Nhập lại mật khẩu mới").fill(OWN_PASSWORD)
    user.get_by_role("button", name="Đổi mật khẩu").click()
    expect(user).to_have_url(live_server + "/")
    expect(user.get_by_role("status")).to_contain_text("Đã đổi mật khẩu.")
    user.goto(live_server + "/van-ban-den/")
    expect(user).to_have_url(live_server + "/van-ban-den/")
    user.context.close()

    page.goto(live_server + "/quan-tri/nguoi-dung")
    page.get_by_role("link", name=USER_NAME).click()
    expect(page.locator("#account-state")).to_contain_text("Đang hoạt động")
    expect(page.locator("#account-state")).not_to_contain_text("Phải đổi mật khẩu")
    assert DEMO_PASSWORD != OWN_PASSWORD
    assert [str(c) for c in console
            if c.type == "pageerror" or "Content Security Policy" in c.text] == []
