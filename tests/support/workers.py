"""Names for what a test process owns, so parallel workers (pytest-xdist) and parallel runs
(two developers, or CI and a developer, on one PostgreSQL server) never share one.

Each xdist worker is its own process with its own session fixtures: its own databases, SeaweedFS
server, gunicorn servers and temporary folders. The names say which worker made them
(``PYTEST_XDIST_WORKER``: ``gw0``, ``gw1``, ...; ``main`` without xdist) and end with its process
id, which is what keeps two runs apart and lets a later run drop what a killed one left.
"""

from __future__ import annotations

import os
import re


def worker_id() -> str:
    """``gw0``, ``gw1``, ... under pytest-xdist; ``main`` in a serial run."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def owned_name(base: str) -> str:
    """``<base>_<worker>_<pid>``: a database, schema or bucket name of this test process."""
    return f"{base}_{worker_id()}_{os.getpid()}"


_OWNER_RE = re.compile(r"_(?:gw\d+|main)_(\d+)$")


def owner_pid(name: str) -> int | None:
    """The process id at the end of a name made by :func:`owned_name`, else None."""
    match = _OWNER_RE.search(name)
    return int(match.group(1)) if match else None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

