"""The workbook printer's refusals (ioffice/documents/printing.py): no LibreOffice, one that
hangs (killed at the time limit, its process group with it), one that fails."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ioffice.documents import printing


class Refused(Exception):
    pass


def _fake(tmp_path: Path, body: str) -> str:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_no_libreoffice_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printing, "soffice", lambda: None)
    with pytest.raises(Refused, match="chưa cài LibreOffice"):
        printing.workbook_pdf(b"x", "t", timeout=5, error=Refused)


def test_a_hanging_printer_is_killed_at_the_limit(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setattr(printing, "soffice", lambda: _fake(tmp_path, "sleep 30"))
    started = time.monotonic()
    with pytest.raises(Refused, match="quá lâu"):
        printing.workbook_pdf(b"x", "t", timeout=0.5, error=Refused)
    assert time.monotonic() - started < 10


def test_a_failing_printer_gives_no_pdf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(printing, "soffice", lambda: _fake(tmp_path, "exit 1"))
    with pytest.raises(Refused, match="Không xuất được PDF"):
        printing.workbook_pdf(b"x", "t", timeout=5, error=Refused)
