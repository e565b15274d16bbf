"""docs/api.md's walk-through runs as written: its bash block (curl and jq) against the app served
on a local port, with the demo's people and their tokens. A command that fails (curl
--fail-with-body, `set -e`) fails this test with the script's output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from ioffice.demo import DEMO_PIN
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from tests.api.conftest import issue_token
from tests.outgoing.conftest import pdf_bytes

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->",
                   re.S)


def walkthrough() -> str:
    found = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(found) == 1, "docs/api.md has one walk-through block"
    return found[0]


@pytest.fixture
def served(app: Flask):
    """The app on a local port (one request at a time: the test's connection is shared)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    thread.join(5)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl, jq")
def test_the_walkthrough_runs_as_written(served: str, db: Session, tmp_path: Path) -> None:
    (tmp_path / "du-thao.pdf").write_bytes(pdf_bytes("Báo cáo quý IV"))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "API": served, "PIN": DEMO_PIN,
           "SPECIALIST_TOKEN": issue_token(db, "chuyenvien.camau"),
           "HEAD_TOKEN": issue_token(db, "truongphong.camau"),
           "CLERK_TOKEN": issue_token(db, "vanthu.camau"),
           "LEADER_TOKEN": issue_token(db, "lanhdao.camau")}
    result = subprocess.run(["bash", "-c", walkthrough()], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    print(output)
    db.expire_all()
    doc = db.scalars(select(OutgoingDocument).order_by(OutgoingDocument.id.desc())).first()
    assert doc.status is OutgoingStatus.DISPATCHED and doc.number_notation in output
    assert "forbidden" in output and "Đã phát hành" in output
