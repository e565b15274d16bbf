"""Issue 16, work nobody can do, in Chromium: a leader (who belongs to no department, like every
demo leader) drafts, sees the way the draft will go before «Trình duyệt», submits, withdraws,
submits again, and the draft reaches approval. Screenshots test-artifacts/screenshots/stuck-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from signing.demo import make_text_pdf
from tests.browser.conftest import login, new_page, screenshot

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]


def test_a_leader_s_own_draft_reaches_approval_and_can_be_withdrawn(
        browser: Browser, live_server: str, tmp_path: Path) -> None:
    leader = login(new_page(browser), live_server, "lanhdao.camau")
    pdf = tmp_path / "to-trinh.pdf"
    pdf.write_bytes(make_text_pdf(["TỜ TRÌNH", "Về việc kiện toàn Ban chỉ đạo chuyển đổi số"]))
    leader.goto(live_server + "/van-ban-di/moi")
    leader.locator("select[name=doc_type]").select_option("cong_van")
    leader.locator("select[name=signer_id]").select_option(index=1)
    leader.get_by_label("Trích yếu nội dung").fill("Về việc kiện toàn Ban chỉ đạo chuyển đổi số")
    leader.get_by_label("Phòng Kinh tế", exact=False).first.check()
    leader.get_by_label("Tệp dự thảo (PDF hoặc DOCX)").set_input_files(str(pdf))
    with leader.expect_navigation():
        leader.get_by_role("button", name="Tạo dự thảo").click()
    url = leader.url
    assert re.search(r"/van-ban-di/\d+$", url), url

    route = leader.locator("#route")
    expect(route.locator("[data-step=department_head]")).to_contain_text(
        "sẽ bỏ qua (người soạn thảo không thuộc đơn vị nào)")
    expect(route.locator("[data-step=office]")).to_contain_text("Trần Thị Ngọc Hân")
    expect(route.locator("[data-step=leader]")).to_contain_text("Huỳnh Quốc Việt")
    screenshot(leader, "stuck-1-route-before-submit")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Trình duyệt").click()
    expect(leader.locator("#status")).to_have_text("Đang trình duyệt")
    expect(leader.locator("#comments")).to_contain_text(
        "Bỏ qua bước «Trưởng đơn vị soạn thảo duyệt nội dung»: người soạn thảo không thuộc "
        "đơn vị nào.")

    leader.get_by_label("Lý do (không bắt buộc)").fill("Bổ sung thành phần Ban chỉ đạo")
    screenshot(leader, "stuck-2-withdraw")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Rút lại").click()
    expect(leader.locator("#status")).to_have_text("Dự thảo")
    expect(leader.locator("#withdraw")).to_have_count(0)
    with leader.expect_navigation():
        leader.get_by_role("button", name="Trình duyệt").click()
    expect(leader.locator("#withdraw")).to_be_visible()

    clerk = login(new_page(browser), live_server, "vanthu.camau")
    clerk.goto(url)
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Duyệt", exact=True).click()
    clerk.context.close()

    leader.goto(url)
    expect(leader.locator("#withdraw")).to_have_count(0)  # the office has acted
    with leader.expect_navigation():
        leader.get_by_role("button", name="Duyệt", exact=True).click()
    expect(leader.locator("#status")).to_have_text("Chờ ký")
    expect(leader.locator("#sign")).to_be_visible()
    screenshot(leader, "stuck-3-approved")
    leader.context.close()
