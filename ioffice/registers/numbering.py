"""Gap-free, duplicate-free numbering in a register.

The counter is incremented with a single ``UPDATE ... RETURNING`` inside the caller's
transaction: on PostgreSQL the row lock serialises concurrent clerks until commit; on SQLite the
write lock does. A rolled-back registration rolls its number back too, so no gap appears.
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


def next_number(session: Session, register: Register) -> int:
    stmt = (update(Register).where(Register.id == register.id)
            .values(last_number=Register.last_number + 1)
            .returning(Register.last_number))
    number = session.execute(stmt).scalar_one()
    session.expire(register, ["last_number"])
    return number
