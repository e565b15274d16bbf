"""Copies need the outgoing tests' fixtures (PIN key, trust store)."""

from tests.outgoing.conftest import pin_key, trust  # noqa: F401
