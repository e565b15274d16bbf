"""The OCR engine: OCRmyPDF with Tesseract's Vietnamese model, run as a subprocess.

Only the worker calls :func:`ocr_pdf` (a page takes seconds, a 200-page scan many minutes);
web requests never do. A long scan is cut into chunks of :data:`CHUNK_PAGES` pages (qpdf), each
OCRed by its own ``ocrmypdf`` run with its own timeout, so that progress is known after every
chunk and one slow chunk cannot hold the worker for ever; the chunks are joined again by qpdf.

Options (docs/ocr.md): ``-l vie`` (Vietnamese, with its diacritics), ``--jobs 1`` (the worker
shares the host with the web processes), ``--skip-text`` (a page that already has text is
left as it is), ``--rotate-pages`` (a page fed sideways or upside down is turned upright),
``--deskew``, ``--output-type pdf`` (the original stays the archival file; PDF/A conversion
through Ghostscript would cost time and may re-encode the images), ``-O0`` (no image
re-optimisation: the copy is made to be searched, not to be small), ``--sidecar`` (the text).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK_PAGES = 10
PAGE_TIMEOUT = 120  # seconds per page of a chunk (a busy 2-core host reads a page in 5-20 s)
LANGUAGE = "vie"
MISSING = ("Máy chủ chưa cài phần mềm nhận dạng chữ (OCR): cần gói ocrmypdf và "
           "tesseract-ocr-vie. Văn bản vẫn được vào sổ nhưng chưa tìm kiếm được theo nội dung.")


class OcrError(Exception):
    """OCR did not succeed; ``message`` says why in Vietnamese, for the clerk."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


class OcrUnavailable(OcrError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(MISSING + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class OcrOutput:
    pdf: bytes
    """The searchable copy: the original's pages with an invisible text layer."""
    pages: list[str]
    """The text of each page, in order."""

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def _ocrmypdf() -> str | None:
    """The command (IOFFICE_OCRMYPDF may name another, e.g. in a virtualenv), if it exists."""
    return shutil.which(os.environ.get("IOFFICE_OCRMYPDF") or "ocrmypdf")


@functools.lru_cache(maxsize=4)
def _languages(tesseract: str) -> frozenset[str]:
    try:
        out = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in (out.stdout + out.stderr).splitlines()[1:])


def problem() -> str | None:
    """Why OCR cannot run on this host (Vietnamese, for the administrator), or None."""
    if _ocrmypdf() is None:
        return MISSING + " (không tìm thấy lệnh ocrmypdf)"
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return MISSING + " (không tìm thấy lệnh tesseract)"
    if LANGUAGE not in _languages(tesseract):
        return MISSING + " (Tesseract chưa có dữ liệu tiếng Việt: gói tesseract-ocr-vie)"
    if shutil.which("qpdf") is None:
        return MISSING + " (không tìm thấy lệnh qpdf)"
    return None


def ocr_pdf(data: bytes, page_count: int, *,
            progress: Callable[[int], None] | None = None,
            chunk_pages: int = CHUNK_PAGES, page_timeout: float = PAGE_TIMEOUT) -> OcrOutput:
    """OCR a PDF; ``progress(pages_done)`` after each chunk. Raises :class:`OcrError`."""
    if problem():
        raise OcrUnavailable()
    with tempfile.TemporaryDirectory(prefix="ioffice-ocr-") as tmp:
        work = Path(tmp)
        source = work / "in.pdf"
        source.write_bytes(data)
        outputs: list[Path] = []
        pages: list[str] = []
        for start in range(1, page_count + 1, chunk_pages):
            end = min(start + chunk_pages - 1, page_count)
            part = source
            if page_count > chunk_pages:
                part = work / f"part-{start}.pdf"
                _qpdf("--empty", "--pages", str(source), f"{start}-{end}", "--", str(part))
            out, sidecar = work / f"ocr-{start}.pdf", work / f"ocr-{start}.txt"
            _run_ocrmypdf(part, out, sidecar, timeout=page_timeout * (end - start + 1) + 30)
            outputs.append(out)
            text = sidecar.read_text(encoding="utf-8", errors="replace")
            chunk_texts = text.split("\f")
            chunk_texts += [""] * (end - start + 1 - len(chunk_texts))
            pages.extend(chunk_texts[:end - start + 1])
            if progress is not None:
                progress(end)
        if len(outputs) == 1:
            result = outputs[0].read_bytes()
        else:
            joined = work / "joined.pdf"
            _qpdf("--empty", "--pages", *[str(p) for p in outputs], "--", str(joined))
            result = joined.read_bytes()
    return OcrOutput(pdf=result, pages=[p.strip() for p in pages])


# ocrmypdf's exit codes (ocrmypdf.ExitCode) that say something to the clerk
_EXIT_MESSAGES = {
    2: "Tệp quét bị hỏng hoặc không phải PDF hợp lệ; không nhận dạng được chữ.",
    3: MISSING,
    8: "Tệp PDF được mã hóa hoặc đặt mật khẩu; không nhận dạng được chữ. Hãy gỡ mật khẩu rồi "
       "tải lên lại nếu cần tìm kiếm theo nội dung.",
}


def _run_ocrmypdf(source: Path, out: Path, sidecar: Path, *, timeout: float) -> None:
    command = [_ocrmypdf() or "ocrmypdf", "-l", LANGUAGE, "--jobs", "1", "--skip-text",
               "--rotate-pages", "--deskew", "--output-type", "pdf", "-O0",
               "--sidecar", str(sidecar), "--quiet", str(source), str(out)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"Nhận dạng chữ quá {int(timeout)} giây mà chưa xong; sẽ thử lại sau.",
                       retry=True) from exc
    except OSError as exc:
        raise OcrUnavailable(str(exc)) from exc
    if done.returncode == 0:
        return
    if done.returncode == 3:
        raise OcrUnavailable(_last_line(done.stderr))
    message = _EXIT_MESSAGES.get(done.returncode)
    if message is None:
        message = f"Nhận dạng chữ thất bại (mã {done.returncode}): {_last_line(done.stderr)}"
    raise OcrError(message)


def _qpdf(*args: str) -> None:
    done = subprocess.run(["qpdf", *args], capture_output=True, timeout=300, check=False)
    if done.returncode not in (0, 3):  # 3: warnings, the file was written
        raise OcrError(f"Không tách/ghép được các trang của tệp quét: {_last_line(done.stderr)}")


def _last_line(raw: bytes) -> str:
    lines = [line for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""
