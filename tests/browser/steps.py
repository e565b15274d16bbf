"""Steps of the story through the real UI, shared by browser tests and the screenshot walk
(``tests.browser.screenshots``). Each logs in as the one who acts, in a desktop page of its own."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Browser

from signing.demo import make_text_pdf
from tests.browser.conftest import login, new_page


def create_draft(browser: Browser, base: str, tmp_path: Path, subject: str) -> str:
    """The specialist drafts (as in test_outgoing_flows) and submits it for review; returns the
    draft's URL. The file has a long name without spaces, as real uploads do."""
    page = login(new_page(browser), base, "chuyenvien.camau")
    pdf = tmp_path / "Du-thao-bao-cao-tien-do-Chinh-phu-dien-tu-nam-2026-lan-thu-hai.pdf"
    pdf.write_bytes(make_text_pdf(["BÁO CÁO", subject, "Kính gửi: Bộ Nội vụ",
                                   "Ủy ban nhân dân tỉnh Cà Mau báo cáo tiến độ như sau."]))
    page.goto(base + "/van-ban-di/moi")
    page.locator("select[name=doc_type]").select_option("bao_cao")
    page.locator("select[name=signer_id]").select_option(index=1)
    page.get_by_label("Trích yếu nội dung").fill(subject)
    page.get_by_label("Phòng Kinh tế", exact=False).first.check()
    page.get_by_label("Tệp dự thảo (PDF hoặc DOCX)").set_input_files(str(pdf))
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo dự thảo").click()
    url = page.url
    assert re.search(r"/van-ban-di/\d+$", url), url
    with page.expect_navigation():
        page.get_by_role("button", name="Trình duyệt").click()
    page.context.close()
    return url


def approve(browser: Browser, base: str, url: str, *usernames: str) -> None:
    """Each of ``usernames`` in turn approves the draft at ``url``."""
    for username in usernames:
        reviewer = login(new_page(browser), base, username)
        reviewer.goto(url)
        with reviewer.expect_navigation():
            reviewer.get_by_role("button", name="Duyệt", exact=True).click()
        reviewer.context.close()


def register_incoming(browser: Browser, base: str, tmp_path: Path, subject: str) -> str:
    """The clerk registers a paper document (the registration form); returns its URL."""
    clerk = login(new_page(browser), base, "vanthu.camau")
    pdf = tmp_path / "Cong-van-BNV-VP-ve-viec-bao-cao-chuyen-doi-so-nam-2026-ban-chinh-thuc.pdf"
    pdf.write_bytes(make_text_pdf(["CÔNG VĂN", subject, "Kính gửi: Ủy ban nhân dân tỉnh Cà Mau"]))
    clerk.goto(base + "/van-ban-den/vao-so")
    clerk.locator("input[name=files]").set_input_files(str(pdf))
    clerk.locator("input[name=issuer_name]").fill("Bộ Nội vụ")
    clerk.locator("input[name=number]").fill(str(int(time.time()) % 10000))
    clerk.locator("input[name=notation]").fill("BNV-VP")
    date = clerk.locator("input[name=document_date]")
    # a date picker takes the ISO form, a text field the Vietnamese one
    date.fill("2026-11-30" if date.get_attribute("type") == "date" else "30/11/2026")
    clerk.locator("select[name=doc_type]").select_option(index=1)
    clerk.locator("textarea[name=subject]").fill(subject)
    # a pasted link: one long word that must wrap, not widen the page
    clerk.locator("input[name=notes]").fill(
        "Đăng tại https://congbao.chinhphu.vn/van-ban/cong-van-so-3029-bnv-vp-ve-viec-bao-cao"
        "-ket-qua-chuyen-doi-so-nam-2026-cua-cac-bo-nganh-dia-phuong.htm")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Vào sổ").click()
    url = clerk.url
    assert re.search(r"/van-ban-den/\d+$", url), url
    clerk.context.close()
    return url


def distribute_to_specialist(browser: Browser, base: str, url: str) -> None:
    """The leader gives the incoming document at ``url`` to the Department of Information and
    Communications, whose head passes it on to the specialist (as in test_story)."""
    leader = login(new_page(browser), base, "lanhdao.camau")
    leader.goto(url)
    leader.locator("select[name=lead_target]").select_option(label="Sở Thông tin và Truyền thông")
    leader.get_by_label("Ý kiến chỉ đạo").fill("Sở TTTT chủ trì, báo cáo trước hạn 2 ngày.")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Phân phối").click()
    leader.context.close()
    head = login(new_page(browser), base, "truongphong.camau")
    head.goto(url)
    actions = head.locator("#assignments details.actions").first
    actions.locator("summary").click()
    actions.locator("select[name=user_id]").select_option(label="Lý Minh Khôi")
    actions.get_by_label("Ý kiến").fill("Soạn báo cáo trả lời Bộ.")
    with head.expect_navigation():
        head.get_by_role("button", name="Giao việc").click()
    head.context.close()
