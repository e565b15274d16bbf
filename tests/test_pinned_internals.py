"""Every library whose internals we replace or subclass is pinned to the exact release it was
checked against, in setup.cfg, and that release is the one installed; the internals each
relies on are still there. An upgrade fails here first: check the code named in the message
against the new release, then move the pin in setup.cfg and here.

* pyHanko and asn1crypto: ``signing/_pyhanko_speedups.py`` replaces functions of theirs
  (tests/signing/test_speedups.py checks each original's source by its sha256).
* pyhanko-certvalidator: ``signing/trust.py`` subclasses ``RevinfoManager`` (filling its
  private lists) and ``ValidationContext``.
* signxml: ``axis_connector/edxml/signature.py`` subclasses ``XMLSigner`` and ``XMLVerifier``,
  overriding private methods (tests/axis_connector/test_edxml_signature.py checks how signxml
  calls them).
"""

from __future__ import annotations

import configparser
import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest

PINNED = {
    "pyhanko": "0.38.0",
    "pyhanko-certvalidator": "0.33.0",
    "asn1crypto": "1.5.1",
    "signxml": "5.2.0",
}
SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"


def _requirements() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG)
    lines = parser["options"]["install_requires"].strip().splitlines()
    found = {}
    for line in lines:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*)", line)  # extras ignored
        if m and not line.strip().startswith("#"):
            found[m.group(1).lower()] = m.group(2).strip()
    return found


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_in_setup_cfg_and_installed(name: str) -> None:
    assert _requirements().get(name) == f"=={PINNED[name]}", (
        f"{name} must be pinned exactly in setup.cfg (its internals are patched or subclassed)")
    assert version(name) == PINNED[name], (
        f"{name} {version(name)} is installed, the code was checked against {PINNED[name]}: "
        "see this module's docstring")


def test_the_certvalidator_internals_the_trust_store_fills_are_there() -> None:
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.revinfo.manager import RevinfoManager

    source = inspect.getsource(RevinfoManager.__init__)
    for attribute in ("self._crls", "self._ocsps", "self._revocation_certs"):
        assert attribute in source, attribute
    assert "_extract_ocsp_certs" in source
    parameters = inspect.signature(ValidationContext.__init__).parameters
    for name in ("trust_roots", "certificate_registry", "poe_manager", "revinfo_manager",
                 "allow_fetching", "revocation_mode", "moment", "retroactive_revinfo"):
        assert name in parameters, name


def test_the_signxml_methods_our_subclasses_override_are_there() -> None:
    from signxml import XMLSigner, XMLVerifier

    from axis_connector.edxml.signature import _Signer, _Verifier

    for ours, theirs in ((_Signer, XMLSigner), (_Verifier, XMLVerifier)):
        for name, value in vars(ours).items():
            if not callable(value) or name.startswith("__"):
                continue
            original = getattr(theirs, name, None)
            assert callable(original), f"{theirs.__name__}.{name} is gone"
            if inspect.isfunction(value):
                assert list(inspect.signature(value).parameters)[:2] == list(
                    inspect.signature(original).parameters)[:2], f"{theirs.__name__}.{name}"
