"""DOCX -> PDF with LibreOffice headless, in a throw-away directory and profile, with a timeout."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from ioffice.outgoing.errors import ConversionFailed

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TIMEOUT_S = 90
_UNREADABLE = ("Không chuyển được tệp «{name}» sang PDF: {why}. Hãy mở tệp bằng Word hoặc "
               "LibreOffice, lưu lại dạng .docx (hoặc xuất ra PDF) rồi tải lên lại.")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def is_docx(filename: str, data: bytes) -> bool:
    return filename.lower().endswith(".docx") or (data[:2] == b"PK" and b"word/" in data[:4096])


def _check_docx(name: str, data: bytes) -> None:
    """LibreOffice happily imports junk as plain text; refuse what is not a Word document."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                raise ConversionFailed(_UNREADABLE.format(
                    name=name, why="tệp không phải văn bản Word (.docx)"))
            if zf.testzip() is not None:
                raise ConversionFailed(_UNREADABLE.format(name=name, why="tệp bị hỏng"))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ConversionFailed(_UNREADABLE.format(
            name=name, why="tệp không phải văn bản Word (.docx) hoặc bị hỏng")) from exc


def docx_to_pdf(data: bytes, filename: str = "du-thao.docx", *, timeout: float = TIMEOUT_S) -> bytes:
    """The PDF LibreOffice makes of ``data``, or :class:`ConversionFailed` in Vietnamese."""
    _check_docx(filename, data)
    binary = soffice()
    if binary is None:
        raise ConversionFailed("Máy chủ chưa cài LibreOffice nên chưa chuyển được DOCX sang PDF; "
                               "hãy tải lên bản PDF.")
    with tempfile.TemporaryDirectory(prefix="ioffice-docx-") as tmp:
        work = Path(tmp)
        source = work / "du-thao.docx"
        source.write_bytes(data)
        # a profile of its own: two conversions at once must not share (and lock) one
        cmd = [binary, f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
               "--norestore", "--convert-to", "pdf", "--outdir", str(work / "out"), str(source)]
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "HOME": str(work)})
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)  # soffice starts soffice.bin: the whole group
            proc.wait()
            raise ConversionFailed(_UNREADABLE.format(
                name=filename, why=f"LibreOffice không xong sau {timeout:.0f} giây")) from exc
        result = work / "out" / "du-thao.pdf"
        if returncode != 0 or not result.exists() or result.stat().st_size == 0:
            raise ConversionFailed(_UNREADABLE.format(name=filename,
                                                      why="LibreOffice không đọc được tệp"))
        return result.read_bytes()
