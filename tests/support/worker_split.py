"""A pytest plugin: under xdist, a summary line per worker at the end of the run."""

from __future__ import annotations

import pytest


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


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is None:  # the xdist controller, or a serial run
        config.pluginmanager.register(WorkerSplit(), "ioffice-worker-split")
