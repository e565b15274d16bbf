"""Outgoing documents through the real UI: draft -> approvals -> sign (PIN / browser key) ->
number, seal, dispatch internally. Screenshots in test-artifacts/screenshots/outgoing-*.png."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from signing.demo import make_text_pdf
from tests.browser.conftest import (
    PHONE,
    SCREENSHOTS,
    collect_console,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)
from tests.support.pdf import signature_widget

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

DEMO_PIN = "123456"


def _as(browser: Browser, base: str, username: str) -> Page:
    page = new_page(browser)
    return login(page, base, username)


def _draft(browser: Browser, base: str, tmp_path: Path, subject: str) -> str:
    page = _as(browser, base, "chuyenvien.camau")
    pdf = tmp_path / "du-thao.pdf"
    pdf.write_bytes(make_text_pdf(["BÁO CÁO", subject, "Kính gửi: Bộ Nội vụ",
                                   "Ủy ban nhân dân tỉnh Cà Mau báo cáo tiến độ như sau."]))
    page.goto(base + "/van-ban-di/moi")
    page.locator("select[name=doc_type]").select_option("bao_cao")
    page.locator("select[name=signer_id]").select_option(index=1)
    page.get_by_label("Trích yếu nội dung").fill(subject)
    page.get_by_label("Phòng Kinh tế", exact=False).first.check()
    page.get_by_label("Tệp dự thảo (PDF hoặc DOCX)").set_input_files(str(pdf))
    screenshot(page, "outgoing-1-draft-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo dự thảo").click()
    url = page.url
    assert re.search(r"/van-ban-di/\d+$", url), url
    with page.expect_navigation():
        page.get_by_role("button", name="Trình duyệt").click()
    expect(page.locator("#status")).to_have_text("Đang trình duyệt")
    page.context.close()
    for username in ("truongphong.camau", "vanthu.camau", "lanhdao.camau"):
        reviewer = _as(browser, base, username)
        reviewer.goto(url)
        with reviewer.expect_navigation():
            reviewer.get_by_role("button", name="Duyệt", exact=True).click()
        reviewer.context.close()
    return url


def _clerk_finishes(browser: Browser, base: str, url: str, tmp_path: Path, name: str) -> Path:
    clerk = _as(browser, base, "vanthu.camau")
    clerk.goto(url)
    screenshot(clerk, f"outgoing-{name}-4-clerk-before-number")
    for button in ("Cấp số, ngày", "Ký số của cơ quan", "Phát hành"):
        with clerk.expect_navigation():
            clerk.get_by_role("button", name=button).click()
        expect(clerk.locator(".flash-success")).to_be_visible()
    expect(clerk.locator("#status")).to_have_text("Đã phát hành")
    notation = clerk.locator("#number-notation").inner_text()
    assert re.fullmatch(r"\d{2,}/BC-UBND", notation), notation
    screenshot(clerk, f"outgoing-{name}-5-dispatched")
    href = clerk.locator("#document a", has_text="Tải tệp PDF").get_attribute("href")
    pdf = tmp_path / f"{name}-signed.pdf"
    pdf.write_bytes(clerk.request.get(base + href).body())
    clerk.goto(base + "/van-ban-di/so")
    expect(clerk.locator("#register")).to_contain_text(notation)
    screenshot(clerk, f"outgoing-{name}-6-register")
    clerk.context.close()
    return pdf


def _check_pdf(pdf: Path, signatures: int, name: str) -> None:
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == signatures, out
    assert subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    last = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", str(last), "-l", str(last),
                    "-singlefile", str(pdf), str(SCREENSHOTS / f"outgoing-{name}-signed-pdf")],
                   check=True)


def test_pin_flow(browser: Browser, live_server: str, tmp_path: Path) -> None:
    url = _draft(browser, live_server, tmp_path, "Báo cáo tiến độ Chính phủ điện tử (ký PIN)")
    leader = _as(browser, live_server, "lanhdao.camau")
    console = collect_console(leader)
    leader.goto(url)
    expect(leader.locator("#sign img.stamp-preview")).to_be_visible()
    screenshot(leader, "outgoing-pin-2-sign-page")
    leader.get_by_label("Mã PIN khóa ký số").fill("999999")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký bằng mã PIN").click()
    expect(leader.locator(".flash-error")).to_contain_text("Còn 4 lần thử")
    # the signature goes at the top left of the last page: a click on the page preview
    preview = leader.locator("#sign img.stamp-preview")
    size = preview.bounding_box()
    with leader.expect_navigation():
        preview.click(position={"x": size["width"] * 0.3, "y": size["height"] * 0.15})
    expect(leader.locator(".flash-success")).to_have_text("Đã đặt vị trí chữ ký ở trang 4.")
    expect(leader.locator("#sign img.stamp-preview")).to_be_visible()
    screenshot(leader, "outgoing-pin-2b-placed")
    phone = login(new_page(browser, **PHONE), live_server, "lanhdao.camau")
    phone.goto(url)
    expect(phone.locator("#place-form button")).to_be_visible()
    assert horizontal_overflow(phone) <= 0, "the signing page scrolls sideways on a phone"
    screenshot(phone, "outgoing-pin-2c-phone")
    phone.context.close()
    leader.get_by_label("Mã PIN khóa ký số").fill(DEMO_PIN)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký bằng mã PIN").click()
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    expect(leader.locator("#signatures")).to_contain_text("ký từ xa bằng mã PIN")
    leader.locator("#preview img").last.scroll_into_view_if_needed()
    screenshot(leader, "outgoing-pin-3-signed")
    assert not [c for c in console if c.type in ("error", "pageerror")], console
    leader.context.close()
    pdf = _clerk_finishes(browser, live_server, url, tmp_path, "pin")
    _check_pdf(pdf, 2, "pin")
    page, (x1, y1, x2, y2) = signature_widget(pdf.read_bytes(), 0)  # the leader's
    assert page == 3 and (x1 + x2) / 2 == pytest.approx(595 * 0.3, abs=8)
    assert (y1 + y2) / 2 == pytest.approx(842 * 0.85, abs=8)


def test_browser_key_flow(browser: Browser, live_server: str, tmp_path: Path) -> None:
    url = _draft(browser, live_server, tmp_path, "Báo cáo tiến độ Chính phủ điện tử (khóa trình duyệt)")
    leader = _as(browser, live_server, "lanhdao.camau")
    console = collect_console(leader)
    leader.goto(url)
    screenshot(leader, "outgoing-browser-2-sign-page")
    with leader.expect_navigation(timeout=30_000):
        leader.get_by_role("button", name="Ký bằng khóa trên trình duyệt").click()
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    expect(leader.locator("#signatures")).to_contain_text("khóa trên trình duyệt")
    stored = leader.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open("ioffice-keys", 1);
        req.onsuccess = () => {
          const get = req.result.transaction("keys").objectStore("keys").getAll();
          get.onsuccess = () => resolve(get.result.map(r => ({
            serial: r.serial, type: r.privateKey.type, extractable: r.privateKey.extractable,
            curve: r.privateKey.algorithm.namedCurve})));
          get.onerror = () => reject(get.error);
        };
        req.onerror = () => reject(req.error);
      })""")
    assert len(stored) == 1 and stored[0]["type"] == "private"
    assert stored[0]["extractable"] is False and stored[0]["curve"] == "P-256"
    screenshot(leader, "outgoing-browser-3-signed")
    assert not [c for c in console if c.type in ("error", "pageerror")], console
    leader.context.close()
    pdf = _clerk_finishes(browser, live_server, url, tmp_path, "browser")
    _check_pdf(pdf, 2, "browser")
