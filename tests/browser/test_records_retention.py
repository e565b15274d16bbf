"""Issue 22, retention in Chromium: a dossier of 2020 kept for 5 years (closed 1 March 2020,
expired 1 March 2025); the archive sees it among the expired dossiers and proposes its
destruction, the leader approves with the decision's number, and the record of what was
destroyed is shown. Screenshots: test-artifacts/screenshots/records-retention-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import login, new_page, screenshot

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]


def _submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_archive_proposes_leader_approves_record_shown(browser: Browser, live_server: str,
                                                       tmp_path: Path) -> None:
    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.goto(f"{live_server}/ho-so/?nam=2020")
    _submit(clerk, "Lập danh mục hồ sơ năm 2020")
    form = clerk.locator("#add-heading")
    form.get_by_label("Tên đề mục").fill("Văn phòng")
    form.get_by_label("Chữ viết tắt").fill("VP")
    _submit(clerk, "Thêm đề mục")
    form = clerk.locator("#add-dossier")
    form.get_by_label("Tiêu đề hồ sơ").fill("Sổ theo dõi công văn thường năm 2020")
    form.get_by_label("Thời hạn bảo quản").fill("5")
    form.locator("select[name=keeper_id]").select_option(label="Lý Minh Khôi")
    _submit(clerk, "Thêm hồ sơ")
    clerk.context.close()
    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(f"{live_server}/ho-so/?nam=2020")
    leader.get_by_label("Quyết định ban hành (số, ngày)").fill("Quyết định số 1/QĐ-UBND")
    _submit(leader, "Phê duyệt danh mục hồ sơ")

    keeper = login(new_page(browser), live_server, "chuyenvien.camau")
    keeper.goto(f"{live_server}/ho-so/?nam=2020")
    keeper.locator("tr[data-symbol='01.VP']").get_by_role("link", name="01.VP").click()
    keeper.get_by_label("Ngày mở").fill("2020-01-06")
    _submit(keeper, "Mở hồ sơ")
    upload = tmp_path / "so-theo-doi.txt"
    upload.write_text("Sổ theo dõi công văn thường năm 2020", encoding="utf-8")
    keeper.get_by_label("Tên tài liệu").fill("Sổ theo dõi")
    keeper.get_by_label("Tệp").set_input_files(str(upload))
    _submit(keeper, "Thêm tài liệu")
    keeper.get_by_label("Ngày kết thúc công việc").fill("2020-03-01")
    keeper.get_by_label("Số tờ (trang)").fill("12")
    _submit(keeper, "Kết thúc hồ sơ")
    expect(keeper.locator("#retention-end")).to_have_text("01/03/2025")
    keeper.context.close()

    archive = login(new_page(browser), live_server, "luutru.camau")
    archive.goto(f"{live_server}/ho-so/")
    archive.locator("#retention-link").click()
    row = archive.locator("#expired tr", has_text="01.VP")
    expect(row).to_contain_text("01/03/2025")
    row.get_by_role("checkbox").check()
    archive.get_by_label("Lý do, ý kiến của Hội đồng xác định giá trị tài liệu").fill(
        "Hội đồng xác định giá trị tài liệu họp ngày 02/12: tài liệu hết giá trị")
    screenshot(archive, "records-retention-expired")
    _submit(archive, "Đề nghị tiêu hủy các hồ sơ đã chọn")
    expect(archive.locator("#destruction-status")).to_have_text("Chờ lãnh đạo quyết định")
    proposal_url = archive.url

    leader.goto(proposal_url)
    expect(leader.locator("#proposed")).to_contain_text("Sổ theo dõi công văn thường năm 2020")
    leader.get_by_label("Số, ngày quyết định tiêu hủy").fill(
        "Quyết định số 15/QĐ-UBND ngày 04/12/2026")
    _submit(leader, "Đồng ý tiêu hủy")
    expect(leader.locator(".flash-success")).to_contain_text("đã xóa 1 tệp")
    expect(leader.locator("#destruction-status")).to_have_text("Đã tiêu hủy")
    record = leader.locator("#record")
    expect(record).to_contain_text("01.VP (năm 2020) – Sổ theo dõi công văn thường năm 2020")
    expect(record).to_contain_text("so-theo-doi.txt")
    expect(record).to_contain_text("Đã xóa tệp")
    expect(leader.locator("#decision")).to_have_text("Quyết định số 15/QĐ-UBND ngày 04/12/2026")
    screenshot(leader, "records-retention-record")
    leader.context.close()
    archive.context.close()


def test_a_restored_dossier_held_lifted_proposed_and_destroyed(browser: Browser, live_server: str,
                                                               tmp_path: Path) -> None:
    """A dossier of 2019 kept 5 years exported as a package and imported by the archive: the
    restored dossier is held by the leader (not proposable), the hold lifted by the archive,
    then proposed and destroyed; its page and its downloads then name the decision.
    Screenshots: records-retention-restored-*.png."""
    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.goto(f"{live_server}/ho-so/?nam=2019")
    _submit(clerk, "Lập danh mục hồ sơ năm 2019")
    form = clerk.locator("#add-heading")
    form.get_by_label("Tên đề mục").fill("Lưu trữ")
    form.get_by_label("Chữ viết tắt").fill("LT")
    _submit(clerk, "Thêm đề mục")
    form = clerk.locator("#add-dossier")
    form.get_by_label("Tiêu đề hồ sơ").fill("Hồ sơ kiểm kê tài liệu năm 2019")
    form.get_by_label("Thời hạn bảo quản").fill("5")
    form.locator("select[name=keeper_id]").select_option(label="Lý Minh Khôi")
    _submit(clerk, "Thêm hồ sơ")
    clerk.context.close()
    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(f"{live_server}/ho-so/?nam=2019")
    leader.get_by_label("Quyết định ban hành (số, ngày)").fill("Quyết định số 2/QĐ-UBND")
    _submit(leader, "Phê duyệt danh mục hồ sơ")

    keeper = login(new_page(browser), live_server, "chuyenvien.camau")
    keeper.goto(f"{live_server}/ho-so/?nam=2019")
    keeper.locator("tr[data-symbol='01.LT']").get_by_role("link", name="01.LT").click()
    keeper.get_by_label("Ngày mở").fill("2019-01-07")
    _submit(keeper, "Mở hồ sơ")
    upload = tmp_path / "kiem-ke.txt"
    upload.write_text("Biên bản kiểm kê tài liệu năm 2019", encoding="utf-8")
    keeper.get_by_label("Tên tài liệu").fill("Biên bản kiểm kê")
    keeper.get_by_label("Tệp").set_input_files(str(upload))
    _submit(keeper, "Thêm tài liệu")
    keeper.get_by_label("Ngày kết thúc công việc").fill("2019-03-01")
    keeper.get_by_label("Số tờ (trang)").fill("4")
    _submit(keeper, "Kết thúc hồ sơ")
    with keeper.expect_download() as download:
        keeper.locator("#package-zip").click()
    zipped = tmp_path / download.value.suggested_filename
    download.value.save_as(zipped)
    keeper.context.close()

    archive = login(new_page(browser), live_server, "luutru.camau")
    archive.goto(f"{live_server}/ho-so/nhap-goi")
    archive.locator("input[name=file]").set_input_files(str(zipped))
    _submit(archive, "Kiểm tra và nhập")
    expect(archive.locator(".flash-success")).to_contain_text("hồ sơ đã được khôi phục")
    restored_url = archive.url
    expect(archive.locator("#retention-end")).to_have_text("01/03/2024")

    # the leader holds it: no tick box on the retention page, the hold's reason shown
    leader.goto(restored_url)
    leader.get_by_label("Lý do tạm giữ (căn cứ, vụ việc)").fill("Thanh tra tỉnh yêu cầu giữ")
    _submit(leader, "Tạm giữ hồ sơ")
    expect(leader.locator("#hold")).to_contain_text("Thanh tra tỉnh yêu cầu giữ")
    screenshot(leader, "records-retention-restored-held")
    archive.goto(f"{live_server}/ho-so/bao-quan")
    row = archive.locator("#expired tr[data-restored]", has_text="01.LT")
    expect(row).to_contain_text("Đang tạm giữ: Thanh tra tỉnh yêu cầu giữ")
    expect(row.get_by_role("checkbox")).to_have_count(0)
    # the archive lifts it and proposes it
    archive.goto(restored_url)
    archive.get_by_label("Lý do bỏ tạm giữ").fill("Thanh tra đã kết luận")
    _submit(archive, "Bỏ tạm giữ")
    expect(archive.locator(".flash-success")).to_contain_text("Đã bỏ tạm giữ hồ sơ")
    archive.goto(f"{live_server}/ho-so/bao-quan")
    row = archive.locator("#expired tr[data-restored]", has_text="01.LT")
    expect(row).to_contain_text("01/03/2024")
    row.get_by_role("checkbox").check()
    archive.get_by_label("Lý do, ý kiến của Hội đồng xác định giá trị tài liệu").fill(
        "Hội đồng xác định giá trị tài liệu: hồ sơ nhập đã hết giá trị")
    screenshot(archive, "records-retention-restored-expired")
    _submit(archive, "Đề nghị tiêu hủy các hồ sơ đã chọn")
    expect(archive.locator("#proposed")).to_contain_text("nhập từ")
    proposal_url = archive.url

    leader.goto(proposal_url)
    leader.get_by_label("Số, ngày quyết định tiêu hủy").fill(
        "Quyết định số 16/QĐ-UBND ngày 04/12/2026")
    _submit(leader, "Đồng ý tiêu hủy")
    expect(leader.locator("#destruction-status")).to_have_text("Đã tiêu hủy")
    record = leader.locator("#record")
    expect(record).to_contain_text("01.LT (năm 2019) – Hồ sơ kiểm kê tài liệu năm 2019")
    expect(record).to_contain_text("nhập từ hệ thống khác")
    screenshot(leader, "records-retention-restored-record")
    leader.goto(restored_url)
    expect(leader.locator("#restored-destroyed")).to_contain_text(
        "Quyết định số 16/QĐ-UBND ngày 04/12/2026")
    expect(leader.locator("#legal-hold")).to_have_count(0)
    screenshot(leader, "records-retention-restored-destroyed")
    leader.context.close()
    archive.context.close()
