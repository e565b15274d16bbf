"""Issue 22 in Chromium, a year of records: the office makes the file list (a heading, a
subheading, a dossier kept by the specialist), the leader approves it and it is exported; the
specialist opens the dossier, files a registered document from its page, closes the dossier and
hands it over, signing the record with a PIN key; the archive signs and accepts, exports the
dossier as an electronic package and imports it (hashes and signatures checked), which
restores it as a read-only dossier whose file downloads byte for byte; a second import is
refused. Screenshots:
test-artifacts/screenshots/records-*.png."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE_DEVICE, horizontal_overflow, login, new_page, screenshot
from tests.browser.steps import register_incoming

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]
PIN = "123456"  # the demo archivist's; the specialist makes a key with the same PIN


def _submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_a_year_of_records(browser: Browser, live_server: str, tmp_path: Path) -> None:
    year = dt.date.today().year
    doc_url = register_incoming(browser, live_server, tmp_path,
                                "Về việc tuyển dụng công chức cấp xã năm nay")
    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.get_by_role("link", name="Hồ sơ", exact=True).click()
    expect(clerk.locator("#no-list")).to_contain_text(f"chưa có danh mục hồ sơ năm {year}")
    _submit(clerk, f"Lập danh mục hồ sơ năm {year}")
    form = clerk.locator("#add-heading")
    form.get_by_label("Tên đề mục").fill("Tổ chức, cán bộ")
    form.get_by_label("Chữ viết tắt").fill("TCCB")
    _submit(clerk, "Thêm đề mục")
    form = clerk.locator("#add-heading")
    form.get_by_label("Tên đề mục").fill("Tuyển dụng")
    form.locator("select[name=parent_id]").select_option(label="Tổ chức, cán bộ")
    _submit(clerk, "Thêm đề mục")
    form = clerk.locator("#add-dossier")
    form.locator("select[name=heading_id]").select_option(label="— Tuyển dụng")
    form.get_by_label("Tiêu đề hồ sơ").fill("Hồ sơ tuyển dụng công chức cấp xã")
    form.get_by_label("Thời hạn bảo quản").fill("Vĩnh viễn")
    form.locator("select[name=keeper_id]").select_option(label="Lý Minh Khôi")
    _submit(clerk, "Thêm hồ sơ")
    expect(clerk.locator("tr[data-symbol='01.TCCB']")).to_contain_text("Lý Minh Khôi")
    # the same number again: refused, with the symbol named
    form = clerk.locator("#add-dossier")
    form.get_by_label("Số hồ sơ").fill("1")
    form.get_by_label("Tiêu đề hồ sơ").fill("Trùng số")
    form.get_by_label("Thời hạn bảo quản").fill("5")
    _submit(clerk, "Thêm hồ sơ")
    expect(clerk.locator(".flash-error")).to_contain_text("«01.TCCB» đã có trong danh mục")
    clerk.context.close()

    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(f"{live_server}/ho-so/")
    leader.get_by_label("Quyết định ban hành").fill(f"Quyết định số 12/QĐ-UBND ngày 05/01/{year}")
    _submit(leader, "Phê duyệt danh mục hồ sơ")
    expect(leader.locator("#list-status")).to_have_text("Đã phê duyệt")
    expect(leader.locator("#file-list")).to_contain_text("I. TỔ CHỨC, CÁN BỘ")
    screenshot(leader, "records-list")
    with leader.expect_download() as download:
        leader.locator("#export-xlsx").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    cells = [c for row in load_workbook(saved).active.iter_rows(values_only=True) for c in row if c]
    assert "01.TCCB" in cells and "1. Tuyển dụng" in cells
    with leader.expect_download() as download:
        leader.locator("#export-pdf").click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    leader.context.close()

    keeper = login(new_page(browser), live_server, "chuyenvien.camau")
    keeper.goto(f"{live_server}/chu-ky-so")
    keeper.get_by_label("Mã PIN mới").fill(PIN)
    keeper.get_by_label("Nhập lại mã PIN").fill(PIN)
    _submit(keeper, "Tạo khóa ký số")
    keeper.goto(f"{live_server}/ho-so/")
    keeper.locator("#my-dossiers").get_by_role("link", name="01.TCCB").click()
    _submit(keeper, "Mở hồ sơ")
    expect(keeper.locator("#dossier-status")).to_have_text("Đang lập")
    dossier_url = keeper.url
    keeper.get_by_label("Số tờ (trang)").fill("3")
    _submit(keeper, "Kết thúc hồ sơ")
    expect(keeper.locator(".flash-error")).to_contain_text("không kết thúc được một hồ sơ rỗng")
    keeper.goto(doc_url)
    expect(keeper.locator("#dossiers")).to_contain_text("chưa được đưa vào hồ sơ nào")
    _submit(keeper, "Lập hồ sơ")
    expect(keeper.locator("#held-in")).to_contain_text("01.TCCB")
    screenshot(keeper, "records-document")
    keeper.goto(dossier_url)
    keeper.get_by_label("Nội dung").fill("Đủ thành phần theo quy định.")
    _submit(keeper, "Thêm ghi chú")
    expect(keeper.locator("#toc")).to_contain_text("Về việc tuyển dụng công chức cấp xã")
    keeper.get_by_label("Số tờ (trang)").fill("3")
    _submit(keeper, "Kết thúc hồ sơ")
    expect(keeper.locator("#dossier-status")).to_have_text("Đã kết thúc")
    screenshot(keeper, "records-dossier")
    keeper.goto(f"{live_server}/ho-so/tim?q=tuyen+dung+cong+chuc")
    expect(keeper.locator("#results")).to_contain_text("01.TCCB")
    keeper.goto(f"{live_server}/ho-so/nop-luu")
    _submit(keeper, "Lập biên bản giao nhận")
    keeper.get_by_label("Mã PIN khóa ký số").fill(PIN)
    _submit(keeper, "Ký số và nộp lưu")
    expect(keeper.locator("#handover-status")).to_have_text("Chờ Lưu trữ nhận")
    handover_url = keeper.url
    keeper.context.close()

    archive = login(new_page(browser), live_server, "luutru.camau")
    archive.goto(handover_url)
    archive.get_by_label("Mã PIN khóa ký số").fill(PIN)
    _submit(archive, "Ký số và nhận hồ sơ")
    expect(archive.locator("#handover-status")).to_have_text("Lưu trữ đã nhận")
    expect(archive.locator("#record-level")).to_contain_text(
        "PAdES B-LTA; dấu thời gian lưu trữ có giá trị đến")
    screenshot(archive, "records-handover")
    record = archive.request.get(f"{handover_url}/bien-ban.pdf")
    # the keeper's and the archive's signatures, and the document timestamp of B-LTA
    assert record.ok and record.body().count(b"/ByteRange") == 3
    # the electronic dossier package: exported from the dossier, imported by the archive
    archive.goto(dossier_url)
    with archive.expect_download() as download:
        archive.locator("#package-zip").click()
    zipped = tmp_path / download.value.suggested_filename
    download.value.save_as(zipped)
    assert zipped.name == f"ho-so-01.TCCB-{year}.zip"
    archive.goto(f"{live_server}/ho-so/nhap-goi")
    archive.locator("input[name=file]").set_input_files(str(zipped))
    _submit(archive, "Kiểm tra và nhập")
    expect(archive.locator(".flash-success")).to_contain_text("mọi mã SHA-256 và chữ ký số")
    # the import restored the dossier: read-only, its documents and files downloadable
    expect(archive.locator("#imported-note")).to_contain_text("Hồ sơ chỉ để đọc.")
    expect(archive.locator("#restored-toc")).to_contain_text("Về việc tuyển dụng công chức cấp xã")
    # nothing of its content can be changed: the only form is the legal hold (retention)
    expect(archive.locator("main form")).to_have_count(1)
    expect(archive.locator("main form")).to_have_attribute("action", re.compile(r"/tam-giu$"))
    screenshot(archive, "records-restored")
    link = archive.locator("#restored-toc a").first
    with archive.expect_download() as download:
        link.click()
    restored = tmp_path / "restored-file"
    download.value.save_as(restored)
    with zipfile.ZipFile(zipped) as zf:
        [path] = [n for n in zf.namelist() if n.startswith("van-ban/001/")
                  and n.endswith("/" + download.value.suggested_filename)]
        assert restored.read_bytes() == zf.read(path)
    if b"/ByteRange" in restored.read_bytes():
        out = subprocess.run(["pdfsig", str(restored)], capture_output=True, text=True)
        assert "Signature is Valid" in out.stdout, out.stdout
    archive.goto(f"{live_server}/ho-so/nhap-goi")
    expect(archive.locator("#packages")).to_contain_text("01.TCCB")
    _submit_file = archive.locator("input[name=file]")
    _submit_file.set_input_files(str(zipped))
    _submit(archive, "Kiểm tra và nhập")
    expect(archive.locator(".flash-error")).to_contain_text("không nhập lại cùng một hồ sơ")
    screenshot(archive, "records-import")
    archive.context.close()

    phone = login(new_page(browser, **PHONE_DEVICE), live_server, "chuyenvien.camau")
    phone.goto(dossier_url)
    expect(phone.locator("#dossier-status")).to_have_text("Đã nộp lưu")
    assert horizontal_overflow(phone) == 0
    screenshot(phone, "records-dossier-phone")
    phone.context.close()
