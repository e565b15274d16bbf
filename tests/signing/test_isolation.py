"""``import signing`` (and ``import axis_connector``) leave pyHanko, asn1crypto, signxml and lxml
as they are: only an explicit ``signing.install_speedups()`` (the app factory's, the worker's,
the benchmarks') replaces functions of theirs. Checked in a fresh interpreter, since this test
process has the speed-ups installed (tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lists, for every function or property reachable from a loaded module of these libraries (the
# module's own functions and those of its classes), the ones defined outside the library.
_SCAN = r"""
import importlib, inspect, json, pkgutil, sys

LIBRARIES = ("pyhanko", "pyhanko_certvalidator", "asn1crypto", "signxml", "lxml")

def foreign():
    found = []
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in LIBRARIES:
            continue
        owners = [(name, vars(module))]
        for attr, value in list(vars(module).items()):
            if inspect.isclass(value) and getattr(value, "__module__", "") == name:
                owners.append((f"{name}.{attr}", vars(value)))
        for owner, namespace in owners:
            for attr, value in list(namespace.items()):
                if isinstance(value, property):
                    value = value.fget
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if not inspect.isfunction(value):
                    continue
                home = (value.__module__ or "").split(".")[0]
                if home not in LIBRARIES and owner.split(".")[0] != home:
                    # a library's module exposing another library's function is fine
                    if home in ("signing", "axis_connector", "ioffice"):
                        found.append(f"{owner}.{attr} -> {value.__module__}")
    return sorted(found)

import signing
for info in pkgutil.iter_modules(signing.__path__):
    if info.name != "__main__":
        importlib.import_module(f"signing.{info.name}")
import axis_connector.edxml, axis_connector.edxml.signature
before = foreign()
signing.install_speedups()
after = foreign()
print(json.dumps({"imported": before, "installed": after}))
"""


def _scan() -> dict[str, list[str]]:
    out = subprocess.run([sys.executable, "-c", _SCAN], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""},
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_libraries_changes_nothing_in_pyhanko_asn1crypto_signxml_lxml() -> None:
    scan = _scan()
    assert scan["imported"] == []
    # the scan does see a replacement: after the explicit install, exactly the speed-ups
    from signing import _pyhanko_speedups

    labels = {label.rsplit(".", 1)[-1] for label, on in _pyhanko_speedups.active().items() if on}
    seen = {entry.split(" -> ")[0].rsplit(".", 1)[-1] for entry in scan["installed"]}
    assert seen == labels, scan["installed"]
    assert all(entry.endswith("-> signing._pyhanko_speedups") for entry in scan["installed"])
