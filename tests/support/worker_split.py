"""A pytest plugin for xdist runs: the browser tests' groups, and a summary line per worker.

``--dist loadgroup`` is meant to keep tests marked ``xdist_group`` on one worker, but
pytest-xdist 3.8 tags them by assigning ``item._nodeid``, which pytest 9 no longer reads (the
node id lives in ``item._id``): every test is then handed out alone. So the groups are made here,
on the controller, from the node ids: the tests of ``tests/browser/`` share one live server
(``live_server``, started per worker with its database, demo load and Chromium) and run on one
worker; the modules on ``axis_server`` (the story, the received flags, the live metrics: every
module of ``tests/browser/`` whose source names ``axis_server``) are a second group, so the two
servers may start on the two workers at once, and each starts once. (A list of file names
missed ``test_received_flags.py``: its test started a second ``axis_server``, 27 s of setup in
CI, on the live server's worker.) The tests of a module with a fixture of module scope
(``tests/web/test_slow_clients.py``'s server, ``tests/test_package.py``'s installed package...)
stay together too: handed out alone, two workers each set the fixture up (the baseline of
2026-12-04 started the slow-clients server twice, 46 s each on the loaded machine). Every other
test is handed out alone, as ``load`` does.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

BROWSER = "tests/browser/"
AXIS_SERVER = re.compile(r"\baxis_server\b")


ROOT = Path(__file__).resolve().parents[2]
_MODULE_SCOPE = re.compile(r"""scope\s*=\s*["']module["']""")


@functools.cache
def _has_module_fixture(path: Path) -> bool:
    try:
        return bool(_MODULE_SCOPE.search(path.read_text(encoding="utf-8")))
    except OSError:
        return False


@functools.cache
def _names_axis_server(path: Path) -> bool:
    """A browser module on the ``make run``-like server (its tests or fixtures ask for it)."""
    try:
        return bool(AXIS_SERVER.search(path.read_text(encoding="utf-8")))
    except OSError:
        return False


def group_of(nodeid: str, root: Path = ROOT) -> str:
    """The scope a test is scheduled with: its group; else its module, when the module has a
    fixture of module scope (a server, a token, an installed package: set up once, not once per
    worker its tests land on); else its own node id."""
    module = nodeid.split("::", 1)[0]
    if nodeid.startswith(BROWSER):
        return "axis_server" if _names_axis_server(root / module) else "live_server"
    if module.endswith(".py") and _has_module_fixture(root / module):
        return module
    return nodeid


def _scheduler_class(root: Path = ROOT):
    from xdist.scheduler import LoadScopeScheduling

    class BrowserGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid, root)

    return BrowserGroupScheduling


class WorkerSplit:
    """Under xdist, a line per worker at the end of the run: how many tests it ran and how long
    they took (setup, call and teardown), to see whether the groups balance."""

    def __init__(self) -> None:
        self.tests: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = getattr(report, "node", None)
        worker = getattr(getattr(node, "gateway", None), "id", None)
        if worker is None:
            return
        self.seconds[worker] = self.seconds.get(worker, 0.0) + report.duration
        if report.when == "call" or (report.when == "setup" and report.skipped):
            self.tests[worker] = self.tests.get(worker, 0) + 1

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.seconds:
            return
        terminalreporter.section("tests per worker")
        for worker in sorted(self.seconds):
            terminalreporter.write_line(f"{worker}: {self.tests.get(worker, 0)} tests, "
                                        f"{self.seconds[worker]:.0f} s in setup/call/teardown")


class _Scheduler:
    """Registered only with xdist installed: ``pytest_xdist_make_scheduler`` is its hook."""

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        if config.getvalue("dist") != "loadgroup":
            return None
        return _scheduler_class(config.rootpath)(config, log)


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is None:  # the xdist controller, or a serial run
        config.pluginmanager.register(WorkerSplit(), "ioffice-worker-split")
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_Scheduler(), "ioffice-browser-groups")
