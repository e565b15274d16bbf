"""The browser groups (tests/support/worker_split.py) subclass pytest-xdist's
``LoadScopeScheduling`` and override its ``_split_scope``, a private method: any release other
than the pinned one must be checked before it is taken."""

from __future__ import annotations

import inspect

import pytest

xdist = pytest.importorskip("xdist")

PINNED = "3.8.0"


def test_pytest_xdist_is_the_pinned_release() -> None:
    assert xdist.__version__ == PINNED, (
        f"pytest-xdist {xdist.__version__} is not {PINNED}: check tests/support/worker_split.py "
        "(and whether xdist_group marks work again), then move the pin in setup.cfg and here")


def test_the_scope_hook_is_there() -> None:
    from xdist.scheduler import LoadScopeScheduling

    assert list(inspect.signature(LoadScopeScheduling._split_scope).parameters) == ["self",
                                                                                 "nodeid"]
    assert list(inspect.signature(LoadScopeScheduling.__init__).parameters)[:3] == [
        "self", "config", "log"]


def test_browser_tests_share_their_servers_group() -> None:
    from tests.support.worker_split import group_of

    assert group_of("tests/browser/test_story.py::test_x") == "axis_server"
    assert group_of("tests/browser/test_metrics_live.py::test_x") == "axis_server"
    # found from the source: no list of file names to forget one in (it started a second server)
    assert group_of("tests/browser/test_received_flags.py::test_x") == "axis_server"
    assert group_of("tests/browser/test_phone.py::test_y") == "live_server"
    assert group_of("tests/web/test_logs.py::test_z") == "tests/web/test_logs.py::test_z"


def test_a_module_with_a_module_fixture_stays_on_one_worker() -> None:
    from tests.support.worker_split import group_of

    assert group_of("tests/web/test_slow_clients.py::test_a") == "tests/web/test_slow_clients.py"
    assert group_of("tests/test_package.py::test_b[sqlite]") == "tests/test_package.py"
