"""The leader's one-step actions in Chromium: "Duyệt và ký" on a document at the leader's
step (a wrong PIN first: nothing approved), then several documents signed with one PIN entry
from the "Chờ tôi ký" page. Screenshots test-artifacts/screenshots/leader-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import steps
from tests.browser.conftest import login, new_page, screenshot

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

DEMO_PIN = "123456"


def _as(browser: Browser, base: str, username: str) -> Page:
    return login(new_page(browser), base, username)


def _draft(browser: Browser, base: str, tmp_path: Path, subject: str, *, leader_approves: bool
           ) -> str:
    """A draft through the pages, approved by the department head and the office; by the
    leader too when ``leader_approves``."""
    url = steps.create_draft(browser, base, tmp_path, subject)
    steps.approve(browser, base, url, "truongphong.camau", "vanthu.camau",
                  *(["lanhdao.camau"] if leader_approves else []))
    return url


def test_leader_approves_and_signs_in_one_step(browser: Browser, live_server: str,
                                               tmp_path: Path) -> None:
    url = _draft(browser, live_server, tmp_path, "Kế hoạch chuyển đổi số (duyệt và ký)",
                 leader_approves=False)
    leader = _as(browser, live_server, "lanhdao.camau")
    leader.goto(url)
    form = leader.locator("#approve-sign")
    expect(form).to_be_visible()
    expect(form.locator("img.stamp-preview")).to_be_visible()
    screenshot(leader, "leader-1-approve-and-sign")
    form.get_by_label("Mã PIN khóa ký số").fill("999999")
    with leader.expect_navigation():
        form.get_by_role("button", name="Duyệt và ký").click()
    expect(leader.locator(".flash-error")).to_contain_text("Chưa duyệt, chưa ký: Mã PIN không đúng")
    expect(leader.locator("#status")).to_have_text("Đang trình duyệt")
    form = leader.locator("#approve-sign")
    form.get_by_label("Ý kiến (không bắt buộc)").fill("Đồng ý ban hành.")
    form.get_by_label("Mã PIN khóa ký số").fill(DEMO_PIN)
    with leader.expect_navigation():
        form.get_by_role("button", name="Duyệt và ký").click()
    expect(leader.locator(".flash-success")).to_contain_text("Đã duyệt và ký số văn bản")
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    expect(leader.locator("#signatures")).to_contain_text("ký từ xa bằng mã PIN")
    expect(leader.locator("#comments")).to_contain_text("Đồng ý ban hành.")
    screenshot(leader, "leader-2-approved-and-signed")
    leader.context.close()


def test_leader_signs_several_documents_with_one_pin(browser: Browser, live_server: str,
                                                     tmp_path: Path) -> None:
    urls = [_draft(browser, live_server, tmp_path, f"Kế hoạch ký hàng loạt số {i}",
                   leader_approves=True) for i in (1, 2)]
    leader = _as(browser, live_server, "lanhdao.camau")
    counter = leader.locator('[data-count="to_sign"]')
    expect(counter).to_be_visible()
    assert int(counter.locator("strong").inner_text()) >= 2
    expect(leader.locator('[data-count="agency_overdue"]')).to_be_visible()
    screenshot(leader, "leader-0-home")
    with leader.expect_navigation():
        counter.click()
    assert leader.url.endswith("/van-ban-di/cho-toi-ky")
    rows = leader.locator("#sign-many-form tbody tr")
    for i in (1, 2):
        expect(rows.filter(has_text=f"Kế hoạch ký hàng loạt số {i}")
               .locator("input[type=checkbox]")).to_be_checked()
    screenshot(leader, "leader-3-batch-list")
    leader.get_by_label("Mã PIN khóa ký số").fill("999999")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký các văn bản đã chọn").click()
    expect(leader.locator("#batch-error")).to_contain_text("Chưa ký văn bản nào.")
    leader.get_by_label("Mã PIN khóa ký số").fill(DEMO_PIN)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký các văn bản đã chọn").click()
    results = leader.locator("#batch-results")
    expect(results).to_contain_text("văn bản đã ký")
    for i in (1, 2):
        expect(results.locator("li", has_text=f"Kế hoạch ký hàng loạt số {i}")
               ).to_have_attribute("data-signed", "yes")
    screenshot(leader, "leader-4-batch-signed")
    for url in urls:
        leader.goto(url)
        expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    leader.context.close()
