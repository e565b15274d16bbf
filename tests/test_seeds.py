"""The run's random seed (tests/support/seeds.py): printed, settable, the same on every xdist
worker, and enough to replay one test's random numbers alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DRAWS = """
import random

def test_draw(rng):
    print("DRAW", rng.randrange(10**9), random.randrange(10**9))

def test_other(rng):
    print("OTHER", rng.randrange(10**9))

def test_fails(rng):
    assert rng.randrange(10**9) < 0
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A tiny suite of its own, run in a subprocess with the seeds plugin."""
    pytester.makeconftest('pytest_plugins = ["tests.support.seeds"]\n')
    pytester.makepyfile(test_draws=DRAWS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("IOFFICE_TEST_SEED", raising=False)
    # pytest and the seeds alone: the installed plugins (schemathesis, hypothesis, ...) took most
    # of each run's seconds; the xdist test loads xdist by name
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def _run(suite: pytest.Pytester, *args: str, seed: str | None = None) -> pytest.RunResult:
    env = () if seed is None else ("--seed", seed)
    return suite.runpytest_subprocess("-s", "-p", "no:cacheprovider", *env, *args)


def _draws(result: pytest.RunResult, tag: str) -> list[str]:
    return [line.split(tag, 1)[1].strip() for line in result.outlines if f"{tag} " in line]


def test_the_seed_is_printed_and_replays_the_draws(suite: pytest.Pytester) -> None:
    first = _run(suite, "-k", "draw")
    seed = re.search(r"random seed: (\d+)", first.stdout.str())
    assert seed, first.stdout.str()
    again = _run(suite, "-k", "draw", seed=seed.group(1))
    assert _draws(again, "DRAW") == _draws(first, "DRAW") != []
    other = _run(suite, "-k", "draw", seed=str(int(seed.group(1)) + 1))
    assert _draws(other, "DRAW") != _draws(first, "DRAW")


def test_a_test_draws_the_same_alone_as_in_the_whole_run(suite: pytest.Pytester) -> None:
    whole = _run(suite, seed="1234")
    alone = _run(suite, "test_draws.py::test_draw", seed="1234")
    assert _draws(alone, "DRAW") == _draws(whole, "DRAW") != []


def test_a_failure_says_how_to_replay_it(suite: pytest.Pytester) -> None:
    result = _run(suite, seed="987")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*random seed*", "*IOFFICE_TEST_SEED=987 pytest*test_fails*replays*"])


def test_the_environment_variable_sets_the_seed(suite: pytest.Pytester,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOFFICE_TEST_SEED", "1234")
    by_env = _run(suite, "-k", "draw")
    by_env.stdout.fnmatch_lines(["*random seed: 1234*"])
    monkeypatch.delenv("IOFFICE_TEST_SEED")
    assert _draws(by_env, "DRAW") == _draws(_run(suite, "-k", "draw", seed="1234"), "DRAW")


def _failed_draw(result: pytest.RunResult) -> str:
    found = re.search(r"assert (\d+) < 0", result.stdout.str())
    assert found, result.stdout.str()
    return found.group(1)


def test_every_xdist_worker_draws_from_the_controllers_seed(suite: pytest.Pytester) -> None:
    """No seed given: the controller draws one and hands it to the workers, so the seed the
    header prints replays what a worker drew (a worker drawing its own would not)."""
    pytest.importorskip("xdist")
    parallel = _run(suite, "-p", "xdist", "-n", "2", "--dist", "loadgroup")
    seed = re.search(r"random seed: (\d+)", parallel.stdout.str())
    assert seed, parallel.stdout.str()
    serial = _run(suite, "-p", "xdist", "-n0", seed=seed.group(1))
    assert _failed_draw(parallel) == _failed_draw(serial)
