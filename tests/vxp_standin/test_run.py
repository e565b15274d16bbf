"""Running the stand-in: alone (``python -m axis_connector.vxp_standin``) and mounted under
``/truc/vxp`` beside another WSGI app, as the demo does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import urllib3
from flask import Flask
from werkzeug.serving import make_server

from axis_connector.vxp_standin import VXP_PATH, create_app, mount, prepare

from .conftest import SECRETS, signed_headers

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _agencies(url: str, system_id: str = "sys-a", secret: str = "a-secret-for-the-cli-test") -> dict:
    headers = signed_headers(system_id, secret, {})
    response = urllib3.request("POST", f"{url}/getAgenciesList", headers=headers, body=b"", timeout=10)
    return response.json()


def test_run_alone_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "vxp.json"
    config.write_text(json.dumps({"SYSTEMS": {"sys-a": "a-secret-for-the-cli-test"},
                                  "AGENCIES": {"sys-a": [{"code": "000.00.00.A01", "name": "Cơ quan A"}]}},
                                 ensure_ascii=False), encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "axis_connector.vxp_standin", "--port", str(port),
         "--db", f"sqlite:///{tmp_path / 'vxp.db'}", "--config", str(config)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = _agencies(url)
                break
            except urllib3.exceptions.HTTPError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "the stand-in did not start"
                time.sleep(0.2)
        assert answer["status"] == "OK"
        assert [(a["code"], a["name"]) for a in answer["data"]] == [("000.00.00.A01", "Cơ quan A")]
        assert _agencies(url, secret="wrong")["ErrorCode"] == "109"
    finally:
        process.terminate()
        process.wait(10)


def test_mounted_under_truc_vxp(vxp_database_url: str) -> None:
    main = Flask("main")
    main.add_url_rule("/", "home", lambda: "trang chủ")
    standin = create_app({"DATABASE_URL": vxp_database_url, "SYSTEMS": {"sys-vpcp": SECRETS["sys-vpcp"]},
                          "AGENCIES": {"sys-vpcp": ["000.00.00.G22"]}})
    prepare(standin)  # migrated already: a no-op upgrade, then the directory
    server = make_server("127.0.0.1", 0, mount(main, standin), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert urllib3.request("GET", base + "/").data.decode() == "trang chủ"
        answer = _agencies(base + VXP_PATH, "sys-vpcp", SECRETS["sys-vpcp"])
        assert answer["status"] == "OK" and "000.00.00.G22" in {a["code"] for a in answer["data"]}
        outside = urllib3.request("POST", base + "/getAgenciesList", body=b"")
        assert outside.status == 404  # the main app's, not the stand-in's
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        standin.extensions["vxp_standin"].db.dispose()


def test_configuration_from_the_environment_and_a_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VXP_STANDIN_SYSTEMS", json.dumps({"sys-env": "env-secret"}))
    monkeypatch.setenv("VXP_STANDIN_AGENCIES", json.dumps({"sys-env": ["000.00.00.E01"]}))
    monkeypatch.setenv("VXP_STANDIN_MAX_CLOCK_SKEW_SECONDS", "60")
    settings = create_app({"DATABASE_URL": "sqlite://"}).extensions["vxp_standin"].settings
    assert dict(settings.secrets) == {"sys-env": "env-secret"}
    assert [(a.code, a.system_id) for a in settings.agencies] == [("000.00.00.E01", "sys-env")]
    assert settings.max_skew.total_seconds() == 60 and not settings.add_trace_header

    file = tmp_path / "vxp.json"
    file.write_text(json.dumps({"SYSTEMS": {"sys-file": "file-secret"}, "ADD_TRACE_HEADER": True}))
    monkeypatch.setenv("VXP_STANDIN_CONFIG_FILE", str(file))
    monkeypatch.delenv("VXP_STANDIN_AGENCIES")
    settings = create_app({"DATABASE_URL": "sqlite://", "MAX_BODY_MB": 2}).extensions["vxp_standin"].settings
    assert dict(settings.secrets) == {"sys-file": "file-secret"}  # the file over the environment
    assert settings.add_trace_header and settings.max_body_bytes == 2 * 1024 * 1024


def test_agencies_of_an_unknown_system_refused_at_build() -> None:
    with pytest.raises(ValueError, match="sys-ghost"):
        create_app({"DATABASE_URL": "sqlite://", "SYSTEMS": {"a": "s"}, "AGENCIES": {"sys-ghost": ["X"]}})
