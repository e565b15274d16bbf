"""The resolution walk: screenshots of the main pages of the story, for a human to look at.

    python -m tests.browser.screenshots OUTDIR

starts the app as the browser tests do (gunicorn on a fresh SQLite database with the demo
province, ``tests/browser/conftest.py``), plays the story of Cà Mau through the real UI (a paper
document registered, distributed and passed on to the specialist; a reply drafted, reviewed,
signed with the PIN, numbered, sealed and dispatched) and, at each step, saves full-page PNGs of
what the clerk, the leader and the specialist see, on a desktop (1366x900) and on a phone
(390x844, touch, 3x pixels): ``OUTDIR/<size>-<nn>-<role>-<page>.png``. It prints each file with
the page's sideways overflow (it should be 0) and exits 1 if a page is wider than the screen.
Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser import conftest as live
from tests.browser.steps import approve, create_draft, distribute_to_specialist, register_incoming

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": live.PHONE_DEVICE}
USERS = {"clerk": "vanthu.camau", "leader": "lanhdao.camau", "specialist": "chuyenvien.camau"}


@contextmanager
def app_server() -> Iterator[str]:
    """``live_server`` of the browser tests, outside pytest: its base URL."""
    with tempfile.TemporaryDirectory(prefix="ioffice-shots-") as name:
        tmp = Path(name)
        env = live._app_env(f"sqlite:///{tmp / 'shots.db'}", tmp)
        env["IOFFICE_INSTANCE_PATH"] = str(tmp / "instance")
        (tmp / "instance").mkdir()
        live._flask_all(env, ["db", "upgrade"], ["pki", "init"],
                        ["demo", "load", "--password", live.DEMO_PASSWORD])
        port = live._free_port()
        url = f"http://127.0.0.1:{port}"
        log = tmp / "gunicorn.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(live.BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                 "wsgi:app"], cwd=live.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            live._wait_until_up(proc, url, log)
            yield url
        finally:
            live._stop(proc)


class Camera:
    """Logged-in pages per (size, role), kept open across the walk."""

    def __init__(self, browser: Browser, base: str, outdir: Path) -> None:
        self.browser, self.base, self.outdir = browser, base, outdir
        self.pages: dict[tuple[str, str], Page] = {}
        self.count = 0
        self.shots: list[tuple[Path, int]] = []

    def page(self, size: str, role: str) -> Page:
        if (size, role) not in self.pages:
            page = live.new_page(self.browser, **SIZES[size])
            if role != "anonymous":
                live.login(page, self.base, USERS[role])
            self.pages[(size, role)] = page
        return self.pages[(size, role)]

    def shoot(self, role: str, path: str, name: str, *, menu: bool = False) -> None:
        """``path`` as ``role`` at both sizes; ``menu``: with the phone's menu opened."""
        self.count += 1
        for size in SIZES:
            page = self.page(size, role)
            page.goto(self.base + path)
            page.wait_for_load_state("networkidle")
            if menu and size == "phone":
                page.get_by_role("button", name="Menu").click()
                page.wait_for_timeout(100)
            out = self.outdir / f"{size}-{self.count:02d}-{role}-{name}.png"
            page.screenshot(path=str(out), full_page=True)
            overflow = live.horizontal_overflow(page)
            self.shots.append((out, overflow))
            print(f"{out}  overflow={overflow}px", flush=True)

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def story(cam: Camera, tmp: Path) -> None:
    b, base = cam.browser, cam.base
    cam.shoot("anonymous", "/dang-nhap", "login")
    for role in USERS:
        cam.shoot(role, "/", "home")
    cam.shoot("clerk", "/", "home-menu", menu=True)
    cam.shoot("clerk", "/van-ban-den/vao-so", "incoming-register-form")

    incoming = register_incoming(b, base, tmp, "Về việc báo cáo kết quả chuyển đổi số năm 2026")
    path = incoming.removeprefix(base)
    cam.shoot("clerk", path, "incoming-show")
    cam.shoot("clerk", "/van-ban-den/so", "incoming-register-book")
    cam.shoot("leader", "/van-ban-den/?tab=cho-phan-phoi", "incoming-to-distribute")
    cam.shoot("leader", path, "incoming-distribute")
    distribute_to_specialist(b, base, incoming)
    cam.shoot("specialist", "/van-ban-den/?tab=can-xu-ly", "incoming-to-handle")
    cam.shoot("specialist", path, "incoming-assigned")

    cam.shoot("specialist", "/van-ban-di/moi", "outgoing-new")
    draft = create_draft(b, base, tmp, "Báo cáo kết quả chuyển đổi số năm 2026 của tỉnh Cà Mau")
    dpath = draft.removeprefix(base)
    cam.shoot("specialist", dpath, "outgoing-submitted")
    approve(b, base, draft, "truongphong.camau", "vanthu.camau")
    cam.shoot("leader", "/van-ban-di/", "outgoing-queue")
    cam.shoot("leader", dpath, "outgoing-review")
    approve(b, base, draft, "lanhdao.camau")
    cam.shoot("leader", dpath, "outgoing-sign")

    leader = live.login(live.new_page(b), base, USERS["leader"])
    leader.goto(draft)
    leader.get_by_label("Mã PIN khóa ký số").fill("123456")
    with leader.expect_navigation():
        leader.get_by_role("button", name="Ký bằng mã PIN").click()
    expect(leader.locator("#status")).to_have_text("Đã ký, chờ cấp số")
    leader.context.close()
    cam.shoot("leader", dpath, "outgoing-signed")
    cam.shoot("clerk", dpath, "outgoing-to-number")

    clerk = live.login(live.new_page(b), base, USERS["clerk"])
    clerk.goto(draft)
    for button in ("Cấp số, ngày", "Ký số của cơ quan", "Phát hành"):
        with clerk.expect_navigation():
            clerk.get_by_role("button", name=button).click()
    clerk.context.close()
    cam.shoot("clerk", dpath, "outgoing-dispatched")
    cam.shoot("clerk", "/van-ban-di/so", "outgoing-register-book")
    cam.shoot("clerk", "/lien-thong/", "exchange")
    cam.shoot("clerk", "/tim-kiem?q=chuy%E1%BB%83n+%C4%91%E1%BB%95i+s%E1%BB%91", "search")
    cam.shoot("clerk", "/quan-tri/nguoi-dung", "admin-users")
    cam.shoot("clerk", "/quan-tri/quy-trinh-duyet", "admin-review-chain")
    cam.shoot("leader", "/van-ban-den/theo-doi", "follow-up")
    cam.shoot("specialist", "/van-ban-den/", "incoming-list")
    cam.shoot("specialist", "/chu-ky-so", "keys-mine")
    cam.shoot("specialist", "/doi-mat-khau", "change-password")
    cam.shoot("specialist", "/khong-co-trang-nay", "error-404")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="folder for the PNGs (created)")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    with app_server() as base, sync_playwright() as pw, \
            tempfile.TemporaryDirectory(prefix="ioffice-shots-files-") as files:
        browser = pw.chromium.launch(executable_path=live.CHROMIUM, args=live.CHROMIUM_ARGS)
        cam = Camera(browser, base, args.outdir)
        try:
            story(cam, Path(files))
        finally:
            cam.close()
            browser.close()
    wide = [(p, o) for p, o in cam.shots if o > 0]
    print(f"{len(cam.shots)} screenshots in {args.outdir}; {len(wide)} wider than the screen")
    return 1 if wide else 0


if __name__ == "__main__":
    sys.exit(main())
