from __future__ import annotations

import pytest

from signing.demo import make_demo_pdf
from tests.support.foreign_ca import ForeignCa


@pytest.fixture(scope="session")
def foreign_ca() -> ForeignCa:
    return ForeignCa.create()


@pytest.fixture(scope="session")
def foreign_pdf(foreign_ca: ForeignCa) -> bytes:
    return foreign_ca.sign(make_demo_pdf(1))
