"""Login, home page, agency switch and administration in the real browser against gunicorn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    PHONE,
    ConsoleEntry,
    collect_console,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]


def test_clerk_logs_in_with_the_form_and_sees_their_home(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/dang-nhap"))  # pages need a login
    login(page, live_server, "vanthu.camau", form=True)

    expect(page).to_have_url(live_server + "/")
    expect(page.get_by_role("heading", name="Xin chào, Trần Thị Ngọc Hân")).to_be_visible()
    expect(page.locator("header .who .agency")).to_have_text("Ủy ban nhân dân tỉnh Cà Mau")
    expect(page.locator("header .who .person")).to_have_text("Trần Thị Ngọc Hân")
    expect(page.locator('[data-role="clerk"]')).to_contain_text("Văn thư")
    expect(page.locator('[data-role="admin"]')).to_be_visible()
    expect(page.locator('[data-role="leader"]')).to_have_count(0)
    screenshot(page, "desktop-home-clerk")

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile(r"/dang-nhap"))
    expect(page.get_by_role("status")).to_have_text("Bạn đã đăng xuất.")


def test_wrong_password_shows_the_vietnamese_error(page: Page, live_server: str) -> None:
    login(page, live_server, "chuyenvien.camau", "sai-mat-khau", form=True)

    expect(page).to_have_url(re.compile(r"/dang-nhap$"))
    expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    expect(page.get_by_label("Tên đăng nhập", exact=True)).to_have_value("chuyenvien.camau")
    expect(page.get_by_label("Mật khẩu", exact=True)).to_have_value("")
    expect(page.locator("header .who")).to_have_count(0)  # still logged out
    screenshot(page, "desktop-login-wrong-password")


def test_concurrent_post_holder_switches_agency(page: Page, live_server: str) -> None:
    login(page, live_server, "kiemnhiem.uminh", form=True)
    expect(page.get_by_role("heading", name="Xin chào, Lê Văn Kiên")).to_be_visible()
    expect(page.locator("main")).to_contain_text("000.00.21.H12")
    expect(page.locator("header .who .agency")).to_have_text("Ủy ban nhân dân huyện U Minh")

    page.get_by_label("Làm việc tại cơ quan").select_option(label="Ủy ban nhân dân xã Khánh An")
    page.get_by_role("button", name="Chuyển").click()

    expect(page.get_by_role("status")).to_have_text(
        "Đang làm việc tại: Ủy ban nhân dân xã Khánh An")
    expect(page.locator("main")).to_contain_text("000.01.21.H12")
    expect(page.locator("main")).to_contain_text("cấp xã")
    expect(page.locator("header .who .agency")).to_have_text("Ủy ban nhân dân xã Khánh An")
    expect(page.locator("select[name=agency_id] option:checked")).to_have_text(
        "Ủy ban nhân dân xã Khánh An")
    screenshot(page, "desktop-home-agency-switched")

    page.reload()  # the choice lives in the session, not in the page
    expect(page.locator("header .who .agency")).to_have_text("Ủy ban nhân dân xã Khánh An")


def test_admin_adds_a_department_through_the_admin_page(page: Page, live_server: str) -> None:
    login(page, live_server, "vanthu.camau", form=True)
    page.get_by_role("navigation", name="Chức năng").get_by_role("link", name="Phòng ban").click()
    expect(page.get_by_role("heading", name="Phòng ban của Ủy ban nhân dân tỉnh Cà Mau")).to_be_visible()
    rows = page.locator("table tbody tr")
    before = rows.count()

    page.get_by_label("Tên phòng ban", exact=True).fill("Ban Tiếp công dân")
    page.get_by_label("Tên viết tắt", exact=False).fill("TCD")
    page.get_by_role("button", name="Thêm").click()

    expect(page.get_by_role("status")).to_have_text("Đã thêm phòng ban Ban Tiếp công dân.")
    expect(rows).to_have_count(before + 1)
    expect(page.get_by_role("row", name="Ban Tiếp công dân TCD")).to_be_visible()
    screenshot(page, "desktop-admin-departments-added")

    # the same short name again is refused with a message, and nothing is added
    page.get_by_label("Tên phòng ban", exact=True).fill("Ban Tiếp dân (trùng)")
    page.get_by_label("Tên viết tắt", exact=False).fill("TCD")
    page.get_by_role("button", name="Thêm").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(rows).to_have_count(before + 1)


def test_home_on_a_phone_fits_the_screen_and_the_menu_works(browser: Browser,
                                                            live_server: str) -> None:
    page = new_page(browser, **PHONE)
    try:
        login(page, live_server, "vanthu.camau", form=True)
        expect(page.get_by_role("heading", name="Xin chào, Trần Thị Ngọc Hân")).to_be_visible()
        assert horizontal_overflow(page) <= 0, "the home page scrolls sideways on a phone"
        screenshot(page, "phone-home-clerk")

        page.get_by_role("button", name="Menu").click()  # folded on a phone (test_phone.py)
        nav = page.get_by_role("navigation", name="Chức năng")
        for name in ("Trang chủ", "Người dùng", "Phòng ban"):
            link = nav.get_by_role("link", name=name)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 24, f"menu item {name!r} is too small to tap ({box})"

        nav.get_by_role("link", name="Người dùng").click()
        expect(page.get_by_role("heading", name="Người dùng của Ủy ban nhân dân tỉnh Cà Mau")) \
            .to_be_visible()
        expect(page.get_by_text("vanthu.camau")).to_be_visible()
        assert horizontal_overflow(page) <= 0, "the users page scrolls sideways on a phone"
        screenshot(page, "phone-admin-users")
    finally:
        page.context.close()


def _errors(entries: list[ConsoleEntry]) -> list[str]:
    return [str(e) for e in entries if e.type in ("error", "pageerror")]


def test_content_security_policy_causes_no_console_errors(page: Page, live_server: str) -> None:
    console = collect_console(page)
    response = page.goto(live_server + "/dang-nhap")
    assert response is not None
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, csp

    login(page, live_server, "vanthu.camau", form=True)
    for path in ("/", "/quan-tri/nguoi-dung", "/quan-tri/phong-ban"):
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        assert "style-src 'self'" in response.headers.get("content-security-policy", "")
    # the stylesheet really applied (a CSP block would leave the browser's default white body)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 246, 248)"
    assert _errors(console) == []

    # an error page: only the 404 of the document itself may be reported
    console.clear()
    response = page.goto(live_server + "/khong-co-trang-nay")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    unexpected = [e for e in _errors(console) if "status of 404" not in e]
    assert unexpected == []
