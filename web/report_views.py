"""Shaping the report answers of the core for the reports page: no I/O.

The charts are drawn here as inline SVG and CSS classes, so the page needs no
script library and the Content-Security-Policy needs no inline styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any, Callable, Sequence

from appliance.errors import ValidationError

INTERVALS = ("15min", "hour", "day", "month")
HEAT_LEVELS = 10
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ReportFilter:
    """What the reports page was asked for; empty days let the core pick its default span."""

    day_from: str = ""
    day_to: str = ""
    interval: str = "day"
    queue: str = ""
    target_sl: float = 0.8
    target_s: float = 20

    def api_query(self) -> dict[str, str]:
        return {"from": self.day_from, "to": self.day_to, "queue": self.queue}

    def query(self) -> dict[str, str]:
        """The filter as the page's own query string values (for CSV links)."""
        return {"from": self.day_from, "to": self.day_to, "interval": self.interval,
                "queue": self.queue, "target_sl": f"{self.target_sl * 100:g}",
                "target_s": f"{self.target_s:g}"}


def parse_report_filter(query: dict[str, str]) -> ReportFilter:
    """The filter from the page's query; ValidationError naming the field when malformed."""
    days = {}
    for key in ("from", "to"):
        raw = (query.get(key) or "").strip()
        if raw:
            try:
                date.fromisoformat(raw)
            except ValueError:
                raise ValidationError(f"{key}: must be a day like 2026-11-01") from None
        days[key] = raw
    if days["from"] and days["to"] and days["from"] > days["to"]:
        raise ValidationError("to: must not be before from")
    interval = query.get("interval") or "day"
    if interval not in INTERVALS:
        raise ValidationError(f"interval: must be one of {', '.join(INTERVALS)}")
    queue = (query.get("queue") or "").strip()
    if queue and not all(c.isalnum() or c in "_.-" for c in queue):
        raise ValidationError("queue: letters, digits, _ . - only")
    try:
        target_sl = float(query.get("target_sl") or 80) / 100
        target_s = float(query.get("target_s") or 20)
    except ValueError:
        raise ValidationError("target_sl: must be a number") from None
    if not 0 < target_sl <= 1:
        raise ValidationError("target_sl: must be between 1 and 100")
    if not 0 < target_s <= 3600:
        raise ValidationError("target_s: must be between 1 and 3600")
    return ReportFilter(days["from"], days["to"], interval, queue, target_sl, target_s)


def interval_label(name: str, t: Any) -> str:
    """An interval name of the API in the reader's language: a day, a month, or a day and time."""
    if len(name) == 7:
        return t.month(int(name[:4]), int(name[5:7]))
    if len(name) == 10:
        return t.date(name)
    return t.datetime(name[:16])  # the box's wall time already: CLDR's date and 24-hour time


def heat_level(value: float, top: float) -> int:
    """0 for no calls, then 1..HEAT_LEVELS-1 by the share of the busiest hour."""
    if not value or top <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, round(value / top * (HEAT_LEVELS - 1))))


def heat_rows(heatmap: dict[str, Any]) -> list[tuple[str, list[tuple[int, int]]]]:
    """[(weekday, [(calls, level) for 24 hours])] coloured against the busiest hour of the span."""
    calls = heatmap.get("calls") or []
    top = max((max(row) for row in calls if row), default=0)
    names = heatmap.get("weekdays") or list(WEEKDAYS)
    return [(names[i] if i < len(names) else str(i),
             [(int(v or 0), heat_level(v or 0, top)) for v in row])
            for i, row in enumerate(calls)]


def staffing_grid(staffing: dict[str, Any]) -> list[tuple[int, list[int | None]]]:
    """The 168 hourly advices as [(weekday, [agents for hours 0..23])]."""
    grid: dict[int, list[int | None]] = {d: [None] * 24 for d in range(7)}
    for row in staffing.get("rows") or []:
        day, hour = row.get("weekday"), row.get("hour")
        if isinstance(day, int) and isinstance(hour, int) and 0 <= day < 7 and 0 <= hour < 24:
            grid[day][hour] = row.get("agents")
    return sorted(grid.items())


def trend_rows(report: dict[str, Any], queue: str) -> list[dict[str, Any]]:
    """The rows of one queue ("*": all queues together), in time order."""
    return [r for r in report.get("rows") or [] if r.get("queue") == (queue or "*")]


def queue_table(report: dict[str, Any]) -> list[tuple[bool, dict[str, Any]]]:
    """The rows of the queues table as (whole_span, row), each figure once.

    The summary over the whole span comes first, unless the span is a single
    interval (one day by day, days of one month by month): then the summary
    is that interval's rows again, and it was listed as a second copy of them.
    """
    rows = list(report.get("rows") or [])
    summary = list(report.get("summary") or [])
    start, end, interval = str(report.get("from") or ""), str(report.get("to") or ""), report.get("interval")
    if (interval == "day" and start == end) or (interval == "month" and start[:7] == end[:7]):
        summary = [] if rows else summary  # with no calls at all, the zero summary says so once
    return [(True, r) for r in summary] + [(False, r) for r in rows]


def service_level_svg(points: Sequence[tuple[str, float | None]], target: float,
                      title: str, desc: str, fmt: Callable[[float | None], str],
                      width: int = 640, height: int = 200) -> str:
    """A bar chart of service levels (0..1) with the target as a dashed line, as SVG markup.

    Each bar has its own <title> (label and value) so a pointer or a screen
    reader gets the figure; a missing value (no calls) draws no bar.
    """
    pad_left, pad_bottom, pad_top = 36, 20, 8
    inner_w, inner_h = width - pad_left - 4, height - pad_bottom - pad_top
    n = max(1, len(points))
    slot = inner_w / n
    bar = max(1.0, slot * 0.7)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="sl-title sl-desc" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="sl-title">{escape(title)}</title><desc id="sl-desc">{escape(desc)}</desc>']
    for frac in (0, 0.5, 1):
        y = pad_top + inner_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{pad_left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{pad_left - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(fmt(frac))}</text>')
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        h = inner_h * max(0.0, min(1.0, value))
        x = pad_left + i * slot + (slot - bar) / 2
        cls = "bar ok" if value >= target else "bar low"
        parts.append(f'<rect class="{cls}" x="{x:.1f}" y="{pad_top + inner_h - h:.1f}" '
                     f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(label)}: '
                     f'{escape(fmt(value))}</title></rect>')
    ty = pad_top + inner_h * (1 - target)
    parts.append(f'<line class="target" x1="{pad_left}" x2="{width - 4}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
    if points:
        parts.append(f'<text class="axis" x="{pad_left}" y="{height - 4}">{escape(points[0][0])}</text>')
        parts.append(f'<text class="axis" x="{width - 4}" y="{height - 4}" text-anchor="end">'
                     f'{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return "".join(parts)
