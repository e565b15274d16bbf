"""iOffice on a phone (390x844, touch, 3x pixels): every page a user reaches fits the screen
(no sideways scrolling), the menu folds behind a button, and a leader reads, approves and signs
a document from the phone. Also: no page logs a console error or requests something that is not
there (a 404: the favicon was one).

The pages are found, not listed: each role's walk starts at the home page and follows every link
of the app it finds (one page per kind of address: ``/van-ban-den/12`` stands for every
incoming document), so a page added later is walked without anyone remembering to.
The roles walked are Cà Mau's clerk (who is also the agency's admin: the admin pages), leader,
department head and specialist. Screenshots: test-artifacts/screenshots/phone-leader-*.png,
phone-menu-*.png, and phone-walk-<role>-<page>.png of a page that overflows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Response, expect

from tests.browser.conftest import (
    PHONE,
    PHONE_DEVICE,
    collect_console,
    horizontal_overflow,
    login,
    new_page,
    screenshot,
)
from tests.browser.steps import approve, create_draft, register_incoming

# the page itself: run once, in the SQLite run (tests/support/backend_split.py)
pytestmark = [pytest.mark.browser, pytest.mark.ui_only]

DEMO_PIN = "123456"
ROLES = {"clerk": "vanthu.camau", "leader": "lanhdao.camau", "specialist": "chuyenvien.camau",
         "head": "truongphong.camau"}
# files, downloads and the API are not pages; logging out would end the walk
NOT_PAGES = re.compile(r"\.(xlsx|pdf|png|ico|svg)$|/tep/|^/api/|^/static/|^/dang-xuat")
MAX_PAGES = 60
# the elements sticking out of the screen, to name in a failure
WIDE_ELEMENTS_JS = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > limit + 1) {
      let inScroller = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { inScroller = true; break; }
      }
      const cls = typeof el.className === 'string' ? el.className.trim().replace(/\\s+/g, '.') : '';
      if (!inScroller) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (cls ? '.' + cls : '') + ' right=' + Math.round(r.right));
    }
  }
  return out.slice(0, 6);
}"""


def phone(browser: Browser) -> Page:
    return new_page(browser, **PHONE_DEVICE)


def _kind(path_and_query: str) -> str:
    """One page per kind of address: the ids do not matter, the tab does."""
    return re.sub(r"\d+", "N", path_and_query)


@dataclass
class Walk:
    """What a walk saw: pages that scroll sideways, console errors, requests that failed."""

    pages: list[str] = field(default_factory=list)
    overflowing: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def walk(page: Page, base: str, name: str, *, extra: tuple[tuple[str, int], ...] = ()) -> Walk:
    """Every page of the app reachable by links from the home page (breadth first), then
    ``extra`` (path, expected status): error pages."""
    seen: Walk = Walk()
    expected_errors: set[str] = {base + path for path, _ in extra}

    def _response(resp: Response) -> None:
        if resp.status >= 400 and resp.url not in expected_errors:
            seen.failed_requests.append(f"{resp.status} {resp.url} (on {page.url})")

    def _failed(req: Request) -> None:
        if "ERR_ABORTED" not in (req.failure or ""):  # a lazy image cut short by leaving
            seen.failed_requests.append(f"failed {req.url}: {req.failure} (on {page.url})")

    page.on("response", _response)
    page.on("requestfailed", _failed)
    console = collect_console(page)
    queue, kinds = ["/"], {"/"}
    icons: set[str] = set()
    while queue and len(seen.pages) < MAX_PAGES:
        path = queue.pop(0)
        resp = page.goto(base + path)
        assert resp is not None and resp.ok, f"{path}: {resp.status if resp else 'no answer'}"
        _check_page(page, seen, path, name)
        icons.update(page.eval_on_selector_all("link[rel~=icon]", "els => els.map(e => e.href)"))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            parts = urlsplit(href)
            if href.startswith(base) and not NOT_PAGES.search(parts.path):
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if _kind(target) not in kinds:
                    kinds.add(_kind(target))
                    queue.append(target)
    for path, status in extra:
        resp = page.goto(base + path)
        assert resp is not None and resp.status == status, path
        _check_page(page, seen, path, name)
    # headless Chromium fetches no icon: ask for the ones a browser would (the page's, and
    # /favicon.ico, where browsers look when a page names none)
    for icon in sorted(icons | {base + "/favicon.ico"}):
        status = page.request.get(icon).status
        if status >= 400:
            seen.failed_requests.append(f"{status} {icon} (the icon)")
    seen.console_errors = [str(e) for e in console if e.type in ("error", "pageerror")
                           and not any(url in e.text for url in expected_errors)
                           and "the server responded with a status of 40" not in e.text]
    return seen


def _check_page(page: Page, seen: Walk, path: str, name: str) -> None:
    page.wait_for_load_state("load")
    seen.pages.append(path)
    overflow = horizontal_overflow(page)
    if overflow > 0:
        wide = page.evaluate(WIDE_ELEMENTS_JS)
        seen.overflowing.append(f"{path}: {overflow}px too wide ({', '.join(wide)})")
        screenshot(page, f"phone-walk-{name}-{_kind(path).strip('/').replace('/', '-') or 'home'}")


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, live_server: str,
                                            documents: None, role: str) -> None:
    page = phone(browser)
    try:
        login(page, live_server, ROLES[role])
        extra = (("/khong-co-trang-nay", 404),)
        if role == "specialist":
            extra += (("/quan-tri/nguoi-dung", 403),)
        seen = walk(page, live_server, role, extra=extra)
    finally:
        page.context.close()
    assert len(seen.pages) >= 8, seen.pages  # the walk really walked
    assert seen.overflowing == [], "\n".join(seen.overflowing)
    assert seen.failed_requests == [], "\n".join(seen.failed_requests)
    assert seen.console_errors == [], "\n".join(seen.console_errors)


def test_the_pages_without_login_fit_a_phone(browser: Browser, live_server: str) -> None:
    page = phone(browser)
    console = collect_console(page)
    missing: list[str] = []
    page.on("response", lambda r: r.status >= 400 and missing.append(f"{r.status} {r.url}"))
    try:
        page.goto(live_server + "/dang-nhap")
        expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        assert horizontal_overflow(page) <= 0
        page.get_by_label("Tên đăng nhập", exact=True).fill("vanthu.camau")
        page.get_by_label("Mật khẩu", exact=True).fill("sai-mat-khau")
        with page.expect_navigation():
            page.get_by_role("button", name="Đăng nhập").click()
        expect(page.get_by_role("alert")).to_be_visible()
        assert horizontal_overflow(page) <= 0
        screenshot(page, "phone-login-wrong-password")
    finally:
        page.context.close()
    assert [m for m in missing if "/dang-nhap" not in m] == []
    assert [str(e) for e in console if e.type in ("error", "pageerror")
            and "status of 401" not in e.text and "status of 400" not in e.text] == []


def test_the_desktop_pages_log_no_console_error_and_miss_nothing(browser: Browser, live_server: str,
                                                                 documents: None) -> None:
    page = new_page(browser)
    try:
        login(page, live_server, ROLES["clerk"])
        seen = walk(page, live_server, "desktop-clerk", extra=(("/khong-co-trang-nay", 404),))
    finally:
        page.context.close()
    assert seen.failed_requests == [], "\n".join(seen.failed_requests)
    assert seen.console_errors == [], "\n".join(seen.console_errors)


def test_favicon(browser: Browser, live_server: str) -> None:
    page = new_page(browser)
    try:
        resp = page.request.get(live_server + "/favicon.ico")
        assert resp.status == 200 and resp.headers["content-type"] in ("image/x-icon",
                                                                        "image/vnd.microsoft.icon")
        assert resp.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
        page.goto(live_server + "/dang-nhap")
        icons = page.eval_on_selector_all("link[rel~=icon]", "els => els.map(e => [e.type, e.href])")
        assert ("image/svg+xml", live_server + "/static/favicon.svg") in [tuple(i) for i in icons]
        svg = page.request.get(live_server + "/static/favicon.svg")
        assert svg.status == 200 and b"<svg" in svg.body()
    finally:
        page.context.close()


# --- the menu --------------------------------------------------------------------------------

def test_the_menu_folds_on_a_phone_and_opens_with_a_tap_or_the_keyboard(browser: Browser,
                                                                       live_server: str) -> None:
    page = phone(browser)
    try:
        login(page, live_server, ROLES["clerk"])
        button = page.get_by_role("button", name="Menu")
        nav = page.get_by_role("navigation", name="Chức năng")
        expect(button).to_be_visible()
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(nav.get_by_role("link", name="Văn bản đến", exact=True)).to_be_hidden()
        head = page.locator("header.topbar").bounding_box()
        assert head is not None and head["height"] < 80, f"the folded top bar is {head}"
        screenshot(page, "phone-menu-closed")

        button.tap()
        expect(button).to_have_attribute("aria-expanded", "true")
        link = nav.get_by_role("link", name="Văn bản đến", exact=True)
        expect(link).to_be_visible()
        for name in ("Trang chủ", "Tìm kiếm", "Sổ văn bản đến", "Người dùng", "Phòng ban"):
            box = nav.get_by_role("link", name=name).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 40, f"menu item {name!r} is too small to tap ({box})"
        expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
        assert horizontal_overflow(page) <= 0
        screenshot(page, "phone-menu-open")

        page.keyboard.press("Escape")  # closes it, the focus back on the button
        expect(button).to_have_attribute("aria-expanded", "false")
        expect(link).to_be_hidden()
        expect(button).to_be_focused()
        page.keyboard.press("Enter")
        expect(button).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Tab")  # the first link of the menu comes next
        expect(nav.get_by_role("link", name="Trang chủ")).to_be_focused()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Space")
        expect(button).to_have_attribute("aria-expanded", "false")

        button.tap()
        with page.expect_navigation():
            nav.get_by_role("link", name="Sổ văn bản đến").tap()
        expect(page.get_by_role("heading", name=re.compile("Sổ văn bản đến"))).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    finally:
        page.context.close()


def test_the_menu_is_open_on_a_desktop(page: Page, live_server: str) -> None:
    login(page, live_server, ROLES["clerk"])
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Chức năng").get_by_role(
        "link", name="Văn bản đến", exact=True)).to_be_visible()


def test_without_javascript_the_menu_is_shown(browser: Browser, live_server: str) -> None:
    page = new_page(browser, **PHONE_DEVICE, java_script_enabled=False)
    try:
        login(page, live_server, ROLES["clerk"])
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        nav = page.get_by_role("navigation", name="Chức năng")
        expect(nav.get_by_role("link", name="Văn bản đến", exact=True)).to_be_visible()
        assert horizontal_overflow(page) <= 0
        with page.expect_navigation():
            nav.get_by_role("link", name="Văn bản đi", exact=True).click()
        expect(page.get_by_role("heading", name="Văn bản đi")).to_be_visible()
    finally:
        page.context.close()


# --- the leader on a phone -------------------------------------------------------------------

@pytest.fixture(scope="module")
def documents(browser: Browser, live_server: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Documents to walk past: an incoming one registered, a draft in review."""
    tmp = tmp_path_factory.mktemp("phone")
    register_incoming(browser, live_server, tmp, "Về việc báo cáo chuyển đổi số năm 2026")
    create_draft(browser, live_server, tmp, "Báo cáo chuyển đổi số (đang duyệt)")


def test_a_leader_approves_and_signs_on_a_phone(browser: Browser, live_server: str,
                                                tmp_path: Path) -> None:
    subject = "Báo cáo tiến độ Chính phủ điện tử (duyệt và ký trên điện thoại)"
    url = create_draft(browser, live_server, tmp_path, subject)
    approve(browser, live_server, url, "truongphong.camau", "vanthu.camau")

    page = phone(browser)
    console = collect_console(page)
    try:
        login(page, live_server, "lanhdao.camau")
        # the queue: through the menu to the outgoing documents waiting for the leader
        page.get_by_role("button", name="Menu").tap()
        with page.expect_navigation():
            page.get_by_role("navigation", name="Chức năng").get_by_role(
                "link", name="Văn bản đi", exact=True).tap()
        queue = page.locator("#to-act")
        expect(queue.get_by_role("link", name=subject)).to_be_visible()
        assert horizontal_overflow(page) <= 0
        screenshot(page, "phone-leader-1-queue")
        with page.expect_navigation():
            queue.get_by_role("link", name=subject).tap()

        # the document: the preview fills the width of the screen, sharp enough to read
        expect(page.locator("#status")).to_have_text("Đang trình duyệt")
        preview = page.locator("#preview img").first
        preview.scroll_into_view_if_needed()
        expect(preview).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        box = preview.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["width"] >= PHONE["width"] * 0.8, f"the preview is {box['width']}px wide"
        natural = preview.evaluate("img => img.naturalWidth")
        assert natural >= box["width"] * 2, "the preview is upscaled: blurred on the phone"
        assert horizontal_overflow(page) <= 0
        screenshot(page, "phone-leader-2-document")

        # approve, then sign with the PIN
        with page.expect_navigation():
            page.get_by_role("button", name="Duyệt", exact=True).tap()
        expect(page.locator(".flash-success")).to_be_visible()
        pin = page.get_by_label("Mã PIN khóa ký số")
        pin.scroll_into_view_if_needed()
        assert pin.get_attribute("inputmode") == "numeric"  # the phone shows digits
        assert horizontal_overflow(page) <= 0
        screenshot(page, "phone-leader-3-sign")
        pin.tap()
        page.keyboard.type(DEMO_PIN)
        with page.expect_navigation():
            page.get_by_role("button", name="Ký bằng mã PIN").tap()
        expect(page.locator("#status")).to_have_text("Đã ký, chờ cấp số")
        expect(page.locator("#signatures")).to_contain_text("ký từ xa bằng mã PIN")
        assert horizontal_overflow(page) <= 0
        screenshot(page, "phone-leader-4-signed")
    finally:
        page.context.close()
    assert [str(e) for e in console if e.type in ("error", "pageerror")] == []


# --- the general rules, for pages not written yet --------------------------------------------

NEW_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/app.css"></head><body><main class="content">
<h1>Trang mới</h1>
<table class="table" id="labelled"><thead><tr><th>Số</th><th>Trích yếu</th></tr></thead><tbody>
  <tr><td data-label="Số">12/UBND-VP</td><td data-label="Trích yếu">Về việc báo cáo</td></tr>
</tbody></table>
<table class="table" id="unlabelled"><thead><tr>{cells}</tr></thead><tbody><tr>{cells}</tr></tbody></table>
<div class="table-scroll" id="wrapped"><table class="table"><thead><tr>{cells}</tr></thead><tbody><tr>
  <td data-label="Số">1</td>{cells}</tr></tbody></table></div>
<section class="card"><form class="stack"><div class="form-grid">
  <label>Cơ quan ban hành <input name="a"></label><label>Số <input name="b"></label></div>
  <p>https://congbao.chinhphu.vn/van-ban/mot-duong-dan-rat-dai-khong-co-dau-cach-nao-ca.htm</p>
</form></section>
<dl class="meta"><dt>Mã định danh</dt><dd>000.00.00.H12-2026-000000000000000000000000000123</dd></dl>
</main></body></html>"""


def test_the_general_rules_fit_a_new_page_on_a_phone(browser: Browser, live_server: str) -> None:
    """A page another change adds, with nothing phone-specific in it: a labelled table turns
    into cards, an unlabelled wide one and one in .table-scroll scroll inside themselves, the
    form stacks, long words wrap."""
    page = phone(browser)
    try:
        page.goto(live_server + "/dang-nhap")  # the origin of the stylesheet
        cells = "".join(f"<td>Cột số {i} có nội dung dài</td>" for i in range(8))
        page.set_content(NEW_PAGE.replace("{cells}", cells), wait_until="load")
        assert horizontal_overflow(page) <= 0, page.evaluate(WIDE_ELEMENTS_JS)
        expect(page.locator("#labelled thead")).to_be_hidden()
        assert page.locator("#labelled td").first.evaluate(
            "td => getComputedStyle(td, '::before').content") == '"Số: "'
        for scroller in ("#unlabelled", "#wrapped"):
            width = page.locator(scroller).evaluate("el => [el.scrollWidth, el.clientWidth]")
            assert width[0] > width[1] <= PHONE["width"], f"{scroller} does not scroll: {width}"
        expect(page.locator("#wrapped thead")).to_be_visible()
        inputs = page.locator(".form-grid input")
        assert inputs.nth(0).bounding_box()["y"] < inputs.nth(1).bounding_box()["y"]  # stacked
    finally:
        page.context.close()
