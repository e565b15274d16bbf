"""The dashboards' daily partial sums, kept by the worker's ``dashboard-sums`` job
(:mod:`ioffice.dashboards.summary`, docs/dashboards.md "Summaries")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base


class DashboardDay(Base):
    """One group of rows of one agency and one local day, as the live queries of
    :mod:`ioffice.dashboards.stats` group them. ``kind``:

    * ``in``: incoming documents of a ``source``: ``n`` documents, ``signed``, ``seconds`` the
      sum of their times to register over ``timed`` registered ones;
    * ``out``: outgoing documents dispatched: ``n``, ``axis``, ``signed``;
    * ``work``: assignments of a ``department_id``/``user_id`` that are no longer open (open
      ones change with the date and are always read live): ``n``, ``on_time``, ``late``,
      ``seconds`` the sum of their times to finish over ``timed`` done ones.
    """

    __tablename__ = "dashboard_days"
    __table_args__ = (Index("ix_dashboard_days_agency_day", "agency_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, local
    kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(8), default="")
    department_id: Mapped[int | None]
    user_id: Mapped[int | None]
    n: Mapped[int] = mapped_column(default=0)
    signed: Mapped[int] = mapped_column(default=0)
    axis: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    late: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)
    timed: Mapped[int] = mapped_column(default=0)


class DashboardSumsState(Base):
    """One row: the summaries hold every row of the three tables as of ``watermark`` (rows
    whose ``updated_at`` is at or after it may not be in them), days cut at ``offset_s``
    seconds from UTC; ``full_at``: the last run that recomputed every day (nightly)."""

    __tablename__ = "dashboard_sums_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    watermark: Mapped[dt.datetime]
    offset_s: Mapped[int]
    refreshed_at: Mapped[dt.datetime]
    full_at: Mapped[dt.datetime]
    days: Mapped[int] = mapped_column(default=0)
    """How many (agency, day) were recomputed by the last run (its log line too)."""
