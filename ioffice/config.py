"""Configuration: defaults, then the environment (``IOFFICE_`` prefix), then explicit overrides.

Every setting is documented in README.md ("Environment variables").
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: sqlite file in the instance folder
    "STORAGE": "local",
    "BLOB_DIR": None,  # default: <instance>/blobs
    "S3_ENDPOINT": "http://127.0.0.1:8333",
    "S3_ACCESS_KEY": "",
    "S3_SECRET_KEY": "",
    "S3_BUCKET": "ioffice",
    "S3_REGION": None,
    "MAX_UPLOAD_MB": 50,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # default: on, unless PLAIN_HTTP
    "PLAIN_HTTP": False,  # the operator serves plain HTTP on purpose (make run, tests)
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # idle: slides on each page load
    "SESSION_ABSOLUTE_LIFETIME": 12 * 3600,  # from login, however active the session
    "RATELIMIT_STORAGE_URI": "memory://",  # redis://host:6379 when several processes serve
    "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on a 429
    "LOGIN_RATE_LIMIT": "10 per minute; 100 per hour",  # refused logins per client address
    "API_AUTH_RATE_LIMIT": "20 per minute; 200 per hour",  # refused API tokens per address
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "LOG_FORMAT": "json",  # "text" for a person at a console (docs/deploy.md "Logs")
    "LOG_LEVEL": "INFO",
    "METRICS_TOKEN": "",  # /metrics exists only when set; scrapes send it as a bearer token
    "PROXY_COUNT": 0,  # reverse proxies in front of the app whose X-Forwarded-* to trust
    "PKI_DIR": None,  # default: <instance>/pki
    "PKI_PASSPHRASE": None,  # default: random, kept in <instance>/pki_passphrase
    "PUBLIC_URL": None,  # e.g. https://ioffice.camau.gov.vn: certificates name <it>/pki/... URLs
    "TSA_URL": None,  # RFC 3161 over HTTP; unset: sealing fails (or B-B, see TSA_FALLBACK_BB)
    "TSA_USERNAME": None,  # HTTP basic authentication at the TSA, with TSA_PASSWORD
    "TSA_PASSWORD": None,
    "TSA_BEARER_TOKEN": None,  # or a bearer token (not both)
    "TSA_TIMEOUT": 10,  # seconds for one timestamp request, connecting and answer included
    "TSA_FALLBACK_BB": False,  # TSA unavailable: seal without a timestamp (B-B), noted
    "TSA_SERVE": False,  # serve the simulated PKI's TSA at POST /pki/tsa (make run, tests)
    "TSA_RATE_LIMIT": "120 per minute; 3000 per hour",  # requests to /pki/tsa per address
    "OCSP_RATE_LIMIT": "300 per minute; 10000 per hour",  # requests to /pki/ocsp per address
    "RETIMESTAMP_DAYS": 180,  # archival timestamp for documents whose TSA cert expires sooner
    "SEAL_TOKENS": {},  # agency code -> PKCS#11 token holding its seal (ioffice/keys/tokens.py)
    "SIMULATED_CA": True,  # trust the simulated PKI's root besides the imported anchors
    "TRUST_RECHECK_SECONDS": 10.0,  # how stale a process's view of the imported anchors may be
    "HELD_UPLOAD_HOURS": 4,  # a file kept for a refused form waits this long for its resubmission
    "CLEANUP_GRACE_HOURS": 24,  # orphaned blobs and temporary uploads older than this go
}


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("IOFFICE")
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'ioffice.db'}"
    if not app.config.get("BLOB_DIR"):
        app.config["BLOB_DIR"] = str(instance / "blobs")
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not app.config.get("PLAIN_HTTP")
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if not app.config.get("PKI_DIR"):
        app.config["PKI_DIR"] = str(instance / "pki")
    if not app.config.get("PKI_PASSPHRASE"):
        app.config["PKI_PASSPHRASE"] = _instance_secret(instance, "pki_passphrase")


def _instance_secret(instance: Path, name: str = "secret_key") -> str:
    """A per-installation secret kept in the instance folder, never in the repository.

    Several processes on one host share it through the file; deployments on several hosts set
    IOFFICE_SECRET_KEY instead.
    """
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # first writer wins; others read its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
