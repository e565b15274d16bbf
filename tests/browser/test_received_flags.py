"""A document received as another producer writes it (empty envelope signature, unsigned PDF)
shows its flags to Cà Mau's clerk, in the queue and on its page. On ``axis_server`` (shared
with the story), the package handed to the real receipt by ``tests.e2e.producer_package``.
Screenshots: test-artifacts/screenshots/received-flags.png, received-flags-phone.png."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import (
    PHONE_DEVICE,
    ROOT,
    AxisServer,
    _tail,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)

pytestmark = pytest.mark.browser


def test_flagged_received_document_shows_its_flags(browser: Browser, axis_server: AxisServer) -> None:
    subject = f"V/v kiểm tra gói tin không ký số ({uuid.uuid4().hex[:6]})"
    done = subprocess.run([sys.executable, "-m", "tests.e2e.producer_package", "--subject", subject],
                          cwd=ROOT, env=axis_server.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n--- server ---\n{_tail(axis_server.log)}"
    incoming_id = json.loads(done.stdout.strip().splitlines()[-1])["incoming_id"]

    clerk = login(new_page(browser), axis_server.url, "vanthu.camau")
    clerk.goto(axis_server.url + "/van-ban-den/?tab=cho-vao-so")
    row = clerk.locator("#queue tr", has_text=subject)
    expect(row.locator(".receipt-flag")).to_have_text([
        "Phong bì không ký số (thẻ chữ ký rỗng)", "Không tệp PDF nào có chữ ký số hợp lệ"])
    clerk.goto(f"{axis_server.url}/van-ban-den/{incoming_id}")
    flags = clerk.locator("#receipt-flags")
    expect(flags).to_be_visible()
    expect(flags.locator(".receipt-flag")).to_have_text([
        "Phong bì không ký số (thẻ chữ ký rỗng)", "Không tệp PDF nào có chữ ký số hợp lệ"])
    screenshot(clerk, "received-flags")
    clerk.context.close()

    phone = login(new_page(browser, **PHONE_DEVICE), axis_server.url, "vanthu.camau")
    for path in ("/van-ban-den/?tab=cho-vao-so", f"/van-ban-den/{incoming_id}"):
        phone.goto(axis_server.url + path)
        expect(phone.locator(".receipt-flag").first).to_be_visible()
        assert horizontal_overflow(phone) <= 0, path  # the flags fit a phone's width
    screenshot(phone, "received-flags-phone")
    phone.context.close()
