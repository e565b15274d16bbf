"""A workbook printed to PDF by LibreOffice (the dashboards' and the records' PDF exports):
a throw-away profile per run, a time limit that kills the whole process group, and the reason
in Vietnamese when it cannot be done (the caller offers the XLSX instead)."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ioffice.outgoing.convert import soffice

__all__ = ["workbook_pdf"]


def workbook_pdf(data: bytes, stem: str, *, timeout: float,
                 error: Callable[[str], Exception]) -> bytes:
    """The XLSX ``data`` printed to PDF; ``stem`` names the work file (it shows in nothing the
    user sees); failures raise ``error(message)``."""
    binary = soffice()
    if binary is None:
        raise error("Máy chủ chưa cài LibreOffice nên chưa xuất được PDF; hãy xuất XLSX.")
    with tempfile.TemporaryDirectory(prefix="ioffice-print-") as tmp:
        work = Path(tmp)
        (work / f"{stem}.xlsx").write_bytes(data)
        cmd = [binary, f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
               "--norestore", "--convert-to", "pdf", "--outdir", str(work / "out"),
               str(work / f"{stem}.xlsx")]
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "HOME": str(work)})
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise error("Xuất PDF quá lâu; hãy thử lại hoặc xuất XLSX.") from exc
        result = work / "out" / f"{stem}.pdf"
        if code != 0 or not result.exists() or result.stat().st_size == 0:
            raise error("Không xuất được PDF; hãy thử lại hoặc xuất XLSX.")
        return result.read_bytes()
