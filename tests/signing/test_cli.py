"""The command line, end to end in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "SIGNING_PKI_PASSPHRASE": "cli-pass", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "signing", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, check=False)
    assert (proc.returncode == 0) is ok, proc.stdout + proc.stderr
    return proc


def test_cli_make_issue_sign_validate_revoke(tmp_path):
    d = str(tmp_path / "pki")
    _cli("make-pki", d)
    personal = _cli("issue", d, "--kind", "personal", "--agency-id", "000.00.00.H12",
                    "--agency-name", "UBND tỉnh Cà Mau", "--name", "Nguyễn Văn An",
                    "--position", "CHỦ TỊCH", "--key-type", "ec").stdout.strip()
    seal = _cli("issue", d, "--kind", "seal", "--agency-id", "000.00.00.H12",
                "--agency-name", "UBND tỉnh Cà Mau").stdout.strip()
    doc, one, two = (str(tmp_path / n) for n in ("doc.pdf", "one.pdf", "two.pdf"))
    _cli("demo-pdf", doc)
    box = "1,330,560,530,690"
    _cli("sign", d, personal, doc, one, "--personal", box, "--position", "CHỦ TỊCH",
         "--name", "Nguyễn Văn An")
    _cli("sign", d, seal, one, two, "--seal-over", box, "--notation", "45/BC-UBND",
         "--level", "B-LT")
    out = _cli("validate", d, two).stdout
    assert "Văn bản hợp lệ" in out and "Nguyễn Văn An" in out
    _cli("revoke", d, personal)
    assert "thu hồi" in _cli("validate", d, two, ok=False).stdout
    assert "thu hồi" in _cli("sign", d, personal, doc, one, ok=False).stderr
