"""Copies in Chromium (docs/copies.md): the leader decides a sao y on an incoming document's
page, the clerk makes it (number in the copies register, the Appendix I copy form, the agency's
seal signature), both pages link each other; the clerk's request without a leader is refused
in Vietnamese with the form kept. The copy's PDF verifies (pdfsig, qpdf --check) and its pages
are rasterized with pdftoppm for a person to look at. Screenshots
test-artifacts/screenshots/copies-*.png."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import SCREENSHOTS, login, new_page, screenshot
from tests.browser.steps import register_incoming

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]


def test_leader_decides_clerk_makes_a_sealed_copy(browser: Browser, live_server: str,
                                                  tmp_path: Path) -> None:
    url = register_incoming(browser, live_server, tmp_path, "Về việc sao gửi các sở, ngành")

    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.goto(url)
    clerk.locator("#copies summary").click()
    clerk.locator("#copies textarea[name=recipients]").fill("Sở Nội vụ")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Ghi quyết định sao của lãnh đạo").click()
    expect(clerk.locator(".form-errors")).to_contain_text("Chưa có quyết định sao của lãnh đạo")
    expect(clerk.locator("#copies textarea[name=recipients]")).to_have_value("Sở Nội vụ")
    screenshot(clerk, "copies-1-refused-without-leader")

    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(url)
    leader.locator("#copies summary").click()
    leader.get_by_role("radio", name="Sao y").check()
    leader.locator("#copies textarea[name=recipients]").fill(
        "Sở Nội vụ\nỦy ban nhân dân huyện U Minh")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Quyết định sao văn bản").click()
    expect(leader.locator("#copy-status")).to_have_text("Chờ văn thư thực hiện")
    copy_url = leader.url
    assert re.search(r"/ban-sao/\d+$", copy_url), copy_url
    leader.context.close()

    clerk.goto(copy_url)
    with clerk.expect_navigation(timeout=60_000):
        clerk.get_by_role("button", name="Thực hiện bản sao và ký số cơ quan").click(
            timeout=60_000)
    expect(clerk.locator(".flash-success")).to_contain_text("Đã thực hiện bản sao số")
    number = clerk.locator("#copy-number").inner_text()
    assert re.fullmatch(r"\d{2,}/SY-UBND", number), number
    expect(clerk.locator("#original-link")).to_have_attribute("href", url.replace(live_server, ""))
    images = clerk.locator("#preview img")
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        clerk.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                arg=images.nth(i).element_handle())
    screenshot(clerk, "copies-2-made")

    pdf = clerk.request.get(copy_url + "/tep.pdf")
    assert pdf.ok
    path = tmp_path / "ban-sao.pdf"
    path.write_bytes(pdf.body())
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == 1, out
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(path), str(SCREENSHOTS / "copies-pdf")],
                   check=True)

    # the clerk records the leader's decision of a trích sao of page 2, and makes it
    clerk.goto(url)
    expect(clerk.locator("#copies")).to_contain_text(f"Sao y số {number}")
    clerk.locator("#copies summary").click()
    clerk.get_by_role("radio", name="Trích sao").check()
    clerk.locator("#copies input[name=pages]").fill("2")
    clerk.locator("#copies select[name=decided_by_id]").select_option(index=1)
    clerk.locator("#copies textarea[name=recipients]").fill("Sở Tài chính")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Ghi quyết định sao của lãnh đạo").click()
    expect(clerk.locator("#copy-status")).to_have_text("Chờ văn thư thực hiện")
    with clerk.expect_navigation(timeout=60_000):
        clerk.get_by_role("button", name="Thực hiện bản sao và ký số cơ quan").click(
            timeout=60_000)
    extract = clerk.locator("#copy-number").inner_text()
    assert re.fullmatch(r"\d{2,}/TrS-UBND", extract), extract
    assert int(extract.split("/")[0]) == int(number.split("/")[0]) + 1  # one series
    expect(clerk.locator("#document h2")).to_have_text("Tệp bản sao (2 trang)")
    clerk.goto(live_server + "/ban-sao/")
    expect(clerk.locator("#copies-register")).to_contain_text(number)
    expect(clerk.locator("#copies-register")).to_contain_text(extract)
    screenshot(clerk, "copies-3-register")
    clerk.context.close()
