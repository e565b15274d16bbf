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
* werkzeug (tests only, pinned in the ``test`` extra): ``tests/support/app_caches.py`` overrides
  ``Rule._compile_builder`` to reuse compiled URL builders across the tests' applications.
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
TEST_PINNED = {"werkzeug": "3.1.9"}
# sha256 of werkzeug 3.1.9's Rule._compile_builder source, which app_caches's key follows
WERKZEUG_COMPILE_BUILDER = "a0ec55cf067ff5d56185fecc0df5b3c7b5c3aaf6013adf01f1162842f3dcc07b"
SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"


def _requirements(section: str = "options", key: str = "install_requires") -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG)
    lines = parser[section][key].strip().splitlines()
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


@pytest.mark.parametrize("name", sorted(TEST_PINNED))
def test_pinned_in_the_test_extra_and_installed(name: str) -> None:
    assert _requirements("options.extras_require", "test").get(name) == f"=={TEST_PINNED[name]}", (
        f"{name} must be pinned exactly in setup.cfg's test extra (the tests subclass its internals)")
    assert version(name) == TEST_PINNED[name], (
        f"{name} {version(name)} is installed, tests/support/app_caches.py was checked against "
        f"{TEST_PINNED[name]}")


def test_the_werkzeug_builder_the_tests_cache_is_unchanged_and_reused_faithfully() -> None:
    """``Rule._compile_builder`` is the method checked against app_caches's key; and for every
    rule of the application, the builder the cache hands out is the code werkzeug compiles for
    that very rule (same bytecode, constants and argument names), for rules that share a cached
    builder too."""
    import hashlib

    from werkzeug.routing import Rule

    from ioffice import create_app
    from tests.support.app_caches import CachedBuilderRule

    source = inspect.getsource(Rule._compile_builder)
    assert hashlib.sha256(source.encode()).hexdigest() == WERKZEUG_COMPILE_BUILDER, (
        "werkzeug's Rule._compile_builder changed: check tests/support/app_caches.py's key")
    for _ in range(2):  # the second application's rules all come from the cache
        app = create_app({"TESTING": True, "SECRET_KEY": "x"})
        rules = list(app.url_map.iter_rules())
        assert len(rules) > 100 and all(isinstance(r, CachedBuilderRule) for r in rules)
        for rule in rules:
            for append_unknown in (False, True):
                cached = rule._compile_builder(append_unknown).__code__
                fresh = Rule._compile_builder(rule, append_unknown).__code__
                assert (cached.co_code, cached.co_consts, cached.co_varnames) == (
                    fresh.co_code, fresh.co_consts, fresh.co_varnames), rule.rule
