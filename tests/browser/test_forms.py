"""Forms in Chromium (issue 16, docs/forms.md): a refused registration keeps its fields and its
file, files are checked before uploading, dates are typed as dd/mm/yyyy, validation messages are
Vietnamese, the recipient list filters as one types, a past deadline is pointed out.
Screenshots: test-artifacts/screenshots/forms-*.png."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from signing.demo import make_text_pdf
from tests.browser.conftest import collect_console, login, screenshot
from tests.support.factories import doc_number

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

TODAY = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
ENGLISH = re.compile(r"\b(Please|fill|field|select|match|format|value|must|file)\b", re.I)


def _fill_registration(page: Page, pdf: Path, number: str, document_date: str,
                       due_date: str) -> None:
    page.get_by_label("Tệp văn bản", exact=False).set_input_files(str(pdf))
    page.get_by_label("Cơ quan ban hành *").fill("Sở Nội vụ tỉnh Cà Mau")
    page.get_by_label("Số *").fill(number)
    page.get_by_label("Ký hiệu").fill("SNV-VP")
    page.get_by_label("Ngày văn bản *").fill(document_date)
    page.locator("select[name=doc_type]").select_option("cong_van")
    page.get_by_label("Trích yếu nội dung *").fill("Về việc giữ dữ liệu khi có lỗi")
    page.get_by_label("Người ký").fill("Nguyễn Văn Bình")
    page.get_by_label("Hạn xử lý").fill(due_date)


def test_a_refused_registration_keeps_its_fields_and_file(page: Page, live_server: str,
                                                          tmp_path: Path) -> None:
    console = collect_console(page)
    login(page, live_server, "vanthu.camau")
    page.goto(live_server + "/van-ban-den/vao-so")
    pdf = tmp_path / "cong-van-giu-lai.pdf"
    pdf.write_bytes(make_text_pdf(["Trang một", "Trang hai"]))
    number = doc_number(10000, 90000)
    day = TODAY - dt.timedelta(days=2)
    typed_date = day.strftime("%d/%m/%Y")  # typed as people write dates here
    _fill_registration(page, pdf, number, typed_date, (day - dt.timedelta(days=1)).strftime("%d/%m/%Y"))
    expect(page.locator(".deadline-past")).to_be_visible()  # the browser's warning, before sending
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ").click()
    expect(page.locator(".form-errors")).to_contain_text("Hạn xử lý không thể trước ngày văn bản.")
    expect(page.get_by_label("Số *")).to_have_value(number)
    expect(page.get_by_label("Ngày văn bản *")).to_have_value(typed_date)
    expect(page.get_by_label("Trích yếu nội dung *")).to_have_value("Về việc giữ dữ liệu khi có lỗi")
    expect(page.locator("select[name=doc_type]")).to_have_value("cong_van")
    expect(page.locator(".held-file")).to_contain_text(
        "Đã giữ tệp «cong-van-giu-lai.pdf» (2 trang); không cần chọn lại")
    screenshot(page, "forms-registration-kept")
    page.get_by_label("Hạn xử lý").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ").click()  # no file chosen again
    expect(page.locator(".flash-success")).to_contain_text("Đã vào sổ văn bản đến số")
    expect(page.locator(".meta")).to_contain_text(typed_date)
    expect(page.locator(".file").first).to_contain_text("cong-van-giu-lai.pdf · 2 trang")
    # no script error and no Content-Security-Policy violation (the 422 of the refusal is logged)
    assert not [e for e in console if e.type == "pageerror" or "Content Security" in e.text], console


def test_the_browser_refuses_a_file_too_large_or_of_the_wrong_type(page: Page, live_server: str,
                                                                    tmp_path: Path) -> None:
    login(page, live_server, "vanthu.camau")
    page.goto(live_server + "/van-ban-den/vao-so")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    files = page.locator("input[name=files]")
    limit = int(files.get_attribute("data-max-bytes") or 0)
    assert limit == 50 * 1024 * 1024  # rendered from MAX_UPLOAD_MB, the server's own limit
    big = tmp_path / "ban-quet-lon.pdf"
    with big.open("wb") as fh:  # sparse: nothing is written but the header
        fh.write(b"%PDF-1.7\n")
        fh.truncate(limit + 1)
    files.set_input_files(str(big))
    problem = page.locator(".file-problem")
    expect(problem).to_contain_text("Tệp quá lớn (50,0 MB); giới hạn là 50 MB")
    assert "Tệp quá lớn" in files.evaluate("el => el.validationMessage")
    screenshot(page, "forms-file-too-large")
    page.get_by_role("button", name="Vào sổ").click()
    page.wait_for_timeout(300)
    assert posts == [] and page.url.endswith("/van-ban-den/vao-so")
    files.set_input_files({"name": "cong-van.docx", "mimeType": "application/octet-stream",
                           "buffer": b"PK\x03\x04"})
    expect(problem).to_contain_text("Tệp «cong-van.docx» không đúng loại: chỉ nhận PDF, JPG, JPEG, PNG.")
    files.set_input_files({"name": "cong-van.pdf", "mimeType": "application/pdf",
                           "buffer": make_text_pdf(["Nhỏ"])})
    expect(problem).to_have_count(0)
    assert files.evaluate("el => el.validationMessage") == ""


def test_validation_messages_are_vietnamese(page: Page, live_server: str) -> None:
    login(page, live_server, "chuyenvien.camau")
    page.goto(live_server + "/van-ban-di/moi")
    page.get_by_label("Hạn trả lời").fill("31-12")
    page.locator("input[name=copies]").fill("0")
    page.get_by_role("button", name="Tạo dự thảo").click()
    assert page.url.endswith("/van-ban-di/moi")  # the browser kept the form
    messages = page.evaluate("""() => [...document.querySelectorAll('form [name]')]
        .filter(el => el.willValidate && !el.checkValidity())
        .map(el => [el.name, el.validationMessage])""")
    named = dict(messages)
    assert {"doc_type", "signer_id", "subject", "due_date", "copies", "file"} <= set(named), messages
    assert named["doc_type"] == "Vui lòng chọn một mục trong danh sách."
    assert named["subject"] == "Vui lòng nhập «Trích yếu nội dung»."
    assert named["due_date"].startswith("Ngày không hợp lệ: nhập theo dạng ngày/tháng/năm")
    assert named["copies"] == "Giá trị phải từ 1 trở lên."
    assert named["file"] == "Vui lòng chọn tệp."
    english = [(n, m) for n, m in messages if ENGLISH.search(m)]
    assert not english, english
    screenshot(page, "forms-validation-vietnamese")


def test_the_recipient_list_filters_as_one_types(page: Page, live_server: str) -> None:
    login(page, live_server, "chuyenvien.camau")
    page.goto(live_server + "/van-ban-di/moi")
    box = page.get_by_placeholder("Gõ tên hoặc mã để lọc danh sách")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.type("khanh an")  # no diacritics needed
    page.keyboard.press("Enter")  # filtering, not sending the form
    assert page.url.endswith("/van-ban-di/moi")
    shown = page.locator("select[name=agency_codes] option:not([hidden])")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("Khánh An")
    page.keyboard.press("Tab")  # the hidden departments are skipped: the list is next
    focused = page.evaluate("document.activeElement.name")
    assert focused == "agency_codes", focused
    page.keyboard.press("ArrowDown")
    chosen = page.locator("select[name=agency_codes]").evaluate(
        "el => [...el.selectedOptions].map(o => o.textContent)")
    assert len(chosen) == 1 and "Khánh An" in chosen[0], chosen
    screenshot(page, "forms-recipient-filter")
    box.fill("")
    expect(page.locator("select[name=agency_codes] option[hidden]")).to_have_count(0)


def test_a_past_deadline_is_pointed_out(page: Page, live_server: str) -> None:
    login(page, live_server, "chuyenvien.camau")
    page.goto(live_server + "/van-ban-di/moi")
    due = page.get_by_label("Hạn trả lời")
    due.fill((TODAY - dt.timedelta(days=1)).strftime("%d/%m/%Y"))
    expect(page.locator(".deadline-past")).to_contain_text("hạn này đã qua")
    due.fill((TODAY + dt.timedelta(days=5)).strftime("%d/%m/%Y"))
    expect(page.locator(".deadline-past")).to_have_count(0)


def test_buttons_say_the_form_is_being_processed(page: Page, live_server: str) -> None:
    page.goto(live_server + "/dang-nhap")
    # the answer never comes, and it is awaited in another tab: this page stays as it is, with
    # the form in progress
    page.context.route("**/dang-nhap", lambda route: None if route.request.method == "POST"
                       else route.continue_())
    page.evaluate("document.querySelector('main form').target = '_blank'")
    page.get_by_label("Tên đăng nhập", exact=True).fill("khong-ton-tai")
    page.get_by_label("Mật khẩu", exact=True).fill("khong-gui-di")
    button = page.get_by_role("button", name="Đăng nhập")
    button.click()
    busy = page.get_by_role("button", name="Đang xử lý…")
    expect(busy).to_be_disabled()
    expect(busy).to_have_attribute("aria-busy", "true")
