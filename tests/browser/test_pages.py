"""Every page of the shell on a desktop and on a phone: readable, no sideways scrolling.

Leaves screenshots in test-artifacts/screenshots/<viewport>-<page>.png for a human to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    collect_console,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> tuple[str, Page]:
    page = new_page(browser, **VIEWPORTS[request.param])
    request.addfinalizer(page.context.close)
    return request.param, page


def _check(page: Page, name: str) -> None:
    screenshot(page, name)
    overflow = horizontal_overflow(page)
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"
    # the Vietnamese text is shaped in a font that has its glyphs (Noto Sans in CI)
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans" in font


def test_tour_of_the_pages(sized_page: tuple[str, Page], live_server: str) -> None:
    size, page = sized_page
    console = collect_console(page)

    page.goto(live_server + "/dang-nhap")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(page.get_by_text("Hệ thống quản lý văn bản và điều hành")).to_be_visible()
    _check(page, f"{size}-login")

    login(page, live_server, "vanthu.camau")
    expect(page.get_by_role("heading", name="Xin chào, Trần Thị Ngọc Hân")).to_be_visible()
    _check(page, f"{size}-home")

    page.goto(live_server + "/quan-tri/nguoi-dung")
    expect(page.get_by_role("heading", name="Tạo tài khoản")).to_be_visible()
    expect(page.get_by_text("Huỳnh Quốc Việt")).to_be_visible()
    _check(page, f"{size}-admin-users")

    page.goto(live_server + "/quan-tri/phong-ban")
    expect(page.get_by_role("heading", name="Thêm phòng ban")).to_be_visible()
    _check(page, f"{size}-admin-departments")

    page.goto(live_server + "/khong-co-trang-nay")
    expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    expect(page.get_by_role("link", name="Về trang chủ")).to_be_visible()
    _check(page, f"{size}-error-404")

    errors = [str(e) for e in console
              if e.type in ("error", "pageerror") and "status of 404" not in e.text]
    assert errors == []


def test_forbidden_page_for_a_specialist(page: Page, live_server: str) -> None:
    login(page, live_server, "chuyenvien.camau")
    nav = page.get_by_role("navigation", name="Chức năng")
    expect(nav.get_by_role("link", name="Trang chủ")).to_be_visible()
    for admin_only in ("Người dùng", "Phòng ban"):
        expect(nav.get_by_role("link", name=admin_only)).to_have_count(0)
    response = page.goto(live_server + "/quan-tri/nguoi-dung")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Không có quyền")).to_be_visible()
    expect(page.locator("p.error")).to_have_text(
        "Bạn không có quyền thực hiện thao tác «Quản trị người dùng» (dành cho: Quản trị).")
    screenshot(page, "desktop-error-403")
