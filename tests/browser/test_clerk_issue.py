"""The clerk's one action "Cấp số, đóng dấu và phát hành" in Chromium, on a draft uploaded as
DOCX that leaves the number and date blank: they are written into the document, the leader's
signature stays valid, and the page previews show the signature and the red seal (issue 16).
Screenshots test-artifacts/screenshots/issue-*.png."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from tests.browser.conftest import SCREENSHOTS, login, new_page, screenshot
from tests.browser.test_outgoing_flows import DEMO_PIN, _as
from tests.outgoing.hostile import docx

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

LINES = ("ỦY BAN NHÂN DÂN TỈNH CÀ MAU", "Số:        /BC-UBND",
         "Cà Mau, ngày      tháng      năm 2026", "", "BÁO CÁO",
         "Tiến độ triển khai Chính phủ điện tử (cấp số một bước)", "",
         "Kính gửi: Phòng Kinh tế.")


def _docx() -> bytes:
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{line}</w:t></w:r></w:p>'
                   for line in LINES)
    return docx('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
                'openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                f'{body}</w:body></w:document>')


def _red(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if r > 150 and g < 80 and b < 80)


def test_number_seal_and_dispatch_in_one_action(browser: Browser, live_server: str,
                                                tmp_path: Path) -> None:
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(_docx())
    drafter = _as(browser, live_server, "chuyenvien.camau")
    drafter.goto(live_server + "/van-ban-di/moi")
    drafter.locator("select[name=doc_type]").select_option("bao_cao")
    drafter.locator("select[name=signer_id]").select_option(index=1)
    drafter.get_by_label("Trích yếu nội dung").fill("Báo cáo tiến độ (cấp số một bước)")
    drafter.get_by_label("Phòng Kinh tế", exact=False).first.check()
    drafter.get_by_label("Tệp dự thảo (PDF hoặc DOCX)").set_input_files(str(source))
    with drafter.expect_navigation(timeout=60_000):
        # the click waits for the navigation it starts: LibreOffice's first conversion on a
        # fresh machine (its profile created) takes longer than the default 10 s
        drafter.get_by_role("button", name="Tạo dự thảo").click(timeout=60_000)
    url = drafter.url
    assert re.search(r"/van-ban-di/\d+$", url), url
    with drafter.expect_navigation():
        drafter.get_by_role("button", name="Trình duyệt").click()
    drafter.context.close()
    for username in ("truongphong.camau", "vanthu.camau", "lanhdao.camau"):
        reviewer = _as(browser, live_server, username)
        reviewer.goto(url)
        with reviewer.expect_navigation():
            reviewer.get_by_role("button", name="Duyệt", exact=True).click()
        if username == "lanhdao.camau":
            reviewer.get_by_label("Mã PIN khóa ký số").fill(DEMO_PIN)
            with reviewer.expect_navigation():
                reviewer.get_by_role("button", name="Ký bằng mã PIN").click()
            expect(reviewer.locator("#status")).to_have_text("Đã ký, chờ cấp số")
        reviewer.context.close()

    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.goto(url)
    expect(clerk.locator("#clerk")).to_contain_text("Số và ngày ban hành sẽ được ghi vào chỗ")
    expect(clerk.locator("#no-blanks")).to_have_count(0)
    screenshot(clerk, "issue-1-clerk-before")
    with clerk.expect_navigation(timeout=60_000):
        clerk.get_by_role("button", name="Cấp số, đóng dấu và phát hành").click(timeout=60_000)
    expect(clerk.locator(".flash-success")).to_contain_text("đóng dấu (ký số của cơ quan) và phát hành")
    expect(clerk.locator("#status")).to_have_text("Đã phát hành")
    notation = clerk.locator("#number-notation").inner_text()
    number = notation.split("/")[0]
    history = clerk.locator("body").inner_text()
    for step in ("cấp số", "ký số của cơ quan", "phát hành"):
        assert step in history  # each step in the history, as audited
    # the page's preview of page 1, as the browser got it: the seal is on the last page
    previews = clerk.locator("#preview img")
    last = previews.last
    last.scroll_into_view_if_needed()
    expect(last).to_have_js_property("complete", True)
    src = last.get_attribute("src")
    assert "?r=" in src
    assert _red(clerk.request.get(live_server + src).body()) > 500
    screenshot(clerk, "issue-2-dispatched")

    href = clerk.locator("#document a", has_text="Tải tệp PDF").get_attribute("href")
    pdf = tmp_path / "issued.pdf"
    pdf.write_bytes(clerk.request.get(live_server + href).body())
    clerk.context.close()
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == 2, out
    assert subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(SCREENSHOTS / "issue-3-page-1")], check=True)
    # the number and date went into the blanks, as read-only fields of the seal's revision
    reader = PdfFileReader(io.BytesIO(pdf.read_bytes()), strict=False)
    names = {name for name, _value, _ref in enumerate_sig_fields(reader)}
    assert {"SoVanBan", "NgayBanHanh", "ThangBanHanh"} <= names, names
    # the seal is timestamped and archival-timestamped (B-LTA), by the server's own /pki/tsa
    # over HTTP (IOFFICE_TSA_URL): the seal, then the document timestamp, last in the file
    *_, seal, archival = reader.embedded_signatures
    unsigned = seal.signer_info["unsigned_attrs"]
    assert "signature_time_stamp_token" in [a["type"].native for a in unsigned]
    assert str(archival.sig_object_type) == "/DocTimeStamp"
    assert "PAdES B-LTA (lưu trữ dài hạn" in history  # the document page names the level
    assert re.fullmatch(r"\d{2,}", number)
