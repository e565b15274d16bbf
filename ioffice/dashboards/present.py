"""The dashboard as tables and charts: the same tables feed the page (under each chart), the
XLSX and the PDF, so the three never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ioffice.dashboards import charts
from ioffice.dashboards.charts import Series
from ioffice.dashboards.stats import HANDLING_COLUMNS, Dashboard, HandlingRow

__all__ = ["Table", "chart_of", "duration", "tables"]

BLUE, GREY, GREEN, AMBER, SKY, RED, PURPLE = ("#1d4ed8", "#9ca3af", "#15803d", "#b45309",
                                              "#60a5fa", "#b91c1c", "#7c3aed")
HANDLING_COLOURS = {"on_time": GREEN, "late": AMBER, "open_in_time": SKY, "overdue": RED,
                    "other": GREY}
CHART_ROWS = 15  # bars drawn per handling chart; the table under it has every row


@dataclass
class Table:
    key: str
    title: str
    headings: list[str]
    rows: list[list[object]]
    chart: Markup | None = None


def duration(seconds: float | None) -> str:
    """A mean duration in words: "2 ngày 3 giờ", "45 phút"; "—" without data."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"
    if hours:
        return f"{hours} giờ {mins} phút" if mins else f"{hours} giờ"
    return f"{mins} phút"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %".replace(".", ",")


def _month_label(month: str) -> str:
    return f"{month[5:]}/{month[:4]}"


def _categories(months: list[str]) -> list[tuple[str, str]]:
    out, year = [], None
    for m in months:
        out.append((f"T{int(m[5:])}", m[:4] if m[:4] != year else ""))
        year = m[:4]
    return out


def _handling_table(key: str, title: str, rows: list[HandlingRow], several: bool,
                    first: str) -> Table:
    headings = ([first] + (["Cơ quan"] if several else [])
                + [h for _, h in HANDLING_COLUMNS] + ["Tỷ lệ đúng hạn"])
    body = [[r.name] + ([r.agency] if several else []) + [getattr(r, a) for a, _ in HANDLING_COLUMNS]
            + [percent(r.on_time_rate)] for r in rows]
    shown = rows[:CHART_ROWS]
    labels = [f"{r.name} ({r.agency})" if several else r.name for r in shown]
    series = [Series(h, HANDLING_COLOURS[a], [getattr(r, a) for r in shown])
              for a, h in HANDLING_COLUMNS if a in HANDLING_COLOURS]
    more = f" (biểu đồ vẽ {CHART_ROWS} dòng nhiều việc nhất)" if len(rows) > CHART_ROWS else ""
    chart = charts.hbars(f"chart-{key}", title,
                         f"Số việc được giao trong kỳ theo tình trạng xử lý{more}; số liệu ở "
                         "bảng ngay sau biểu đồ.", labels, series) if rows else None
    return Table(key, title, headings, body, chart)


def tables(d: Dashboard) -> list[Table]:
    several = len(d.agencies) > 1
    months = [r.month for r in d.incoming]
    summary = Table("summary", "Số liệu tổng hợp", ["Chỉ tiêu", "Giá trị"], [
        ["Văn bản đến", d.incoming_total],
        ["Văn bản đi đã phát hành", d.outgoing_total],
        ["Tỷ lệ văn bản đến có chữ ký số hợp lệ", percent(d.incoming_signed_share)],
        ["Tỷ lệ văn bản đi ký số", percent(d.outgoing_signed_share)],
        ["Thời gian trung bình từ khi đến tới khi vào sổ", duration(d.register_avg_s["all"])],
        ["  – văn bản điện tử (trục liên thông)", duration(d.register_avg_s["axis"])],
        ["  – văn bản giấy", duration(d.register_avg_s["paper"])],
        ["Thời gian trung bình từ khi giao tới khi xong việc", duration(d.finish_avg_s)],
        ["Tỷ lệ việc xong đúng hạn", percent(d.totals.on_time_rate)],
        ["Việc quá hạn chưa xong", d.totals.overdue],
    ])
    summary.chart = charts.shares(
        "chart-signed", "Tỷ lệ văn bản ký số",
        "Phần văn bản đến có chữ ký số hợp lệ và văn bản đi được ký số, trên tổng số văn bản "
        "trong kỳ.",
        [("Văn bản đến có chữ ký số", d.incoming_signed_share),
         ("Văn bản đi ký số", d.outgoing_signed_share)])
    incoming = Table("incoming", "Văn bản đến theo tháng",
                     ["Tháng", "Qua trục liên thông", "Giấy", "Tổng", "Có chữ ký số hợp lệ"],
                     [[_month_label(r.month), r.axis, r.other, r.total, r.signed]
                      for r in d.incoming])
    incoming.chart = charts.columns(
        "chart-incoming", "Văn bản đến theo tháng",
        f"Số văn bản đến mỗi tháng, {d.period.label}, chia theo nhận qua trục liên thông và "
        "văn bản giấy; số liệu ở bảng ngay sau biểu đồ.", _categories(months),
        [Series("Qua trục liên thông", BLUE, [r.axis for r in d.incoming]),
         Series("Giấy", GREY, [r.other for r in d.incoming])])
    outgoing = Table("outgoing", "Văn bản đi theo tháng",
                     ["Tháng", "Gửi qua trục liên thông", "Chỉ gửi nội bộ hoặc giấy", "Tổng",
                      "Ký số"],
                     [[_month_label(r.month), r.axis, r.other, r.total, r.signed]
                      for r in d.outgoing])
    outgoing.chart = charts.columns(
        "chart-outgoing", "Văn bản đi theo tháng",
        f"Số văn bản đi phát hành mỗi tháng, {d.period.label}, chia theo gửi qua trục liên "
        "thông và chỉ gửi nội bộ hoặc giấy; số liệu ở bảng ngay sau biểu đồ.", _categories(months),
        [Series("Qua trục liên thông", PURPLE, [r.axis for r in d.outgoing]),
         Series("Nội bộ hoặc giấy", GREY, [r.other for r in d.outgoing])])
    out = [summary, incoming, outgoing,
           _handling_table("departments", "Tình hình xử lý theo phòng ban", d.departments,
                           several, "Phòng ban"),
           _handling_table("people", "Tình hình xử lý theo cá nhân", d.people, several,
                           "Người xử lý")]
    ex = d.exchange
    out.append(Table("exchange", "Tình hình liên thông", ["Chỉ tiêu", "Giá trị"], [
        ["Gói tin đang chờ gửi (hiện tại)", ex.pending],
        ["Gói tin gửi không thành công, chờ xử lý (hiện tại)", ex.dead],
        ["Gói tin đã gửi lên trục trong kỳ", ex.sent],
        ["Thời gian trung bình từ khi tạo tới khi trục nhận", duration(ex.mean_delivery_s)],
        ["Gói tin nhận được bị từ chối trong kỳ", ex.inbox_failed],
    ]))
    if several:
        out.append(Table("agencies", "Theo cơ quan",
                         ["Cơ quan", "Văn bản đến", "Văn bản đi", "Việc quá hạn chưa xong"],
                         [[r.name, r.incoming, r.outgoing, r.overdue] for r in d.by_agency]))
    return out


def chart_of(table: Table) -> Markup | None:
    return table.chart
