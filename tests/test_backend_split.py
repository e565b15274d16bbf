"""Tests that touch neither database nor storage are deselected on PostgreSQL
(tests/support/backend_split.py): the analysis keeps every test that reaches the variables
through a fixture, a helper of another module, a module alias, a fixture asked for by name, a
module constant or a class, and deselects only the others."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # collection never connects

HELPERS = '''
import os


def server_url():
    return os.environ.get("IOFFICE_TEST_DATABASE_URL", "")


def through_server_url():
    return server_url() + "x"


def pure(value):
    return value * 2
'''

CONFTEST = '''
import pytest

from tests.helpers import through_server_url


@pytest.fixture
def database_url():
    return through_server_url()


@pytest.fixture
def engine(database_url):
    return database_url


@pytest.fixture(name="store")
def _storage(request):
    import os
    return os.environ.get("IOFFICE_TEST_STORAGE", "local")


@pytest.fixture
def plain(tmp_path):
    return tmp_path
'''

CASES = '''
import pytest

from tests import helpers
from tests.helpers import pure, server_url


def _local_helper():
    return server_url()


def _harmless(client):  # a parameter named like a fixture is the caller's value
    return client


def test_pure(plain, rng):
    assert pure(2) == 4 and _harmless(1) == 1


@pytest.mark.parametrize("n", [1, 2])
def test_pure_parametrized(n):
    assert pure(n)


def test_fixture(database_url):
    pass


def test_fixture_through_another(engine):
    pass


def test_fixture_by_alias(store):
    pass


def test_fixture_by_name(request):
    request.getfixturevalue("database_url")


def test_helper_of_another_module():
    server_url()


def test_helper_of_this_module():
    _local_helper()


def test_module_alias():
    helpers.through_server_url()


def test_reads_the_variable_itself(monkeypatch):
    import os
    os.environ.get("IOFFICE_TEST_STORAGE")


@pytest.fixture(params=[pytest.param("here", marks=pytest.mark.backend_free), "there"])
def place(request):
    import os
    return os.environ.get("IOFFICE_TEST_DATABASE_URL") if request.param == "there" else "here"


def test_marked_parameter(place):
    pass


class TestPure:
    def test_method(self):
        assert pure(1) == 2


class TestDependent:
    def test_method(self, engine):
        pass

    def test_other_method(self):
        pass
'''

MODULE_LEVEL = '''
from tests.helpers import server_url

ON_PG = server_url().startswith("postgresql")


def test_anything():
    pass
'''

FREE = {"tests/test_cases.py::test_pure", "tests/test_cases.py::test_pure_parametrized[1]",
        "tests/test_cases.py::test_pure_parametrized[2]", "tests/test_cases.py::TestPure::test_method",
        "tests/test_cases.py::TestDependent::test_other_method",  # a method on its own
        "tests/test_cases.py::test_marked_parameter[here]"}


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A tiny ``tests`` package with the plugin, run in a subprocess from its own folder."""
    pytester.makeini("[pytest]\nmarkers =\n    backend_free: run once\n    ui_only: run once\n")
    pytester.makeconftest('pytest_plugins = ["tests.support.backend_split", "tests.seeds"]\n')
    tests = pytester.path / "tests"
    (tests / "support").mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    (tests / "support" / "__init__.py").write_text("")
    shutil.copy(ROOT / "tests" / "support" / "backend_split.py", tests / "support")
    (tests / "seeds.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef rng():\n    return 4\n")
    (tests / "helpers.py").write_text(HELPERS)
    (tests / "conftest.py").write_text(CONFTEST)
    (tests / "test_cases.py").write_text(CASES)
    (tests / "test_module_level.py").write_text(MODULE_LEVEL)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("IOFFICE_TEST_STORAGE", raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # pytest alone starts faster
    return pytester


def _collected(suite: pytest.Pytester, *args: str, database: str | None = PG) -> set[str]:
    with pytest.MonkeyPatch.context() as patch:
        if database is None:
            patch.delenv("IOFFICE_TEST_DATABASE_URL", raising=False)
        else:
            patch.setenv("IOFFICE_TEST_DATABASE_URL", database)
        result = suite.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider",
                                            "-p", "no:xdist", *args)
    assert result.ret == 0, result.stdout.str()
    return {line for line in result.outlines if "::" in line}


def test_on_postgresql_only_the_tests_touching_neither_are_left_out(suite: pytest.Pytester) -> None:
    assert _collected(suite, "--backend-free", "only") == FREE
    kept = _collected(suite)  # auto, on PostgreSQL
    assert len(kept) == 17 - len(FREE) and not kept & FREE


def test_on_sqlite_every_test_runs(suite: pytest.Pytester) -> None:
    assert len(_collected(suite, database="sqlite:///x.db")) == 17


def test_a_core_fixture_the_analysis_missed_stops_the_run(suite: pytest.Pytester) -> None:
    """The safety net: a conftest fixture that makes the app is never left out, even if the
    analysis cannot see that it depends on the backend."""
    conftest = suite.path / "tests" / "conftest.py"
    conftest.write_text(conftest.read_text() + '''

@pytest.fixture
def app(plain):
    return plain
''')
    (suite.path / "tests" / "test_app.py").write_text("def test_uses_app(app):\n    pass\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOFFICE_TEST_DATABASE_URL", PG)
        result = suite.runpytest_subprocess("--collect-only", "-q", "-p", "no:xdist")
    assert result.ret != 0
    assert "tests/test_app.py::test_uses_app, which uses app: fix the analysis" in result.stderr.str()


def test_a_ui_only_test_runs_once_though_it_uses_a_core_fixture(suite: pytest.Pytester) -> None:
    """``ui_only`` (a browser test of the page itself): on the live server's database, yet said to
    run once: left out on PostgreSQL without stopping the run, kept on SQLite, listed by ``only``."""
    (suite.path / "tests" / "test_page.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.ui_only\n\n\n"
        "def test_the_page(engine):\n    pass\n\n\n"
        "def test_pure_too():\n    pass\n")
    (suite.path / "tests" / "test_server.py").write_text("def test_on_the_server(engine):\n    pass\n")
    page = {"tests/test_page.py::test_the_page", "tests/test_page.py::test_pure_too"}
    server = "tests/test_server.py::test_on_the_server"
    on_pg = _collected(suite)
    assert not on_pg & page and server in on_pg
    assert page | {server} <= _collected(suite, database="sqlite:///x.db")
    assert _collected(suite, "--backend-free", "only") == FREE | page


def test_the_real_suite_keeps_a_modules_database_tests_and_leaves_its_pure_one(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/exchange/test_push.py: its tests run on the suite's database, but one makes its own
    SQLite key only; tests/test_db_transactions.py opens SQLite files of its own."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("IOFFICE_TEST_DATABASE_URL", PG)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.run(
        sys.executable, "-m", "pytest", "--collect-only", "-q",
        "-p", "no:cacheprovider", "--backend-free", "only",
        "tests/exchange/test_push.py", "tests/test_db_transactions.py")
    assert result.ret == 0, result.stdout.str()
    free = {line for line in result.outlines if "::" in line}
    assert "tests/exchange/test_push.py::test_a_commit_in_another_process_wakes_the_worker" in free
    pushes = [n for n in free if n.startswith("tests/exchange/test_push.py")]
    assert len(pushes) == 1, pushes
    assert sum(n.startswith("tests/test_db_transactions.py") for n in free) >= 8


def test_no_test_of_this_run_using_a_core_fixture_is_called_backend_free(
        request: pytest.FixtureRequest) -> None:
    """Over every test this process collected (the whole suite in a full run, on each xdist
    worker): the analysis and the safety net agree, and the split is printed."""
    from tests.support.backend_split import _core_fixtures, analysis

    found = analysis(request.config)
    items = request.session.items
    free = [item for item in items if found.reason(item) is None]
    wrong = [item.nodeid for item in free if _core_fixtures(item)]
    assert not wrong
    print(f"{len(free)} of {len(items)} collected tests touch neither database nor storage")
