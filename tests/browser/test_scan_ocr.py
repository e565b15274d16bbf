"""A clerk registers a scanned paper document: chooses the scan, watches the OCR's progress,
finds the fields filled and marked "máy đọc" until confirmed, registers; the search then finds
the document by a word only the OCR read. The worker's OCR runs as ``flask ocr run --once``
against the live server's database (the live server runs no exchange worker).
Screenshots: test-artifacts/screenshots/ocr-prefilled.png (and -phone), ocr-registered.png,
ocr-search.png."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ioffice.ocr import engine, specimen
from tests.browser.conftest import (
    BIN,
    DESKTOP,
    LIVE_ENV,
    PHONE,
    ROOT,
    horizontal_overflow,
    login,
    screenshot,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(engine.problem() is not None, reason="OCR not installed")]

SPEC = specimen.Specimen(
    parent="ỦY BAN NHÂN DÂN TỈNH CÀ MAU", issuer_name="SỞ NỘI VỤ", number="31",
    notation="QĐ-SNV", place="Cà Mau", document_date=dt.date(2026, 3, 5), doc_type="quyet_dinh",
    type_title="QUYẾT ĐỊNH", subject="Về việc kiểm kê tài liệu lưu trữ năm 2026",
    signer="Trần Thị Bích Ngọc", authority="KT. GIÁM ĐỐC", signer_title="PHÓ GIÁM ĐỐC",
    body=("Giao Chi cục Văn thư kiểm kê kho lưu trữ huyện Đầm Dơi trước quý hai.",))


def test_clerk_uploads_a_scan_confirms_the_machine_read_fields_and_finds_it(
        page: Page, live_server: str, tmp_path: Path) -> None:
    scan = tmp_path / "quyet-dinh-31.pdf"
    scan.write_bytes(specimen.to_pdf([specimen.render_page(SPEC, 300)], 300))
    login(page, live_server, "vanthu.camau")
    page.goto(live_server + "/van-ban-den/vao-so")
    page.locator("input[name=files]").set_input_files(str(scan))
    status = page.locator("#scan-status")
    expect(status).to_be_visible()
    # queued: the upload answered at once, the worker has not started
    expect(status.locator(".scan-label")).to_contain_text("Đang chờ nhận dạng chữ: 0/1 trang")
    expect(page.locator(".held-file")).to_contain_text("quyet-dinh-31.pdf")

    worker = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "ocr", "run", "--once"],
                            cwd=ROOT, env=LIVE_ENV, capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr
    expect(status.locator(".scan-label")).to_contain_text("Máy đã đọc xong bản quét", timeout=20_000)
    expect(page.locator("input[name=number]")).to_have_value("31")
    expect(page.locator("input[name=notation]")).to_have_value("QĐ-SNV")
    expect(page.locator("input[name=document_date]")).to_have_value("05/03/2026")
    expect(page.locator("select[name=doc_type]")).to_have_value("quyet_dinh")
    expect(page.locator("textarea[name=subject]")).to_have_value(SPEC.subject)
    expect(page.locator("input[name=signer]")).to_have_value("Trần Thị Bích Ngọc")
    badges = page.locator(".machine-read")
    expect(badges).to_have_count(7)
    expect(badges.first).to_contain_text("máy đọc")
    screenshot(page, "ocr-prefilled")
    page.set_viewport_size(PHONE)  # the marks fit a phone's width
    assert horizontal_overflow(page) == 0
    screenshot(page, "ocr-prefilled-phone")
    page.set_viewport_size(DESKTOP)

    # not confirmed: refused, and the marks come back on the form shown again
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ", exact=True).click()
    expect(page.locator(".form-errors")).to_contain_text("chưa được xác nhận")
    expect(page.locator(".machine-read")).to_have_count(7)
    # the clerk checks against the paper: one by one, or edits one, or all at once
    page.locator(".machine-read[data-machine=number] button").click()
    page.locator("input[name=signer]").fill("Trần Thị Bích Ngọc")
    expect(page.locator(".machine-read")).to_have_count(5)
    page.get_by_role("button", name="Đã đối chiếu tất cả ô máy đọc").click()
    expect(page.locator(".machine-read")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ", exact=True).click()
    expect(page.get_by_text("Đã vào sổ văn bản đến số")).to_be_visible()
    expect(page.locator(".ocr-state")).to_contain_text("Đã nhận dạng chữ (OCR)")
    expect(page.get_by_role("link", name="Tải bản tìm kiếm được")).to_be_visible()
    screenshot(page, "ocr-registered")
    document_url = page.url

    page.goto(live_server + "/tim-kiem?q=dam+doi")  # only in the body: the OCR read it
    expect(page.locator(f"a[href$='{document_url.split(live_server)[1]}']").first).to_be_visible()
    screenshot(page, "ocr-search")


def _ocr_worker(**env: str) -> None:
    worker = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "ocr", "run", "--once"],
                            cwd=ROOT, env={**LIVE_ENV, **env}, capture_output=True, text=True,
                            timeout=300)
    assert worker.returncode == 0, worker.stderr


def test_clerk_runs_a_failed_ocr_again_from_the_admins_note(
        page: Page, live_server: str, tmp_path: Path) -> None:
    """OCR was missing on the server when the scan was read: the admin's note links to the
    document, the clerk presses «Chạy lại nhận dạng chữ (OCR)», the page shows the job
    waiting then done. Screenshot: test-artifacts/screenshots/ocr-retry.png."""
    scan = tmp_path / "quyet-dinh-32.pdf"
    scan.write_bytes(specimen.to_pdf([specimen.render_page(SPEC, 150)], 150))
    login(page, live_server, "vanthu.camau")
    page.goto(live_server + "/van-ban-den/vao-so")
    page.locator("input[name=files]").set_input_files(str(scan))
    expect(page.locator(".held-file")).to_contain_text("quyet-dinh-32.pdf")
    page.locator("input[name=issuer_name]").fill("Sở Nội vụ")
    page.locator("input[name=number]").fill(str(int(time.time()) % 10000))
    page.locator("input[name=notation]").fill("QĐ-SNV")
    date = page.locator("input[name=document_date]")
    date.fill("2026-03-05" if date.get_attribute("type") == "date" else "05/03/2026")
    page.locator("select[name=doc_type]").select_option("quyet_dinh")
    page.locator("textarea[name=subject]").fill("Về việc kiểm kê tài liệu lưu trữ năm 2026")
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ", exact=True).click()
    expect(page.get_by_text("Đã vào sổ văn bản đến số")).to_be_visible()

    _ocr_worker(IOFFICE_OCRMYPDF="/khong-co/ocrmypdf")  # OCR missing on the server
    page.goto(live_server + "/quan-tri/viec-bi-ket")
    with page.expect_navigation():
        page.locator("#ocr-failed a", has_text="quyet-dinh-32.pdf").click()
    assert "#ocr-file-" in page.url
    expect(page.locator(".ocr-state")).to_contain_text("chưa cài phần mềm nhận dạng chữ")
    with page.expect_navigation():
        page.get_by_role("button", name="Chạy lại nhận dạng chữ (OCR)").click()
    expect(page.get_by_text("Đã đưa tệp vào hàng chờ nhận dạng chữ (OCR) lại")).to_be_visible()
    expect(page.locator(".ocr-state")).to_contain_text("Đang chờ nhận dạng chữ: 0/1 trang")
    expect(page.get_by_role("button", name="Chạy lại nhận dạng chữ (OCR)")).to_have_count(0)
    screenshot(page, "ocr-retry")

    _ocr_worker()  # OCR installed now: the page, polling, shows it done
    expect(page.locator(".ocr-state")).to_contain_text("Đã nhận dạng chữ", timeout=20_000)
