"""The bell: a leader distributes a document while the department head's page is open; the
head's bell counts one more without a reload (server-sent events through gunicorn's threads),
a note says what came; opening the notification leads to the document and the count drops.
The same on a phone (390 px). Screenshots: test-artifacts/screenshots/bell-*.png."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import (
    PHONE_DEVICE,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)
from tests.browser.steps import register_incoming

pytestmark = pytest.mark.browser


def _count(page) -> int:
    """The count the stream's first event gave the bell."""
    expect(page.locator("#bell")).to_have_attribute("data-unread", re.compile(r"^\d+$"))
    return int(page.locator("#bell .bell-count").inner_text())


def test_the_bell_counts_live_and_opening_reads(browser: Browser, live_server: str,
                                                tmp_path: Path) -> None:
    subject = f"V/v báo cáo chuyển đổi số quý IV ({uuid.uuid4().hex[:6]})"
    url = register_incoming(browser, live_server, tmp_path, subject)

    head = login(new_page(browser), live_server, "truongphong.camau")
    head.goto(live_server + "/van-ban-den/")
    before = _count(head)
    head.evaluate("() => { window.__sameLoad = true; }")  # gone if the page reloads
    head.wait_for_timeout(500)  # the stream is open

    leader = login(new_page(browser), live_server, "lanhdao.camau")
    leader.goto(url)
    leader.locator("select[name=lead_target]").select_option(label="Sở Thông tin và Truyền thông")
    leader.get_by_label("Ý kiến chỉ đạo").fill("Sở TTTT chủ trì, báo cáo trước ngày 15.")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Phân phối").click()
    leader.context.close()

    expect(head.locator("#bell .bell-count")).to_have_text(str(before + 1), timeout=15_000)
    assert head.evaluate("() => window.__sameLoad === true")  # no reload
    expect(head.locator("#bell")).to_have_class("bell has-unread")
    toast = head.locator("#bell-live")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Được giao xử lý văn bản")
    screenshot(head, "bell-live")

    head.locator("#bell").click()
    row = head.locator("#notifications tr.unread", has_text="BNV-VP").first
    expect(row).to_be_visible()
    _count(head)  # the list page's own stream has answered
    screenshot(head, "bell-list")
    with head.expect_navigation():
        row.locator("a").click()
    assert head.url == url
    expect(head.locator("#bell .bell-count")).to_have_text(str(before))  # the new page's stream
    head.goto(live_server + "/van-ban-den/?tab=can-xu-ly")
    expect(head.locator("#queue tr", has_text=subject)).not_to_have_class("unread")
    head.context.close()


def test_the_bell_on_a_phone(browser: Browser, live_server: str) -> None:
    phone = login(new_page(browser, **PHONE_DEVICE), live_server, "truongphong.camau")
    for path in ("/van-ban-den/", "/thong-bao/", "/thong-bao/cai-dat"):
        phone.goto(live_server + path)
        expect(phone.locator("#bell")).to_be_visible()  # beside the menu button, not folded
        assert horizontal_overflow(phone) <= 0, path
    screenshot(phone, "bell-settings-phone")
    phone.goto(live_server + "/thong-bao/")
    screenshot(phone, "bell-list-phone")
    phone.context.close()
