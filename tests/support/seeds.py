"""One seed per run, so a test that draws random numbers can be replayed after a failure.

The seed comes from ``--seed N``, else ``IOFFICE_TEST_SEED``, else a fresh random one; it is
printed in the header of every run and under every failure. Each test derives its own stream from
the seed and its node id, so it draws the same numbers whatever ran before it, on whichever xdist
worker: ``IOFFICE_TEST_SEED=N pytest path::test`` replays one test of a failed full run.

- ``rng`` (fixture): a ``random.Random`` of the test's own stream.
- ``seed`` (fixture): the run's seed, for tests that build their own generators.
- The module-level ``random`` functions are reseeded from the same stream before each test.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

ENV = "IOFFICE_TEST_SEED"
_SEED = pytest.StashKey[int]()
_WORKER_INPUT = "ioffice_test_seed"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--seed", type=int, default=None, metavar="N",
                     help=f"seed of the tests' random numbers (default: ${ENV}, else a random one)")


def _choose(config: pytest.Config) -> int:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _WORKER_INPUT in workerinput:
        return int(workerinput[_WORKER_INPUT])  # the controller's choice: one seed per run
    given = config.getoption("seed")
    if given is not None:
        return given
    if os.environ.get(ENV):
        return int(os.environ[ENV])
    return random.SystemRandom().randrange(2**32)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SEED] = _choose(config)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistSeed(config.stash[_SEED]), "ioffice-xdist-seed")


class _XdistSeed:
    """Hands the controller's seed to every worker (registered only when xdist is installed:
    ``pytest_configure_node`` is an xdist hook)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def pytest_configure_node(self, node) -> None:  # xdist's WorkerController
        node.workerinput[_WORKER_INPUT] = self.seed


def run_seed(config: pytest.Config) -> int:
    return config.stash[_SEED]


def stream(seed: int, nodeid: str) -> random.Random:
    """The test's own generator: a function of the run's seed and the test's node id only."""
    return random.Random(f"{seed}:{nodeid}")


def stable_nodeid(item: pytest.Item) -> str:
    """The node id without the ``@group`` suffix ``--dist loadgroup`` adds to grouped tests, so
    a test draws the same numbers with or without xdist."""
    groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                     for m in item.iter_markers("xdist_group")})
    suffix = "@" + "_".join(groups)
    return item.nodeid.removesuffix(suffix) if groups else item.nodeid


def pytest_report_header(config: pytest.Config) -> str:
    seed = run_seed(config)
    return f"random seed: {seed} (replay with {ENV}={seed} or --seed {seed})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed:
        seed = run_seed(item.config)
        report.sections.append(("random seed", f"{ENV}={seed} pytest '{stable_nodeid(item)}' replays "
                                               "this test's random numbers"))
    return report


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    return run_seed(request.config)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return stream(run_seed(request.config), stable_nodeid(request.node))


@pytest.fixture(autouse=True)
def _seed_module_random(request: pytest.FixtureRequest) -> Iterator[None]:
    """Code that calls ``random.random()`` and friends directly replays too."""
    state = random.getstate()
    random.seed(f"{run_seed(request.config)}:{stable_nodeid(request.node)}:module")
    yield
    random.setstate(state)
