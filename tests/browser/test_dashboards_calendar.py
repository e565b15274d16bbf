"""Issue 21 in Chromium: a leader opens the dashboard, changes the period, sees the charts and
their tables and downloads the XLSX; the office adds an event to the work calendar and
publishes the week, and a specialist then sees it. Desktop and 390 px phone screenshots:
test-artifacts/screenshots/dashboard-*.png, calendar-*.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PHONE_DEVICE, horizontal_overflow, login, new_page, screenshot
from tests.browser.steps import register_incoming

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]


def test_a_leader_reads_the_dashboard_changes_the_period_and_downloads_the_xlsx(
        browser: Browser, live_server: str, tmp_path: Path) -> None:
    register_incoming(browser, live_server, tmp_path, "Về việc báo cáo chuyển đổi số năm 2026")
    page = login(new_page(browser), live_server, "lanhdao.camau")
    page.get_by_role("link", name="Thống kê", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Thống kê: Ủy ban nhân dân tỉnh Cà Mau")
    for key in ("incoming", "outgoing", "signed"):
        expect(page.locator(f"svg#chart-{key}")).to_be_visible()
    today = dt.date.today()
    first = f"{today.year - 2}-01"
    page.locator("input[name=tu]").fill(first)
    page.locator("input[name=den]").fill(f"{today.year}-{today.month:02d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem thống kê").click()
    expect(page.locator("#period-label")).to_contain_text(f"từ tháng 01/{today.year - 2}")
    months = 24 + today.month
    expect(page.locator("#table-incoming tbody tr")).to_have_count(months)
    expect(page.locator("#table-summary")).to_contain_text("Tỷ lệ văn bản đi ký số")
    this_month = page.locator("#table-incoming tbody tr").last
    expect(this_month.locator("td").nth(1)).not_to_have_text("0")  # the paper one just registered
    expect(page.locator("svg#chart-incoming rect title").first).to_contain_text("Giấy ")
    screenshot(page, "dashboard-desktop")
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("thong-ke-") and saved.suffix == ".xlsx"
    wb = load_workbook(saved)
    assert "Văn bản đến" in wb.sheetnames
    assert wb["Văn bản đến"].max_row == 4 + months

    page.locator("input[name=tu]").fill("2000-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem thống kê").click()
    expect(page.locator("#period-error")).to_contain_text("quá giới hạn 10 năm")
    page.context.close()

    phone = login(new_page(browser, **PHONE_DEVICE), live_server, "lanhdao.camau")
    phone.goto(live_server + "/thong-ke/")
    expect(phone.locator("svg#chart-incoming")).to_be_visible()
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "dashboard-phone")
    phone.context.close()


def test_the_office_publishes_a_week_and_the_staff_see_it(browser: Browser, live_server: str
                                                          ) -> None:
    office = login(new_page(browser), live_server, "vanthu.camau")
    office.get_by_role("link", name="Lịch công tác", exact=True).click()
    expect(office.locator("#week-status")).to_have_text("Bản nháp")
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    day = monday + dt.timedelta(days=2)
    form = office.locator("#new-event")
    form.get_by_label("Ngày").fill(day.isoformat())
    form.get_by_label("Giờ bắt đầu").fill("07:30")
    form.get_by_label("Giờ kết thúc (không bắt buộc)").fill("07:00")
    form.get_by_label("Nội dung công việc").fill("Họp giao ban Ủy ban nhân dân tỉnh")
    with office.expect_navigation():
        form.get_by_role("button", name="Thêm vào lịch").click()
    expect(office.locator("[data-field=end_time]")).to_have_text("Giờ kết thúc phải sau giờ bắt đầu.")
    form = office.locator("#new-event")
    form.get_by_label("Giờ kết thúc (không bắt buộc)").fill("11:00")
    form.get_by_label("Địa điểm").fill("Phòng họp số 1")
    form.get_by_label("Lãnh đạo chủ trì").fill("Chủ tịch Huỳnh Quốc Việt")
    form.get_by_label("Thành phần tham dự").fill("Các Phó Chủ tịch; Giám đốc các sở, ngành")
    form.get_by_label("Đơn vị chuẩn bị").fill("Văn phòng Ủy ban nhân dân tỉnh")
    with office.expect_navigation():
        form.get_by_role("button", name="Thêm vào lịch").click()
    expect(office.locator("#week")).to_contain_text("Họp giao ban Ủy ban nhân dân tỉnh")

    staff = login(new_page(browser), live_server, "chuyenvien.camau")
    staff.goto(live_server + "/lich-cong-tac/")
    expect(staff.locator("#not-published")).to_be_visible()

    with office.expect_navigation():
        office.get_by_role("button", name="Công bố lịch tuần").click()
    expect(office.locator("#week-status")).to_have_text("Đã công bố")
    screenshot(office, "calendar-office-desktop")
    office.context.close()

    staff.reload()
    expect(staff.locator("#week")).to_contain_text("Họp giao ban Ủy ban nhân dân tỉnh")
    expect(staff.locator("#week")).to_contain_text("07:30–11:00")
    expect(staff.locator("#new-event")).to_have_count(0)
    staff.get_by_role("link", name="Tuần sau »").click()
    expect(staff.locator("#not-published")).to_be_visible()
    staff.get_by_role("link", name="« Tuần trước").click()
    expect(staff.locator("#week")).to_contain_text("Họp giao ban")
    staff.emulate_media(media="print")
    expect(staff.locator(".topbar")).to_be_hidden()
    screenshot(staff, "calendar-print")
    staff.context.close()

    phone = login(new_page(browser, **PHONE_DEVICE), live_server, "chuyenvien.camau")
    phone.goto(live_server + "/lich-cong-tac/")
    expect(phone.locator("#week")).to_contain_text("Họp giao ban")
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "calendar-phone")
    phone.context.close()
