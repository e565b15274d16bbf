"""Gap-free, duplicate-free numbering in a register.

The counter is incremented with a single ``UPDATE ... RETURNING`` inside the caller's
transaction: on PostgreSQL the row lock serialises concurrent clerks until commit; on SQLite the
write lock does. A rolled-back registration rolls its number back too, so no gap appears.

A caller that must do slow work with the number (the agency seal writes it into the signed
bytes) reads the number it expects first (:func:`peek_next_number`, no lock), does the work, then
takes the number only if it is still the next one (``next_number(..., expect=n)``, else
:class:`NumberTaken`): the lock is held for the increment and the caller's short commit only.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.registers.models import Register, RegisterKind


def get_or_create_register(session: Session, agency_id: int, kind: RegisterKind,
                           year: int) -> Register:
    stmt = select(Register).where(Register.agency_id == agency_id, Register.kind == kind,
                                  Register.year == year)
    register = session.scalars(stmt).one_or_none()
    if register is not None:
        return register
    try:
        with session.begin_nested():
            register = Register(agency_id=agency_id, kind=kind, year=year,
                                name=f"{kind.label} năm {year}", last_number=0)
            session.add(register)
    except IntegrityError:  # another process created it first
        register = session.scalars(stmt).one()
    return register


class NumberTaken(Exception):
    """The number a caller expected was taken by another transaction in the meantime."""


def peek_next_number(session: Session, agency_id: int, kind: RegisterKind, year: int) -> int:
    """The number the register would give now, read without a lock (1 for a register not yet
    created): only a guess until :func:`next_number` takes it with ``expect``."""
    last = session.scalar(select(Register.last_number).where(
        Register.agency_id == agency_id, Register.kind == kind, Register.year == year))
    return (last or 0) + 1


def next_number(session: Session, register: Register, *, expect: int | None = None) -> int:
    """The register's next number, taken in the caller's transaction. With ``expect``, only
    that number: if another transaction took it first, :class:`NumberTaken` and nothing
    changed."""
    stmt = update(Register).where(Register.id == register.id)
    if expect is not None:
        stmt = stmt.where(Register.last_number == expect - 1)
    stmt = stmt.values(last_number=Register.last_number + 1).returning(Register.last_number)
    result = session.execute(stmt)
    number = result.scalar_one() if expect is None else result.scalar_one_or_none()
    session.expire(register, ["last_number"])
    if number is None:
        raise NumberTaken(f"số {expect} của sổ đã được cấp cho văn bản khác")
    return number
