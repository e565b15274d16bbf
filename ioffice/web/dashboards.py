"""Dashboards (/thong-ke): the agency's figures for its leaders and clerks, the province's for
the admin of its top agency; charts drawn on the server, each followed by its table; XLSX and
PDF of the same figures (docs/dashboards.md)."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request, send_file

from ioffice.audit import record_read
from ioffice.dashboards import export, service
from ioffice.dashboards.period import Period, PeriodError, parse_period
from ioffice.dashboards.present import tables
from ioffice.dashboards.stats import Dashboard
from ioffice.db_session import get_session
from ioffice.incoming.registration import today_vn
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor

bp = Blueprint("dashboards", __name__, url_prefix="/thong-ke")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period() -> Period:
    return parse_period(request.args.get("tu") or None, request.args.get("den") or None,
                        today=today_vn(), tz=ZoneInfo(current_app.config["TIMEZONE"]))


def _page(dashboard: Dashboard | None, title: str, *, error: str = "", **extra: Any):
    return render_template("dashboards/index.html", d=dashboard, title=title, error=error,
                           tables=tables(dashboard) if dashboard else [], args=request.args,
                           **extra), (400 if error else 200)


def _download(dashboard: Dashboard, title: str, fmt: str, stem: str):
    name = f"{stem}-{dashboard.period.first:%Y%m}-{dashboard.period.last:%Y%m}.{fmt}"
    session = get_session()
    record_read(session, current_actor().ctx, "dashboards:figures:export",
                subject_type="dashboard", subject_id=stem,
                details={"format": fmt, "agencies": sorted(dashboard.agencies),
                         **dashboard.period.query()})
    session.commit()
    if fmt == "xlsx":
        return send_file(io.BytesIO(export.xlsx(dashboard, title)), as_attachment=True,
                         download_name=name, mimetype=XLSX)
    return send_file(io.BytesIO(export.pdf(dashboard, title)), as_attachment=True,
                     download_name=name, mimetype="application/pdf")


@bp.get("/")
@operation(Op.VIEW_DASHBOARD)
def agency():
    actor = current_actor()
    title = f"Thống kê: {current_actor_agency_name()}"
    try:
        period = _period()
    except PeriodError as exc:
        return _page(None, title, error=exc.message, scope="agency")
    d = service.agency_dashboard(get_session(), actor, period, today=today_vn())
    return _page(d, title, scope="agency")


@bp.get("/xuat.xlsx")
@operation(Op.VIEW_DASHBOARD)
def agency_xlsx():
    return _agency_export("xlsx")


@bp.get("/xuat.pdf")
@operation(Op.VIEW_DASHBOARD)
def agency_pdf():
    return _agency_export("pdf")


def _agency_export(fmt: str):
    d = service.agency_dashboard(get_session(), current_actor(), _period(), today=today_vn())
    return _download(d, f"Thống kê: {current_actor_agency_name()}", fmt, "thong-ke")


def _province(agency_id: int | None):
    session = get_session()
    actor = current_actor()
    agencies = service.province_agencies(session, actor)  # 403 before anything else
    try:
        period = _period()
    except PeriodError as exc:
        return None, agencies, exc.message
    d, agencies = service.province_dashboard(session, actor, period, today=today_vn(),
                                             agency_id=agency_id)
    return d, agencies, ""


def _province_title(d: Dashboard | None, agency_id: int | None) -> str:
    if d is not None and agency_id is not None:
        return f"Thống kê toàn tỉnh: {d.agencies[agency_id]}"
    return "Thống kê toàn tỉnh"


@bp.get("/tinh")
@operation(Op.VIEW_PROVINCE_DASHBOARD)
def province():
    d, agencies, error = _province(None)
    return _page(d, _province_title(d, None), error=error, scope="province",
                 province_agencies=agencies, selected=None)


@bp.get("/tinh/co-quan/<int:agency_id>")
@operation(Op.VIEW_PROVINCE_DASHBOARD)
def province_agency(agency_id: int):
    d, agencies, error = _province(agency_id)
    if error and agency_id not in {a.id for a in agencies}:
        abort(404)
    return _page(d, _province_title(d, agency_id), error=error, scope="province",
                 province_agencies=agencies, selected=agency_id)


@bp.get("/tinh/xuat.xlsx")
@operation(Op.VIEW_PROVINCE_DASHBOARD)
def province_xlsx():
    return _province_export("xlsx")


@bp.get("/tinh/xuat.pdf")
@operation(Op.VIEW_PROVINCE_DASHBOARD)
def province_pdf():
    return _province_export("pdf")


def _province_export(fmt: str):
    agency_id = request.args.get("co_quan", type=int)
    d, _agencies, error = _province(agency_id)
    if error:
        raise PeriodError(error)
    return _download(d, _province_title(d, agency_id), fmt, "thong-ke-tinh")


def current_actor_agency_name() -> str:
    from flask_login import current_user

    return current_user.agency.name
