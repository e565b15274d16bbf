"""Issue 22 in Chromium, changing the file list of 2022: the office renames and moves a heading
(its numeral follows), renumbers a planned dossier (its symbol follows), is refused a number
already taken and the removal of a heading that still has a dossier, removes an empty one; the
leader approves; the specialist adds a dossier of their own that is not in the list (art.
29.2.c), shown as an addition on the page and in the form II workbook. Screenshots:
test-artifacts/screenshots/records-edit-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import login, new_page, screenshot

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]
YEAR = 2022


def _submit(page: Page, button: str, scope=None) -> None:
    with page.expect_navigation():
        (scope or page).get_by_role("button", name=button, exact=True).click()


def _heading(page: Page, title: str, code: str = "") -> None:
    form = page.locator("#add-heading")
    form.get_by_label("Tên đề mục").fill(title)
    form.get_by_label("Chữ viết tắt").fill(code)
    _submit(page, "Thêm đề mục")


def _dossier(page: Page, heading: str, number: str, title: str) -> None:
    form = page.locator("#add-dossier")
    form.locator("select[name=heading_id]").select_option(label=heading)
    form.get_by_label("Số hồ sơ").fill(number)
    form.get_by_label("Tiêu đề hồ sơ").fill(title)
    form.get_by_label("Thời hạn bảo quản").fill("10")
    form.locator("select[name=keeper_id]").select_option(label="Lý Minh Khôi")
    _submit(page, "Thêm hồ sơ")


def test_the_list_corrected_then_a_dossier_added(browser: Browser, live_server: str,
                                                 tmp_path: Path) -> None:
    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.goto(f"{live_server}/ho-so/?nam={YEAR}")
    _submit(clerk, f"Lập danh mục hồ sơ năm {YEAR}")
    _heading(clerk, "Tổ chức, cán bộ", "TCCB")
    _heading(clerk, "Văn phòng", "VP")
    _heading(clerk, "Thi đua, khen thưởng", "TDKT")
    _dossier(clerk, "Tổ chức, cán bộ", "1", "Hồ sơ tuyển dụng công chức năm 2022")
    _dossier(clerk, "Văn phòng", "2", "Sổ theo dõi công văn")
    table = clerk.locator("#file-list")

    # the heading Văn phòng renamed and moved first: it becomes I
    row = clerk.locator("tr[data-heading='VP']")
    row.get_by_text("Sửa đề mục").click()
    row.get_by_label("Tên đề mục").fill("Văn phòng Ủy ban")
    row.get_by_label("Thứ tự").fill("1")
    _submit(clerk, "Lưu đề mục", row)
    expect(clerk.locator(".flash-success")).to_contain_text("Đã sửa đề mục.")
    expect(table.locator("tr.heading-row").first).to_contain_text("I. VĂN PHÒNG ỦY BAN")
    expect(clerk.locator("tr[data-heading='TCCB']")).to_contain_text("II. TỔ CHỨC, CÁN BỘ")

    # the dossier 02.VP renumbered 05.VP; then number 1 under TCCB: refused, named
    row = clerk.locator("tr[data-symbol='02.VP']")
    row.get_by_text("Sửa hồ sơ").click()
    row.get_by_label("Số hồ sơ").fill("5")
    row.get_by_label("Tiêu đề hồ sơ").fill("Sổ theo dõi công văn đi, đến")
    _submit(clerk, "Lưu hồ sơ", row)
    expect(clerk.locator("tr[data-symbol='05.VP']")).to_contain_text("Sổ theo dõi công văn đi, đến")
    row = clerk.locator("tr[data-symbol='05.VP']")
    row.get_by_text("Sửa hồ sơ").click()
    row.locator("select[name=heading_id]").select_option(label="Tổ chức, cán bộ")
    row.get_by_label("Số hồ sơ").fill("1")
    _submit(clerk, "Lưu hồ sơ", row)
    expect(clerk.locator(".flash-error")).to_contain_text(
        f"Số và ký hiệu hồ sơ «01.TCCB» đã có trong danh mục năm {YEAR}; hãy chọn số khác.")
    expect(clerk.locator("tr[data-symbol='05.VP']")).to_have_count(1)

    # a heading with a dossier is not removed; the empty one is, and III goes away
    row = clerk.locator("tr[data-heading='TCCB']")
    row.get_by_text("Sửa đề mục").click()
    _submit(clerk, "Xóa đề mục", row)
    expect(clerk.locator(".flash-error")).to_contain_text(
        "Đề mục «II. Tổ chức, cán bộ» còn 1 hồ sơ (01.TCCB)")
    row = clerk.locator("tr[data-heading='TDKT']")
    row.get_by_text("Sửa đề mục").click()
    screenshot(clerk, "records-edit-draft")
    _submit(clerk, "Xóa đề mục", row)
    expect(clerk.locator(".flash-success")).to_contain_text("Đã xóa đề mục khỏi danh mục.")
    expect(table).not_to_contain_text("THI ĐUA")
    expect(table.locator("tr.heading-row")).to_have_count(2)
    clerk.context.close()

    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(f"{live_server}/ho-so/?nam={YEAR}")
    expect(leader.get_by_text("Sửa đề mục")).to_have_count(0)
    leader.get_by_label("Quyết định ban hành (số, ngày)").fill("Quyết định số 3/QĐ-UBND")
    _submit(leader, "Phê duyệt danh mục hồ sơ")
    leader.context.close()

    # the specialist's own dossier, not in the list: added and opened on its day
    keeper = login(new_page(browser), live_server, "chuyenvien.camau")
    keeper.goto(f"{live_server}/ho-so/?nam={YEAR}")
    form = keeper.locator("#add-to-list")
    expect(form).to_contain_text("Người lập hồ sơ: Lý Minh Khôi")
    form.locator("select[name=heading_id]").select_option(label="Văn phòng Ủy ban")
    form.get_by_label("Số hồ sơ").fill("6")
    form.get_by_label("Tiêu đề hồ sơ").fill("Hồ sơ hội nghị tổng kết công tác năm 2022")
    form.get_by_label("Thời hạn bảo quản").fill("Vĩnh viễn")
    form.get_by_label("Ngày mở hồ sơ").fill(f"{YEAR}-11-15")
    _submit(keeper, "Bổ sung hồ sơ")
    expect(keeper.locator(".flash-success")).to_contain_text("Đã bổ sung hồ sơ vào danh mục.")
    added = keeper.locator("tr[data-symbol='06.VP']")
    expect(added).to_contain_text("Bổ sung ngày")
    expect(added).to_contain_text("Đang lập")
    expect(keeper.locator("#list-summary")).to_contain_text(
        "Danh mục hồ sơ này có 3 hồ sơ, bao gồm: 1 hồ sơ bảo quản vĩnh viễn; 2 hồ sơ bảo quản có "
        "thời hạn (trong đó 1 hồ sơ bổ sung sau khi phê duyệt).")
    screenshot(keeper, "records-edit-addition")
    with keeper.expect_download() as download:
        keeper.locator("#export-xlsx").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = {r[0]: r for r in load_workbook(saved).active.iter_rows(values_only=True) if r[0]}
    assert rows["06.VP"][4].startswith("Bổ sung ngày ") and not rows["05.VP"][4]
    keeper.context.close()
