"""Server-held keys: decrypted once per serial while their files stay the same."""

from __future__ import annotations

import os

import pytest

from signing import Pki, PkiError
from signing import credentials as credentials_module

from .conftest import PASSPHRASE


@pytest.fixture()
def key_loads(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = credentials_module._load_key

    def counting(pem: bytes, passphrase: bytes):
        calls.append(1)
        return real(pem, passphrase)

    monkeypatch.setattr(credentials_module, "_load_key", counting)
    return calls


def test_a_credential_is_decrypted_once_and_then_reused(pki_dir, key_loads) -> None:
    pki = Pki.open(pki_dir, PASSPHRASE)
    seal = pki.issue_seal("000.00.00.G01", "Bộ Nội vụ")
    key_loads.clear()  # issuing loaded the issuing CA's key

    first = pki.credential(seal.serial)
    second = pki.credential(seal.serial)

    assert second is first
    assert len(key_loads) == 1
    assert first.certificate.dump() == seal.certificate.dump()
    assert first.private_key.private_numbers() == seal.private_key.private_numbers()


def test_a_rewritten_key_file_is_read_again(pki_dir, key_loads) -> None:
    pki = Pki.open(pki_dir, PASSPHRASE)
    seal = pki.issue_seal("000.00.00.G02", "Bộ Tư pháp")
    other = pki.issue_seal("000.00.00.G03", "Bộ Tài chính")
    key_loads.clear()
    pki.credential(seal.serial)

    # the key file replaced by another key (as a restore from backup could)
    keys = pki_dir / "keys"
    (keys / f"{seal.serial:x}.key").write_bytes((keys / f"{other.serial:x}.key").read_bytes())
    reloaded = pki.credential(seal.serial)

    assert len(key_loads) == 2
    assert reloaded.private_key.private_numbers() == other.private_key.private_numbers()


def test_a_removed_key_is_not_served_from_memory(pki_dir) -> None:
    pki = Pki.open(pki_dir, PASSPHRASE)
    seal = pki.issue_seal("000.00.00.G04", "Bộ Y tế")
    pki.credential(seal.serial)

    os.remove(pki_dir / "keys" / f"{seal.serial:x}.key")

    with pytest.raises(PkiError, match="Không có khóa"):
        pki.credential(seal.serial)
