"""Tests that touch neither the database nor the blob storage run once, in the SQLite run.

CI runs the suite twice (``.ci/run``): on SQLite with local blobs, then on PostgreSQL with S3
storage. Every test that touches the database or the storage must pass on both; a test that
touches neither (signing, edXML, PDF, OCR, pure functions, the seeds' plugin...) does the same
thing in both runs, so on PostgreSQL (``IOFFICE_TEST_DATABASE_URL=postgresql...``) it is
deselected. ``--backend-free`` chooses: ``auto`` (that default), ``run`` (keep them on
PostgreSQL too), ``skip`` (deselect them on SQLite too) or ``only`` (run, or with
``--collect-only -q`` list, only them).

Which tests depend on the backend is worked out from the source, never declared by hand, and
errs on the side of keeping a test:

1. Every function under ``tests/`` (test, fixture or helper) whose body names
   ``IOFFICE_TEST_DATABASE_URL`` or ``IOFFICE_TEST_STORAGE`` depends on the backend, and so does
   every function whose body names one that does (by name, to a fixed point: a helper of
   ``tests/support/pg.py``, the ``database_url`` fixture, the fixtures built on it...). Names
   given as strings count (``request.getfixturevalue("database_url")``).
2. A test depends on the backend when a fixture of its closure (``item.fixturenames``: every
   fixture it uses, directly or through other fixtures, autouse ones included) has the name of a
   function of 1, when its own body names one, or when its module's or class's top-level code
   (outside functions) names one or the environment variables.

A test (or a fixture's parameter) the analysis cannot tell apart can be marked
``@pytest.mark.backend_free`` (``pytest.param("sqlite", marks=pytest.mark.backend_free)``): the
``[sqlite]`` installation of ``tests/test_package.py`` is the same in both runs. The safety net
below still holds for it.

A browser test of what the page does in the browser (layout, forms, scripts, screenshots) is
marked ``ui_only`` (``pytestmark`` of its module): it runs on the live server with its database
like every browser test, but what it asks of the server, the views and services, runs on both
databases in the view tests, and the live server keeps local blobs in both runs; so it too runs
only in the SQLite run (the safety net below does not apply to it: it is not backend-free, it is
said to run once). Browser tests that do on the live server what the view tests cannot (work in
another process or connection at the same time: the bell's stream, the OCR worker, a session
ended from another request, the axis server's exchange worker) are not marked: docs/testing.md
lists which and why.

A same-named function elsewhere makes a test depend on the backend: the error keeps a test.
``tests/test_backend_split.py`` checks the analysis and that the tests deselected on PostgreSQL
use none of the fixtures that create a database, an app or a live server.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ENV_NAMES = ("IOFFICE_TEST_DATABASE_URL", "IOFFICE_TEST_STORAGE")
# A safety net under the analysis: a test requesting one of these fixtures of a conftest.py is
# never deselected (they create the database, the app bound to it, or a live server); if the
# analysis ever says otherwise, the run stops with the test's name.
CORE_FIXTURES = frozenset({"database_url", "engine", "connection", "db", "app", "client",
                           "storage_config", "live_server", "axis_server", "hub_database_url",
                           "vxp_database_url"})
CHOICES = ("auto", "run", "skip", "only")
_ANALYSIS = pytest.StashKey["BackendAnalysis"]()


def on_postgresql() -> bool:
    return os.environ.get("IOFFICE_TEST_DATABASE_URL", "").startswith("postgresql")


Key = tuple[Path, str]  # (module file, top-level function or class name, or MODULE)
MODULE = "<module>"


def _env_named(nodes: Iterable[ast.AST]) -> bool:
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                    env in node.value for env in ENV_NAMES):
                return True
    return False


def _fixture_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The names a ``@pytest.fixture`` function is requested by (its own, or ``name=``)."""
    names: set[str] = set()
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (isinstance(target, ast.Attribute) and target.attr == "fixture") or (
                isinstance(target, ast.Name) and target.id == "fixture"):
            names.add(func.name)
            if isinstance(deco, ast.Call):
                for kw in deco.keywords:
                    if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                        names = {str(kw.value.value)}
    return names


def _code(body: list[ast.stmt]) -> list[ast.stmt]:
    """A body without its docstring (prose: a module may explain the variables it never reads)."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _top_level(body: list[ast.stmt]) -> list[ast.AST]:
    """What a module or class body runs at import: statements that are not definitions, and
    the decorators and default values of its definitions."""
    out: list[ast.AST] = []
    for stmt in _code(body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.extend(stmt.decorator_list)
            out.extend(d for d in stmt.args.defaults + stmt.args.kw_defaults if d)
        elif isinstance(stmt, ast.ClassDef):
            out.extend(stmt.decorator_list)
        else:
            out.append(stmt)
    return out


def _function_parts(func: ast.FunctionDef | ast.AsyncFunctionDef
                    ) -> list[tuple[ast.AST, frozenset[str]]]:
    """A function's body with its parameters (local names there: a parameter ``client`` is not
    the fixture function ``client`` of the module; the fixtures a test or fixture requests are
    its closure's), and its default values and decorators (evaluated outside it)."""
    args = func.args
    params = frozenset(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                       *filter(None, [args.vararg, args.kwarg])])
    outside = [*func.decorator_list, *(d for d in args.defaults + args.kw_defaults if d)]
    return [*((stmt, params) for stmt in _code(func.body)), *((d, frozenset()) for d in outside)]


@dataclass
class _Node:
    """A top-level function, a class (all its methods and its body) or a module's top-level code."""
    parts: list[tuple[ast.AST, frozenset[str]]] = field(default_factory=list)  # (code, its locals)
    refs: set[Key] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)
    env: bool = False


class BackendAnalysis:
    """Which functions, classes and modules under ``root`` depend on the backend (see the
    module's docstring). Names are resolved per module: its own definitions, and what it imports
    from the tests' package (``from tests.support.pg import ...``, ``from .conftest import ...``,
    ``from tests.support import pg`` then ``pg.create_owned_database``)."""

    def __init__(self, root: Path) -> None:
        root = root.resolve()
        myself = Path(__file__).resolve()
        self.trees: dict[Path, ast.Module] = {}
        modules: dict[str, Path] = {}
        for path in sorted(root.rglob("*.py")):
            path = path.resolve()
            if path == myself:  # names the variables to look for them
                continue
            try:
                self.trees[path] = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue  # not collected by pytest either
            dotted = path.relative_to(root.parent).with_suffix("").parts
            if dotted[-1] == "__init__":
                dotted = dotted[:-1]
            modules[".".join(dotted)] = path
        self.nodes: dict[Key, _Node] = {}
        self.fixtures: dict[Key, set[str]] = {}  # fixture function -> the names it is requested by
        for path, tree in self.trees.items():
            scope, module_aliases = self._scope(path, tree, modules, root)
            self.nodes[(path, MODULE)] = _Node(parts=[(p, frozenset()) for p in _top_level(tree.body)])
            for stmt in tree.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    node = self.nodes.setdefault((path, stmt.name), _Node())
                    node.parts += _function_parts(stmt)
                    if _fixture_names(stmt):
                        self.fixtures.setdefault((path, stmt.name), set()).update(
                            _fixture_names(stmt))
                elif isinstance(stmt, ast.ClassDef):
                    node = self.nodes.setdefault((path, stmt.name), _Node())
                    node.parts += [(p, frozenset()) for p in [*_top_level(stmt.body), *stmt.bases]]
                    for member in stmt.body:
                        if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                            node.parts += _function_parts(member)
                        if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                                and _fixture_names(member):
                            self.fixtures.setdefault((path, stmt.name), set()).update(
                                _fixture_names(member))
            for key, node in self.nodes.items():
                if key[0] != path:
                    continue
                node.env = _env_named(part for part, _ in node.parts)
                for part, local in node.parts:
                    for sub in ast.walk(part):
                        if isinstance(sub, ast.Name) and sub.id in scope and sub.id not in local:
                            node.refs.add(scope[sub.id])
                        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                                and sub.value.id in module_aliases:
                            node.refs.add((module_aliases[sub.value.id], sub.attr))
                        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                            node.strings.add(sub.value)
        self.dependent: set[Key] = {key for key, node in self.nodes.items() if node.env}
        self.dependent_fixtures: set[str] = set()
        changed = True
        while changed:  # to a fixed point: whatever uses a dependent one depends
            changed = False
            for key, fixture_names in self.fixtures.items():
                if key in self.dependent and not fixture_names <= self.dependent_fixtures:
                    self.dependent_fixtures |= fixture_names
                    changed = True
            for key, node in self.nodes.items():
                if key not in self.dependent and (node.refs & self.dependent
                                                  or node.strings & self.dependent_fixtures):
                    self.dependent.add(key)
                    changed = True

    @staticmethod
    def _scope(path: Path, tree: ast.Module, modules: dict[str, Path], root: Path
               ) -> tuple[dict[str, Key], dict[str, Path]]:
        """What the names of a module stand for: its own top-level definitions and what it
        imports (anywhere in it) from the tests' package; and its aliases of such modules."""
        scope: dict[str, Key] = {}
        aliases: dict[str, Path] = {}
        package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                if source.split(".")[0] != root.name:
                    continue
                for alias in node.names:
                    local = alias.asname or alias.name
                    if f"{source}.{alias.name}" in modules:
                        aliases[local] = modules[f"{source}.{alias.name}"]
                    elif source in modules:
                        scope[local] = (modules[source], alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in modules:
                        aliases[alias.asname] = modules[alias.name]
                    elif alias.name.split(".")[0] == root.name:
                        # ``import tests.support.pg``: attribute chains are not followed
                        scope[alias.asname or root.name] = (modules.get(alias.name, path), MODULE)
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope[stmt.name] = (path, stmt.name)
        return scope, aliases

    def why(self, key: Key) -> list[Key]:
        """A chain of definitions from ``key`` to one that names the variables (for debugging)."""
        chain, seen = [key], {key}
        while key in self.nodes and not self.nodes[key].env:
            node = self.nodes[key]
            nxt = sorted(k for k in node.refs & self.dependent if k not in seen)
            if not nxt:
                break
            key = nxt[0]
            chain.append(key)
            seen.add(key)
        return chain

    def _key_dependent(self, key: Key) -> bool:
        """A definition it does not know (not where the test or fixture says) counts as
        dependent: the error keeps a test."""
        return key not in self.nodes or key in self.dependent

    def _fixture_dependent(self, func: object) -> bool:
        try:
            source = Path(inspect.getsourcefile(func) or "").resolve()  # type: ignore[arg-type]
        except TypeError:
            return False  # a built-in: not the tests' code
        if source not in self.trees:
            return False  # pytest's and plugins' own fixtures (tmp_path, pytester, ...)
        qualname = getattr(func, "__qualname__", getattr(func, "__name__", ""))
        return self._key_dependent((source, qualname.split(".")[0]))

    def reason(self, item: pytest.Item) -> str | None:
        """Why ``item`` depends on the backend, or None when it touches neither database nor
        storage."""
        if not isinstance(item, pytest.Function):
            return "not a plain test function"
        if item.get_closest_marker("backend_free") is not None:
            return None  # said so, where the analysis cannot see it (a fixture's parameter)
        path = Path(str(item.path)).resolve()
        if path not in self.trees:
            return "outside the analysed folder"
        for name in sorted(item.fixturenames):
            for fixturedef in item._fixtureinfo.name2fixturedefs.get(name, ()):
                if self._fixture_dependent(fixturedef.func):
                    return f"fixture {name}"
        if (path, MODULE) in self.dependent:
            return "module-level code"
        owner = item.cls.__name__ if item.cls is not None else item.originalname
        if self._key_dependent((path, owner)):
            return "its body" if item.cls is None else f"class {owner}"
        return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend-free", choices=CHOICES, default="auto",
        help="tests that touch neither database nor storage: auto (deselected on PostgreSQL, "
             "they ran on SQLite), run, skip, only (see tests/support/backend_split.py)")


def _mode(config: pytest.Config) -> str:
    mode = config.getoption("backend_free")
    if mode == "auto":
        return "skip" if on_postgresql() else "run"
    return mode


def pytest_report_header(config: pytest.Config) -> str | None:
    mode = _mode(config)
    if mode == "run":
        return None
    what = "deselected" if mode == "skip" else "the only ones run"
    return (f"backend-free tests (touching neither database nor storage) and ui_only browser "
            f"tests: {what} "
            f"(--backend-free={config.getoption('backend_free')}; tests/support/backend_split.py)")


def analysis(config: pytest.Config) -> BackendAnalysis:
    if _ANALYSIS not in config.stash:
        config.stash[_ANALYSIS] = BackendAnalysis(config.rootpath / "tests")
    return config.stash[_ANALYSIS]


def _core_fixtures(item: pytest.Item) -> list[str]:
    """The fixtures of CORE_FIXTURES, defined in a conftest.py, that ``item`` requests."""
    if not isinstance(item, pytest.Function):
        return []
    found = []
    for name in sorted(CORE_FIXTURES & set(item.fixturenames)):
        for fixturedef in item._fixtureinfo.name2fixturedefs.get(name, ()):
            try:
                source = inspect.getsourcefile(fixturedef.func) or ""
            except TypeError:
                continue
            if Path(source).name == "conftest.py":
                found.append(name)
                break
    return found


def ui_only(item: pytest.Item) -> bool:
    """A browser test marked ``ui_only``: run once, in the SQLite run (see the module's docstring)."""
    return item.get_closest_marker("ui_only") is not None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mode = _mode(config)
    if mode == "run":
        return
    found = analysis(config)
    keep_free = mode == "only"
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        free = ui_only(item) or found.reason(item) is None
        (kept if free == keep_free else dropped).append(item)
    for item in (dropped if mode == "skip" else kept):
        if ui_only(item):
            continue  # uses the live server on purpose: said to run once
        core = _core_fixtures(item)
        if core:
            raise pytest.UsageError(
                f"tests/support/backend_split.py would leave out {item.nodeid}, which uses "
                f"{', '.join(core)}: fix the analysis")
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
