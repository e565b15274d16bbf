"""Charts drawn on the server as SVG: no script, readable by a screen reader (role="img", a
<title> and a <desc>; each chart is followed on the page by the table of its figures).

Colours are presentation attributes (the pages' CSP allows no inline style) chosen to be told
apart in grey too; every series is also named in the legend and in each bar's tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Series", "columns", "hbars", "shares"]

WIDTH = 720
FONT = 13
AXIS = "#374151"
GRID = "#d1d5db"


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: Sequence[float]


def _nice_max(value: float, ticks: int = 4) -> float:
    """A round top for an axis of counts with ``ticks`` whole steps: each step 1, 2, 2.5 (from
    10 up), 5 times a power of ten, so every tick is a whole number."""
    step_needed = max(1.0, value / ticks)
    power = 10 ** math.floor(math.log10(step_needed))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= step_needed and float(step * power).is_integer():
            return step * power * ticks
    return 10 * power * ticks  # pragma: no cover


def _fmt(value: float) -> str:
    """A count as Vietnamese writes it: 12.345 (a dot between thousands)."""
    return f"{value:,.0f}".replace(",", ".")


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    return [f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
            f'xmlns="http://www.w3.org/2000/svg" font-family="DejaVu Sans, Arial, sans-serif" '
            f'font-size="{FONT}">',
            f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
            f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>']


def _legend(series: Sequence[Series], y: int) -> list[str]:
    out, x = [], 8
    for s in series:
        out.append(f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{s.colour}"/>')
        out.append(f'<text x="{x + 20}" y="{y}" fill="{AXIS}">{escape(s.label)}</text>')
        x += 34 + int(len(s.label) * FONT * 0.56)
    return out


def columns(chart_id: str, title: str, desc: str, categories: Sequence[tuple[str, str]],
            series: Sequence[Series], *, height: int = 320) -> Markup:
    """Stacked columns, one per category; ``categories`` are (short label, second line): the
    month "T1" and, under it, the year where it changes."""
    left, right, top, bottom = 56, 12, 34, 44
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = max(1, len(categories))
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top_value = _nice_max(max(totals, default=0))
    out = _open(chart_id, title, desc, height) + _legend(series, 18)
    for k in range(5):
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{GRID if k else AXIS}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS}">'
                   f'{_fmt(value)}</text>')
    slot = plot_w / n
    bar = max(2.0, min(40.0, slot * 0.7))
    every = math.ceil(n / 12)
    for i, (label, second) in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for s in series:
            h = plot_h * s.values[i] / top_value
            if h > 0:
                y -= h
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                           f'fill="{s.colour}"><title>{escape(label)} {escape(second)}: '
                           f'{escape(s.label)} {_fmt(s.values[i])}</title></rect>')
        if i % every == 0:
            cx = left + slot * i + slot / 2
            out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                       f'fill="{AXIS}">{escape(label)}</text>')
            if second:
                out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 32}" text-anchor="middle" '
                           f'fill="{AXIS}" font-size="{FONT - 1}">{escape(second)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def hbars(chart_id: str, title: str, desc: str, labels: Sequence[str],
          series: Sequence[Series]) -> Markup:
    """Stacked horizontal bars, one per label (a department, a person)."""
    left, right, top, row_h = 230, 56, 34, 26
    height = top + row_h * max(1, len(labels)) + 10
    plot_w = WIDTH - left - right
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top_value = _nice_max(max(totals, default=0))
    out = _open(chart_id, title, desc, height) + _legend(series, 18)
    out.append(f'<line x1="{left}" x2="{left}" y1="{top - 4}" y2="{height - 8}" stroke="{AXIS}"/>')
    for i, label in enumerate(labels):
        y = top + row_h * i
        short = label if len(label) <= 30 else label[:29] + "…"
        out.append(f'<text x="{left - 6}" y="{y + 17}" text-anchor="end" fill="{AXIS}">'
                   f'<title>{escape(label)}</title>{escape(short)}</text>')
        x = float(left)
        for s in series:
            w = plot_w * s.values[i] / top_value
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                           f'fill="{s.colour}"><title>{escape(label)}: {escape(s.label)} '
                           f'{_fmt(s.values[i])}</title></rect>')
                x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 17}" fill="{AXIS}">{_fmt(totals[i])}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def shares(chart_id: str, title: str, desc: str,
           items: Sequence[tuple[str, float | None]], colour: str = "#1d4ed8") -> Markup:
    """One bar per item, its share from 0 to 100 %; None: "no document"."""
    left, right, top, row_h = 230, 70, 10, 34
    height = top + row_h * len(items) + 6
    plot_w = WIDTH - left - right
    out = _open(chart_id, title, desc, height)
    for i, (label, share) in enumerate(items):
        y = top + row_h * i
        out.append(f'<text x="{left - 6}" y="{y + 21}" text-anchor="end" fill="{AXIS}">'
                   f'{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 6}" width="{plot_w}" height="{row_h - 12}" '
                   f'fill="#e5e7eb"/>')
        if share is not None:
            out.append(f'<rect x="{left}" y="{y + 6}" width="{plot_w * share:.1f}" '
                       f'height="{row_h - 12}" fill="{colour}"/>')
        if share is None:
            out.append(f'<text x="{left + 8}" y="{y + 21}" fill="{AXIS}">không có văn bản</text>')
        else:
            text = f"{share * 100:.1f} %".replace(".", ",")
            out.append(f'<text x="{WIDTH - right + 6}" y="{y + 21}" fill="{AXIS}">{text}</text>')
    out.append("</svg>")
    return Markup("".join(out))
