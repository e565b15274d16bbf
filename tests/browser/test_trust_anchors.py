"""In Chromium: the province's administrator imports a foreign root CA certificate on
"Chứng thư tin cậy", sees it listed (subject, root, validity, SHA-256 fingerprint) at desktop
and phone width, is refused a leaf certificate with the reason, and removes the root.
Screenshots: test-artifacts/screenshots/desktop-trust-anchors.png, phone-trust-anchors.png."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    PHONE_DEVICE,
    collect_console,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)
from tests.support.foreign_ca import ForeignCa, pem

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

ADMIN = "vanthu.camau"  # admin of the provincial People's Committee (a top-level agency)


def test_admin_imports_lists_and_removes_a_root(page: Page, browser: Browser, live_server: str,
                                                tmp_path: Path) -> None:
    console = collect_console(page)
    ca = ForeignCa.create()
    fingerprint = hashlib.sha256(ca.root.public_bytes(serialization.Encoding.DER)).hexdigest()
    root_file, leaf_file = tmp_path / "foreign-root.pem", tmp_path / "nguoi-ky.pem"
    root_file.write_bytes(pem(ca.root))
    leaf_file.write_bytes(pem(ca.leaf))

    login(page, live_server, ADMIN)
    page.locator('a[href="/quan-tri/chung-thu-tin-cay"]').first.click()
    expect(page.get_by_role("heading", name="Chứng thư gốc và trung gian được tin cậy")).to_be_visible()

    # a leaf certificate is refused, with why
    page.get_by_label("Tệp chứng thư gốc hoặc trung gian").set_input_files(str(leaf_file))
    page.get_by_role("button", name="Nhập", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("người dùng cuối")

    page.get_by_label("Tệp chứng thư gốc hoặc trung gian").set_input_files(str(root_file))
    page.get_by_role("button", name="Nhập", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Đã nhập 1 chứng thư")
    row = page.locator(f'tr[data-fingerprint="{fingerprint}"]')
    expect(row).to_contain_text("CN=Foreign Root CA G2")
    expect(row).to_contain_text("Gốc")
    expect(row.locator("code.fingerprint")).to_have_text(fingerprint)
    row.scroll_into_view_if_needed()
    screenshot(page, "desktop-trust-anchors")

    phone = new_page(browser, **PHONE_DEVICE)
    try:
        login(phone, live_server, ADMIN)
        phone.goto(live_server + "/quan-tri/chung-thu-tin-cay")
        phone_row = phone.locator(f'tr[data-fingerprint="{fingerprint}"]')
        expect(phone_row).to_contain_text("Foreign Root CA G2")
        expect(phone_row.get_by_role("button", name="Gỡ")).to_be_visible()
        assert horizontal_overflow(phone) == 0
        box = phone_row.locator("code.fingerprint").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390  # the 64 digits wrap
        screenshot(phone, "phone-trust-anchors")
    finally:
        phone.context.close()

    row.get_by_role("button", name="Gỡ").click()
    expect(page.get_by_role("status")).to_contain_text("Đã gỡ chứng thư «CN=Foreign Root CA G2")
    expect(page.locator(f'tr[data-fingerprint="{fingerprint}"]')).to_have_count(0)
    # the refused leaf's page answers 400 on purpose; nothing else may fail
    assert [str(e) for e in console if e.type in ("error", "pageerror")
            and "status of 400" not in e.text] == []
