"""/api/v1/dashboards: the figures of a period as JSON and as XLSX (docs/dashboards.md), the
agency's for its leaders and clerks, the province's for the admin of its top agency.

Each handler calls what the page calls (``ioffice.dashboards.service``, as
``ioffice.web.dashboards``) after the same role rule; the period is parsed by the page's
``parse_period``, so a malformed month or more than ten years answers 400 with the page's
message. An export is recorded in the audit log as the page records it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Response, current_app
from pydantic import Field

from ioffice.agencies.permissions import Op
from ioffice.api.records_views import XLSX, _download
from ioffice.api.routing import Call
from ioffice.api.schemas import Input, Output
from ioffice.api.views import api
from ioffice.audit import record_read
from ioffice.dashboards import export, service
from ioffice.dashboards.period import Period, parse_period
from ioffice.dashboards.stats import Dashboard, HandlingRow, MonthRow
from ioffice.incoming.registration import today_vn

DASHBOARDS = "dashboards"


# ----------------------------------------------------------------------------- schemas


class PeriodQuery(Input):
    start: str | None = Field(None, max_length=20, description=(
        "First month, `YYYY-MM` (the page's `tu`); by default 11 months before `end`."))
    end: str | None = Field(None, max_length=20, description=(
        "Last month, `YYYY-MM` (the page's `den`); by default this month. At most 120 months "
        "in all (400 with the page's message beyond)."))


class ProvinceQuery(PeriodQuery):
    agency_id: int | None = Field(None, ge=1, description=(
        "One agency of the province (404 outside it); every agency together when omitted."))


class PeriodOut(Output):
    start: str = Field(description="First month, `YYYY-MM`.")
    end: str = Field(description="Last month, `YYYY-MM`.")
    months: list[str]
    label: str = Field(description="As the page writes it («từ tháng 01/2026 đến tháng …»).")


class AgencyNameOut(Output):
    id: int
    name: str


class MonthOut(Output):
    month: str = Field(description="`YYYY-MM`.")
    axis: int = Field(description="Through the national axis (electronic).")
    other: int = Field(description="Paper, or sent otherwise.")
    signed: int = Field(description="With a valid digital signature (incoming) or signed "
                                    "digitally (outgoing).")
    total: int


class HandlingOut(Output):
    name: str = Field(description="The department or person (or the whole for `totals`).")
    agency: str = Field(description="Its agency, on a province's dashboard.")
    total: int
    on_time: int
    late: int
    open_in_time: int
    overdue: int
    other: int = Field(description="Passed on or given back.")
    chases: int = Field(description="Times a leader chased it.")
    on_time_rate: float | None = Field(description="on_time / (on_time + late); null when none "
                                                   "is done.")


class ExchangeOut(Output):
    pending: int
    dead: int
    sent: int
    mean_delivery_s: float | None
    inbox_failed: int


class AgencyFiguresOut(Output):
    name: str
    incoming: int
    outgoing: int
    overdue: int


class RegisterAvgOut(Output):
    all: float | None = Field(description="Seconds from arrival to registration, on average.")
    axis: float | None
    paper: float | None


class DashboardOut(Output):
    period: PeriodOut
    today: dt.date = Field(description="The day open work is judged against (overdue or not).")
    agencies: list[AgencyNameOut] = Field(description="The agencies counted.")
    incoming: list[MonthOut]
    outgoing: list[MonthOut]
    incoming_total: int
    outgoing_total: int
    incoming_signed_share: float | None
    outgoing_signed_share: float | None
    departments: list[HandlingOut]
    people: list[HandlingOut]
    totals: HandlingOut
    register_avg_s: RegisterAvgOut
    finish_avg_s: float | None = Field(description="Seconds from assignment to finish, on "
                                                   "average.")
    exchange: ExchangeOut
    by_agency: list[AgencyFiguresOut] = Field(description="Per agency counted.")


def _month(r: MonthRow) -> MonthOut:
    return MonthOut(month=r.month, axis=r.axis, other=r.other, signed=r.signed, total=r.total)


def _handling(r: HandlingRow) -> HandlingOut:
    return HandlingOut(name=r.name, agency=r.agency, total=r.total, on_time=r.on_time,
                       late=r.late, open_in_time=r.open_in_time, overdue=r.overdue,
                       other=r.other, chases=r.chases, on_time_rate=r.on_time_rate)


def dashboard_out(d: Dashboard) -> DashboardOut:
    p, e = d.period, d.exchange
    return DashboardOut(
        period=PeriodOut(start=f"{p.first:%Y-%m}", end=f"{p.last:%Y-%m}", months=p.months,
                         label=p.label),
        today=d.today, agencies=[AgencyNameOut(id=k, name=v) for k, v in d.agencies.items()],
        incoming=[_month(r) for r in d.incoming], outgoing=[_month(r) for r in d.outgoing],
        incoming_total=d.incoming_total, outgoing_total=d.outgoing_total,
        incoming_signed_share=d.incoming_signed_share,
        outgoing_signed_share=d.outgoing_signed_share,
        departments=[_handling(r) for r in d.departments],
        people=[_handling(r) for r in d.people], totals=_handling(d.totals),
        register_avg_s=RegisterAvgOut(**{k: d.register_avg_s.get(k)
                                         for k in ("all", "axis", "paper")}),
        finish_avg_s=d.finish_avg_s,
        exchange=ExchangeOut(pending=e.pending, dead=e.dead, sent=e.sent,
                             mean_delivery_s=e.mean_delivery_s, inbox_failed=e.inbox_failed),
        by_agency=[AgencyFiguresOut(name=r.name, incoming=r.incoming, outgoing=r.outgoing,
                                    overdue=r.overdue) for r in d.by_agency])


# ----------------------------------------------------------------------------- handlers


def _period(q: PeriodQuery) -> Period:
    return parse_period(q.start, q.end, today=today_vn(),
                        tz=ZoneInfo(current_app.config["TIMEZONE"]))


def _agency(call: Call) -> tuple[Dashboard, str]:
    d = service.agency_dashboard(call.session, call.actor, _period(call.query), today=today_vn())
    return d, f"Thống kê: {d.agencies[call.actor.agency_id]}"


def _province(call: Call) -> tuple[Dashboard, str]:
    q = call.query
    # who may see the province is checked before the period, as on the page
    service.province_agencies(call.session, call.actor)
    d, _agencies = service.province_dashboard(call.session, call.actor, _period(q),
                                              today=today_vn(), agency_id=q.agency_id)
    title = (f"Thống kê toàn tỉnh: {d.agencies[q.agency_id]}" if q.agency_id is not None
             else "Thống kê toàn tỉnh")
    return d, title


def _xlsx(call: Call, d: Dashboard, title: str, stem: str) -> Response:
    name = f"{stem}-{d.period.first:%Y%m}-{d.period.last:%Y%m}.xlsx"
    record_read(call.session, call.actor.ctx, "dashboards:figures:export",
                subject_type="dashboard", subject_id=stem,
                details={"format": "xlsx", "agencies": sorted(d.agencies), **d.period.query()})
    return _download(export.xlsx(d, title), name, XLSX)


@api.get("/dashboards/agency", summary="The agency's figures of a period (leaders, clerks)",
         tag=DASHBOARDS, query=PeriodQuery, response=DashboardOut, errors=(400, 403),
         operation=Op.VIEW_DASHBOARD)
def agency_dashboard(call: Call) -> DashboardOut:
    """What the page /thong-ke/ shows: documents in and out by month, handling by department
    and by person, times, the exchange. The figures come from the daily summaries the worker
    keeps, the last minutes read live (docs/dashboards.md)."""
    return dashboard_out(_agency(call)[0])


@api.get("/dashboards/agency/xlsx", summary="The agency's figures as XLSX, with charts",
         tag=DASHBOARDS, query=PeriodQuery, response_media=XLSX, errors=(400, 403),
         operation=Op.VIEW_DASHBOARD)
def agency_dashboard_xlsx(call: Call) -> Response:
    """The page's workbook (one sheet per table, native charts); recorded in the audit log."""
    return _xlsx(call, *_agency(call), "thong-ke")


@api.get("/dashboards/province", summary="The province's figures: every agency of it, or one "
         "(the admin of the province's top agency)", tag=DASHBOARDS, query=ProvinceQuery,
         response=DashboardOut, errors=(400, 403, 404), operation=Op.VIEW_PROVINCE_DASHBOARD)
def province_dashboard(call: Call) -> DashboardOut:
    """The admin of a lower agency gets 403 with the page's message; an agency outside the
    province 404."""
    return dashboard_out(_province(call)[0])


@api.get("/dashboards/province/xlsx", summary="The province's figures as XLSX, with charts",
         tag=DASHBOARDS, query=ProvinceQuery, response_media=XLSX, errors=(400, 403, 404),
         operation=Op.VIEW_PROVINCE_DASHBOARD)
def province_dashboard_xlsx(call: Call) -> Response:
    return _xlsx(call, *_province(call), "thong-ke-tinh")
