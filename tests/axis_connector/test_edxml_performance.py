"""A package with a 200 KB PDF must stay cheap to build, parse, sign and verify.

Bounds are about ten times what this machine measures (build 0.3 ms, parse 1.1 ms,
sign 2.6 ms, verify 4.7 ms), so they catch a quadratic or copying regression
without being flaky; docs/edxml.md has the measured figures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from axis_connector.edxml import (
    Attachment,
    build_document_package,
    parse_package,
    sign_package,
    verify_package,
)

from .conftest import make_document
from .pki import Identity

PDF_200K = b"%PDF-1.7\n" + os.urandom(200 * 1024)


def _best_ms(action: Callable[[], object], runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


@pytest.fixture(scope="module")
def package():
    return make_document(attachments=(Attachment("cid:1", "vb.pdf", "application/pdf", PDF_200K),))


def test_build_and_parse_200k_attachment_take_a_few_ms(package) -> None:
    data = build_document_package(package)
    assert parse_package(data) == package
    assert _best_ms(lambda: build_document_package(package)) < 5
    assert _best_ms(lambda: parse_package(data)) < 10


def test_sign_and_verify_200k_attachment_are_cheap(package, root_ca: Identity, ca_mau_seal: Identity) -> None:
    data = build_document_package(package)
    signed = sign_package(data, ca_mau_seal.key, [ca_mau_seal.certificate])
    assert verify_package(signed, [root_ca.certificate]).signer_organ_id == "000.00.00.H12"
    assert _best_ms(lambda: sign_package(data, ca_mau_seal.key, [ca_mau_seal.certificate])) < 30
    assert _best_ms(lambda: verify_package(signed, [root_ca.certificate])) < 40
