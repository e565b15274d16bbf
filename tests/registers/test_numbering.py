"""Numbers in a register: continuous from 1, no gaps, no duplicates, even under concurrency."""

from __future__ import annotations

import random
import threading

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from ioffice.agencies.service import get_agency_by_code
from ioffice.registers.models import Register, RegisterKind
from ioffice.registers.numbering import get_or_create_register, next_number


def test_numbers_run_from_one(db: Session) -> None:
    agency = get_agency_by_code(db, "000.00.00.H12")
    reg = get_or_create_register(db, agency.id, RegisterKind.INCOMING, 2091)
    assert [next_number(db, reg) for _ in range(3)] == [1, 2, 3]
    other = get_or_create_register(db, agency.id, RegisterKind.OUTGOING, 2091)
    assert next_number(db, other) == 1


def test_rolled_back_number_is_reused_so_no_gap(db: Session) -> None:
    agency = get_agency_by_code(db, "000.00.00.H12")
    reg = get_or_create_register(db, agency.id, RegisterKind.INCOMING, 2092)
    assert next_number(db, reg) == 1
    nested = db.begin_nested()
    assert next_number(db, reg) == 2
    nested.rollback()
    assert next_number(db, reg) == 2


def test_concurrent_clerks_get_distinct_continuous_numbers(engine: Engine, rng: random.Random) -> None:
    year = 3000 + rng.randrange(5000)  # a year no other test numbers in
    with Session(engine) as s:
        agency_id = get_agency_by_code(s, "000.00.00.H12").id
        reg_id = get_or_create_register(s, agency_id, RegisterKind.INCOMING, year).id
        s.commit()
    got: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def clerk() -> None:
        try:
            start.wait()
            for _ in range(10):
                with Session(engine) as s:
                    n = next_number(s, s.get(Register, reg_id))
                    s.commit()
                with lock:
                    got.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=clerk) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors
        assert sorted(got) == list(range(1, 81))
    finally:
        with Session(engine) as s:
            s.execute(delete(Register).where(Register.id == reg_id))
            s.commit()
