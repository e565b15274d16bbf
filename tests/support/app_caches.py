"""What the unit tests' applications share within one test process.

The unit tests build one application per test (``tests/conftest.py``: ``app``). Two costs were
repeated in each (docs/testing.md "Suite time"):

* URL rules. 87 % of ``create_app`` was werkzeug compiling, for each of the app's ~250 URL
rules, two URL builder functions from a syntax tree. Those functions depend only on the
rule's text, its parsed parts, its defaults and its converters, which are the same in every
application the tests build; ``CachedBuilderRule`` keeps each compiled builder and hands it to
the next rule with the same inputs.

Subclasses a werkzeug internal (``Rule._compile_builder``): werkzeug is pinned exactly in
setup.cfg's test extra, and ``tests/test_pinned_internals.py`` checks the method's source and
that every cached builder is the one werkzeug would compile. Installed only by the tests'
``pytest_configure`` (``install``), never by an import; the application itself uses werkzeug's
own ``Rule``.

* Templates. Each application's Jinja environment parsed and compiled every template it rendered
  again (1,396 compiles in tests/web and tests/incoming). ``SHARED_BYTECODE`` is a Jinja
  bytecode cache (Jinja's public extension point) shared by the tests' applications: a template
  is compiled once per process, and recompiled when its source changes (Jinja checks the
  source's checksum).
"""

from __future__ import annotations

import typing as t

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing import Rule

_Builder = t.Callable[..., tuple[str, str]]


class CachedBuilderRule(Rule):
    _builders: t.ClassVar[dict[tuple[object, ...], _Builder]] = {}

    def builder_key(self, append_unknown: bool) -> tuple[object, ...]:
        """Everything ``Rule._compile_builder`` reads: the rule's trace (static text and
        argument names, domain part first), its defaults (turned into text by the converters),
        the converters' classes and arguments, and whether unknown arguments are appended."""
        converters = tuple(sorted((name, type(conv), repr(vars(conv).get("regex")))
                                  for name, conv in self._converters.items()))
        defaults = tuple(sorted((name, repr(value)) for name, value in (self.defaults or {}).items()))
        return (self.rule, tuple(self._trace), defaults, converters, append_unknown)

    def _compile_builder(self, append_unknown: bool = True) -> _Builder:
        key = self.builder_key(append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


SHARED_BYTECODE = MemoryBytecodeCache()


def share_templates(app: Flask) -> None:
    """This application's templates compiled once per process (``SHARED_BYTECODE``)."""
    app.jinja_env.bytecode_cache = SHARED_BYTECODE


def install() -> None:
    """Applications created from now on in this (test) process use ``CachedBuilderRule``."""
    Flask.url_rule_class = CachedBuilderRule
