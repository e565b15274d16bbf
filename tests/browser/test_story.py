"""The story of docs/spec "The story the demo and the end-to-end tests tell", across agencies,
on a server set up like ``make run`` (``axis_server``: both hubs mounted, forwarders and the
exchange worker running).

The Ministry of Home Affairs sends a Công văn to Cà Mau (services: ``tests.e2e.story``); in the
browser Cà Mau's clerk registers it, the chairman gives it to the Department of Information and
Communications, the department head to the specialist; the specialist drafts the reply to a
district or commune and to the ministry; the department head, the office and the chairman
approve; the chairman signs (browser-held WebCrypto key, or PIN); the clerk numbers, seals and
dispatches; both recipients' clerks register it in their browser; statuses 01 and 03 come back
per recipient to the sender's page; the incoming document is finished with the reply's number
and the ministry sees 06 for its request.
Screenshots: test-artifacts/screenshots/story-*.png.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from signing.demo import make_text_pdf
from tests.browser.conftest import (
    ROOT,
    SCREENSHOTS,
    AxisServer,
    _tail,
    collect_console,
    login,
    new_page,
    screenshot,
)

pytestmark = pytest.mark.browser

BNV, U_MINH, KHANH_AN = "000.00.00.G09", "000.00.21.H12", "000.01.21.H12"
DEMO_PIN = "123456"
ARRIVAL_S = 45.0


def _bnv_sends(server: AxisServer, subject: str, *, handle: bool) -> dict:
    """Story steps 1 (and 2-3 with ``handle``) through the services, in a process of its own."""
    cmd = [sys.executable, "-m", "tests.e2e.story", "--subject", subject]
    done = subprocess.run(cmd + (["--handle"] if handle else []), cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n--- server ---\n{_tail(server.log)}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _as(browser: Browser, server: AxisServer, username: str) -> Page:
    return login(new_page(browser), server.url, username)


def _click(page: Page, name: str, **kwargs: object) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, **kwargs).click()  # type: ignore[arg-type]


def _camau_takes_it_to_the_specialist(browser: Browser, server: AxisServer, incoming_id: int) -> None:
    """Story steps 2-3 in the browser: register (03), distribute (04), pass on."""
    doc_url = f"{server.url}/van-ban-den/{incoming_id}"
    clerk = _as(browser, server, "vanthu.camau")
    clerk.goto(server.url + "/van-ban-den/?tab=cho-vao-so")
    expect(clerk.locator(f"a[href='/van-ban-den/{incoming_id}']")).to_be_visible()
    clerk.goto(doc_url)
    expect(clerk.locator(".file .tag-ok")).to_contain_text("Chữ ký số")
    screenshot(clerk, "story-1-camau-clerk-receives")
    _click(clerk, "Vào sổ")
    expect(clerk.locator("#incoming-number")).not_to_have_text("Chưa vào sổ")
    clerk.context.close()

    leader = _as(browser, server, "lanhdao.camau")
    leader.goto(doc_url)
    leader.locator("select[name=lead_target]").select_option(label="Sở Thông tin và Truyền thông")
    leader.get_by_label("Ý kiến chỉ đạo").fill("Sở TTTT chủ trì, báo cáo trước hạn 2 ngày.")
    _click(leader, "Phân phối")
    expect(leader.locator("#assignments")).to_contain_text("Sở Thông tin và Truyền thông")
    leader.context.close()

    head = _as(browser, server, "truongphong.camau")
    head.goto(doc_url)
    actions = head.locator("#assignments details.actions").first
    actions.locator("summary").click()
    actions.locator("select[name=user_id]").select_option(label="Lý Minh Khôi")
    actions.get_by_label("Ý kiến").fill("Soạn báo cáo trả lời Bộ.")
    _click(head, "Giao việc")
    expect(head.locator("#assignments")).to_contain_text("Lý Minh Khôi")
    head.context.close()


def _draft_reply(browser: Browser, server: AxisServer, tmp_path: Path, incoming_id: int,
                 subject: str, recipients: tuple[str, ...]) -> str:
    """Story step 5: the specialist drafts the reply, the department head, the office and the
    chairman approve. Returns the outgoing document's URL."""
    page = _as(browser, server, "chuyenvien.camau")
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(make_text_pdf(["\n".join([
        "ỦY BAN NHÂN DÂN TỈNH CÀ MAU", "", "BÁO CÁO", subject, "", "Kính gửi: Bộ Nội vụ", "",
        "Kết quả triển khai Chính phủ điện tử năm 2026 như sau."])]))
    page.goto(f"{server.url}/van-ban-di/moi?tra_loi={incoming_id}")
    expect(page.locator("p.lead")).to_contain_text("Trả lời văn bản đến số")
    page.locator("select[name=doc_type]").select_option("bao_cao")
    chairman = page.locator("select[name=signer_id] option", has_text="Huỳnh Quốc Việt")
    page.locator("select[name=signer_id]").select_option(chairman.get_attribute("value"))
    page.get_by_label("Trích yếu nội dung").fill(subject)
    page.locator("select[name=agency_codes]").select_option(list(recipients))
    page.get_by_label("Tệp dự thảo (PDF hoặc DOCX)").set_input_files(str(pdf))
    screenshot(page, "story-2-reply-draft-form")
    _click(page, "Tạo dự thảo")
    url = page.url
    assert re.search(r"/van-ban-di/\d+$", url), url
    expect(page.locator("dl.meta")).to_contain_text("Trả lời văn bản đến")
    _click(page, "Trình duyệt")
    expect(page.locator("#status")).to_have_text("Đang trình duyệt")
    page.context.close()
    for username in ("truongphong.camau", "vanthu.camau", "lanhdao.camau"):
        reviewer = _as(browser, server, username)
        reviewer.goto(url)
        _click(reviewer, "Duyệt", exact=True)
        reviewer.context.close()
    return url


def _clerk_dispatches(browser: Browser, server: AxisServer, url: str, tmp_path: Path,
                      name: str) -> tuple[str, Path]:
    clerk = _as(browser, server, "vanthu.camau")
    clerk.goto(url)
    for button in ("Cấp số, ngày", "Ký số của cơ quan", "Phát hành"):
        if button == "Phát hành":
            screenshot(clerk, f"story-{name}-5-clerk-before-dispatch")
        _click(clerk, button)
        expect(clerk.locator(".flash-success")).to_be_visible()
    expect(clerk.locator("#status")).to_have_text("Đã phát hành")
    notation = clerk.locator("#number-notation").inner_text()
    assert re.fullmatch(r"\d{2,}/BC-UBND", notation), notation
    screenshot(clerk, f"story-{name}-6-clerk-dispatched")
    href = clerk.locator("#document a", has_text="Tải tệp PDF").get_attribute("href")
    pdf = tmp_path / f"{name}-signed.pdf"
    pdf.write_bytes(clerk.request.get(server.url + href).body())
    clerk.context.close()
    return notation, pdf


def _check_pdf(pdf: Path, name: str) -> None:
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == 2, out
    assert subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode == 0
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    last = int(re.search(r"Pages:\s+(\d+)", pages).group(1))  # type: ignore[union-attr]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", str(last), "-l", str(last),
                    "-singlefile", str(pdf), str(SCREENSHOTS / f"story-{name}-signed-pdf")],
                   check=True)


def _reload_until(page: Page, url: str, ready: str, what: str, server: AxisServer) -> None:
    """Reload ``url`` until the JS predicate ``ready`` holds (the axis is asynchronous)."""
    deadline = time.monotonic() + ARRIVAL_S
    while True:
        page.goto(url)
        if page.evaluate(ready):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {ARRIVAL_S:.0f} s\n--- server ---\n{_tail(server.log, 60)}")
        page.wait_for_timeout(400)


def _recipient_registers(browser: Browser, server: AxisServer, clerk_name: str, notation: str,
                         shot: str) -> None:
    clerk = _as(browser, server, clerk_name)
    link = f"a:text-is('{notation}')"
    _reload_until(clerk, server.url + "/van-ban-den/?tab=cho-vao-so",
                  "() => [...document.querySelectorAll('a')]"
                  f".some(a => a.textContent.trim() === {json.dumps(notation)})",
                  f"{notation} awaiting registration at {clerk_name}", server)
    with clerk.expect_navigation():
        clerk.locator(link).first.click()
    expect(clerk.locator("h1")).to_contain_text(notation)
    expect(clerk.locator(".file .tag-ok")).to_contain_text("Chữ ký số")
    expect(clerk.locator("dl.meta")).to_contain_text("Ủy ban nhân dân tỉnh Cà Mau")
    screenshot(clerk, shot)
    _click(clerk, "Vào sổ")
    expect(clerk.locator("#incoming-number")).not_to_have_text("Chưa vào sổ")
    clerk.context.close()


def _statuses_come_back(browser: Browser, server: AxisServer, url: str, recipients: tuple[str, ...],
                        name: str) -> None:
    clerk = _as(browser, server, "vanthu.camau")
    codes = json.dumps(list(recipients))
    _reload_until(clerk, url, f"""() => {codes}.every(code => {{
        const li = document.querySelector(`#recipients li[data-agency="${{code}}"]`);
        return li && li.dataset.status === "03"; }})""",
                  f"status 03 back from {recipients}", server)
    for code in recipients:
        item = clerk.locator(f"#recipients li[data-agency='{code}']")
        expect(item.locator("ol.timeline li")).to_have_count(2)
        expect(item.locator("ol.timeline li").nth(0)).to_contain_text("01 ·")
        expect(item.locator("ol.timeline li").nth(1)).to_contain_text("03 ·")
    clerk.locator("#recipients").scroll_into_view_if_needed()
    screenshot(clerk, f"story-{name}-7-recipient-statuses")
    clerk.context.close()


def _incoming_finished(browser: Browser, server: AxisServer, story: dict, notation: str,
                       name: str) -> None:
    leader = _as(browser, server, "lanhdao.camau")
    leader.goto(f"{server.url}/van-ban-den/{story['incoming_id']}")
    expect(leader.locator("dl.meta")).to_contain_text(notation)  # "Văn bản trả lời"
    expect(leader.locator("#assignments")).to_contain_text(f"văn bản trả lời {notation}")
    screenshot(leader, f"story-{name}-8-incoming-finished")
    leader.context.close()
    # the ministry sees its request answered: 06 with the reply's number
    bnv = _as(browser, server, "vanthu.bnv")
    _reload_until(bnv, f"{server.url}/van-ban-di/{story['bnv_outgoing_id']}",
                  """() => document.querySelector('#recipients li[data-agency="000.00.00.H12"]')
                       ?.dataset.status === "06" """, "status 06 back at BNV", server)
    expect(bnv.locator("#recipients")).to_contain_text(notation)
    screenshot(bnv, f"story-{name}-9-ministry-sees-answer")
    bnv.context.close()


def test_reply_signed_with_browser_key_crosses_the_axis(browser: Browser, axis_server: AxisServer,
                                                        tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    story = _bnv_sends(axis_server, f"V/v báo cáo tiến độ Chính phủ điện tử ({tag})", handle=False)
    _camau_takes_it_to_the_specialist(browser, axis_server, story["incoming_id"])
    recipients = (U_MINH, BNV)
    url = _draft_reply(browser, axis_server, tmp_path, story["incoming_id"],
                       f"Báo cáo kết quả triển khai Chính phủ điện tử ({tag})", recipients)

    leader = _as(browser, axis_server, "lanhdao.camau")
    console = collect_console(leader)
    leader.goto(url)
    expect(leader.locator("#sign img.stamp-preview")).to_be_visible()
    screenshot(leader, "story-browser-3-sign-page")
    with leader.expect_navigation(timeout=30_000):
        leader.get_by_role("button", name="Ký bằng khóa trên trình duyệt").click()
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    expect(leader.locator("#signatures")).to_contain_text("khóa trên trình duyệt")
    screenshot(leader, "story-browser-4-signed")
    assert not [c for c in console if c.type in ("error", "pageerror")], console
    leader.context.close()

    notation, pdf = _clerk_dispatches(browser, axis_server, url, tmp_path, "browser")
    _check_pdf(pdf, "browser")
    _recipient_registers(browser, axis_server, "vanthu.uminh", notation, "story-browser-uminh-receives")
    _recipient_registers(browser, axis_server, "vanthu.bnv", notation, "story-browser-bnv-receives")
    _statuses_come_back(browser, axis_server, url, recipients, "browser")
    _incoming_finished(browser, axis_server, story, notation, "browser")


def test_reply_signed_with_pin_crosses_the_axis(browser: Browser, axis_server: AxisServer,
                                                tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    story = _bnv_sends(axis_server, f"V/v báo cáo cải cách hành chính ({tag})", handle=True)
    recipients = (KHANH_AN, BNV)
    url = _draft_reply(browser, axis_server, tmp_path, story["incoming_id"],
                       f"Báo cáo kết quả cải cách hành chính ({tag})", recipients)

    leader = _as(browser, axis_server, "lanhdao.camau")
    leader.goto(url)
    screenshot(leader, "story-pin-3-sign-page")
    leader.get_by_label("Mã PIN khóa ký số").fill(DEMO_PIN)
    _click(leader, "Ký bằng mã PIN")
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    expect(leader.locator("#signatures")).to_contain_text("ký từ xa bằng mã PIN")
    leader.context.close()

    notation, pdf = _clerk_dispatches(browser, axis_server, url, tmp_path, "pin")
    _check_pdf(pdf, "pin")
    _recipient_registers(browser, axis_server, "vanthu.khanhan", notation, "story-pin-khanhan-receives")
    _recipient_registers(browser, axis_server, "vanthu.bnv", notation, "story-pin-bnv-receives")
    _statuses_come_back(browser, axis_server, url, recipients, "pin")
    _incoming_finished(browser, axis_server, story, notation, "pin")
