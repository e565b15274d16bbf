"""Start-up checks: a wrong database, a database not upgraded, or storage that cannot be reached
stops the service with one line naming which and exit 1 (gunicorn's master and the worker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ioffice import create_app
from ioffice.startup import problems

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "BLOB_DIR": str(tmp_path / "blobs"),
            "SECRET_KEY": "x" * 32, "PKI_DIR": str(tmp_path / "pki"), "PKI_PASSPHRASE": "p" * 20,
            **extra}


def test_a_database_that_is_not_upgraded_is_named_with_the_command(tmp_path: Path) -> None:
    (found,) = problems(create_app(_config(tmp_path)))
    assert "chưa được nâng cấp" in found and "chưa có bảng nào" in found
    assert "ioffice db upgrade" in found and "db.sqlite" in found


def test_an_upgraded_database_and_writable_storage_pass(database_url: str, engine,
                                                        tmp_path: Path) -> None:
    assert problems(create_app(_config(tmp_path, DATABASE_URL=database_url))) == []


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://ioffice:hemmelig@127.0.0.1:{_closed_port()}/ioffice"
    (found,) = problems(create_app(_config(tmp_path, DATABASE_URL=url)))
    assert found.startswith("Không kết nối được cơ sở dữ liệu")
    assert "IOFFICE_DATABASE_URL" in found and "hemmelig" not in found and "***" in found


def test_unreachable_object_storage_is_named(database_url: str, engine, tmp_path: Path) -> None:
    config = _config(tmp_path, DATABASE_URL=database_url, STORAGE="s3",
                     S3_ENDPOINT=f"http://127.0.0.1:{_closed_port()}", S3_ACCESS_KEY="k",
                     S3_SECRET_KEY="s", S3_BUCKET="ioffice-startup")
    (found,) = problems(create_app(config))
    assert found.startswith("Không truy cập được kho lưu trữ S3 http://127.0.0.1:")
    assert "ioffice-startup" in found


@pytest.mark.parametrize("value", ["ioffice.camau.gov.vn", "ftp://ioffice.camau.gov.vn",
                                   "http://", "https://ioffice.camau.gov.vn/?x=1"])
def test_a_public_url_validators_cannot_use_is_named(database_url: str, engine, tmp_path: Path,
                                                     value: str) -> None:
    (found,) = problems(create_app(_config(tmp_path, DATABASE_URL=database_url,
                                           PUBLIC_URL=value)))
    assert found.startswith(f"IOFFICE_PUBLIC_URL «{value}» không phải địa chỉ http(s)")


def test_a_public_url_with_a_path_passes(database_url: str, engine, tmp_path: Path) -> None:
    config = _config(tmp_path, DATABASE_URL=database_url,
                     PUBLIC_URL="https://cong.camau.gov.vn/ioffice/")
    assert problems(create_app(config)) == []

@pytest.mark.parametrize(("settings", "named"), [
    ({"TSA_URL": "ftp://tsa.example.gov.vn/"}, "http:// or https://"),
    ({"TSA_URL": "https://tsa.example.gov.vn/", "TSA_TIMEOUT": "mười"}, "IOFFICE_TSA_TIMEOUT"),
    ({"TSA_URL": "https://tsa.example.gov.vn/", "TSA_USERNAME": "u", "TSA_BEARER_TOKEN": "t"},
     "not both"),
])
def test_bad_tsa_settings_are_named(database_url: str, engine, tmp_path: Path,
                                    settings: dict[str, object], named: str) -> None:
    (found,) = problems(create_app(_config(tmp_path, DATABASE_URL=database_url, **settings)))
    assert found.startswith("Cấu hình máy chủ cấp dấu thời gian (IOFFICE_TSA_*) không hợp lệ")
    assert named in found

@pytest.mark.parametrize("days", ["sáu tháng", -1, "nan"])
def test_a_bad_retimestamp_horizon_is_named(database_url: str, engine, tmp_path: Path,
                                            days: object) -> None:
    (found,) = problems(create_app(_config(tmp_path, DATABASE_URL=database_url,
                                           RETIMESTAMP_DAYS=days)))
    assert found.startswith("IOFFICE_RETIMESTAMP_DAYS phải là một số ngày không âm")


def test_a_malformed_seal_token_setting_is_named(database_url: str, engine,
                                                 tmp_path: Path) -> None:
    config = _config(tmp_path, DATABASE_URL=database_url,
                     SEAL_TOKENS={"000.00.00.H12": {"module": "/m.so", "token": "T"}})
    (found,) = problems(create_app(config))
    assert found.startswith("Cấu hình token con dấu số không hợp lệ: IOFFICE_SEAL_TOKENS")
    assert "000.00.00.H12" in found and "key_label" in found


def test_gunicorn_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    """The real command of `make run`, on a database nobody upgraded."""
    env = {**os.environ, "IOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "IOFFICE_INSTANCE_PATH": str(tmp_path / "instance"), "IOFFICE_PLAIN_HTTP": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    proc = subprocess.run(
        [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{_closed_port()}",
         "-c", "python:ioffice.exchange.gunicorn_hooks", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("iOffice không khởi động")]
    assert len(lines) == 1 and "ioffice db upgrade" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["exchange", "worker", "--once"]])
def test_the_exchange_worker_refuses_too(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "IOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "IOFFICE_INSTANCE_PATH": str(tmp_path / "instance")}
    proc = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "iOffice không khởi động: Cơ sở dữ liệu" in proc.stderr
