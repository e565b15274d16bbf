"""Two real hub processes (gunicorn): Cà Mau's provincial platform and the national axis, each on
its own SQLite file, talking HTTP. The forwarder runs as the ``forward`` command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from axis_connector.client import AxisClient
from axis_connector.edxml import StatusCode, parse_document_package, parse_status_package
from axis_connector.hub import migrate
from axis_connector.hub.db import Database
from axis_connector.hub.services import OPERATOR, AgencyInput, HubSettings, add_system, register_agency
from tests.axis_connector.pki import Identity

from .conftest import CA_MAU, HUB_ORGAN_ID, SECRETS, SO_TTTT, VPCP, make_document, make_status, pem, sign
from .test_routing import LGSP_SECRET, NATIONAL_ID, VPCP_SECRET, setup_national

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _setup_provincial(url: str, seals: dict[str, Identity]) -> None:
    db = Database(url)
    with db.session() as session:
        for system_id, org in (("sys-camau", CA_MAU), ("sys-sotttt", SO_TTTT)):
            add_system(session, system_id, system_id, SECRETS[system_id])
            register_agency(session, HubSettings(organ_id=HUB_ORGAN_ID), OPERATOR, AgencyInput(
                org.organ_id, org.organ_name, level="tỉnh", certificate_pem=pem(seals[org.organ_id]),
                system_id=system_id))
        session.commit()
    db.dispose()


def _env(tmp_path: Path, name: str, organ_id: str, root_ca: Identity, **extra: str) -> dict[str, str]:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(pem(root_ca))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXIS_")}
    env.update({"AXIS_DATABASE_URL": f"sqlite:///{tmp_path / name}.db", "AXIS_ORGAN_ID": organ_id,
                "AXIS_NAME": name, "AXIS_TRUSTED_CA_FILE": str(ca_file), "AXIS_MAX_PACKAGE_MB": "4",
                "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    env.update({f"AXIS_{k}": v for k, v in extra.items()})
    return env


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "axis_connector.hub:create_app()"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    pool = urllib3.PoolManager(retries=False)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hub on port {port} exited: {log.read_text()}")
        try:
            if pool.request("GET", f"http://127.0.0.1:{port}/", timeout=1).status == 200:
                return
        except urllib3.exceptions.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"hub on port {port} did not start: {log.read_text()}")


@pytest.fixture
def hubs(tmp_path: Path, root_ca: Identity, seals: dict[str, Identity]) -> Iterator[dict[str, object]]:
    national_port, provincial_port = _free_port(), _free_port()
    national_env = _env(tmp_path, "national", NATIONAL_ID, root_ca)
    provincial_env = _env(tmp_path, "provincial", HUB_ORGAN_ID, root_ca,
                          UPSTREAM_URL=f"http://127.0.0.1:{national_port}", UPSTREAM_SYSTEM_ID="lgsp-camau",
                          UPSTREAM_SECRET=LGSP_SECRET, SERVED_PATTERNS="*.H12")
    for env in (national_env, provincial_env):
        migrate.upgrade(env["AXIS_DATABASE_URL"])
    setup_national(national_env["AXIS_DATABASE_URL"], seals)
    _setup_provincial(provincial_env["AXIS_DATABASE_URL"], seals)
    processes = []
    try:
        for env, port, name in ((national_env, national_port, "national"),
                                (provincial_env, provincial_port, "provincial")):
            log = tmp_path / f"{name}.log"
            processes.append(_serve(env, port, log))
            _wait_ready(port, processes[-1], log)
        yield {"national": f"http://127.0.0.1:{national_port}",
               "provincial": f"http://127.0.0.1:{provincial_port}", "provincial_env": provincial_env}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _forward(env: dict[str, str]) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "axis_connector.hub", "forward", "--once"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_up_and_down_through_two_hub_processes(hubs: dict[str, object], seals: dict[str, Identity]) -> None:
    camau = AxisClient(str(hubs["provincial"]), "sys-camau", SECRETS["sys-camau"], timeout=10)
    vpcp = AxisClient(str(hubs["national"]), "sys-vpcp", VPCP_SECRET, timeout=10)
    env = hubs["provincial_env"]
    assert isinstance(env, dict)

    document = sign(make_document(), seals[CA_MAU.organ_id])
    sent = camau.send_edoc(document)
    assert camau.send_edoc(document).message_id == sent.message_id
    assert "forwarded 1" in _forward(env)

    [item] = vpcp.get_received_edoc_list()
    package = parse_document_package(vpcp.get_edoc(item.message_id).package)
    assert [t.organ_id for t in package.trace[-2:]] == [HUB_ORGAN_ID, NATIONAL_ID]  # up: two hops
    vpcp.update_status(item.message_id, "delivered")

    vpcp.send_edoc(sign(make_status(StatusCode.ARRIVED), seals[VPCP.organ_id]), "status")
    assert "pulled 1" in _forward(env)
    [status_item] = camau.get_received_edoc_list("status")
    status = parse_status_package(camau.get_edoc(status_item.message_id).package)
    assert [t.organ_id for t in status.trace] == [NATIONAL_ID, HUB_ORGAN_ID]  # down: two hops
    camau.update_status(status_item.message_id, "delivered")
    assert camau.get_received_edoc_list() == []
    [mine] = camau.get_sent_edoc_list()
    assert {r.organ_id: r.state for r in mine.recipients} == {VPCP.organ_id: "forwarded",
                                                              SO_TTTT.organ_id: "pending"}
