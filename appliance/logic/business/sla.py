"""The monthly service-level agreement report: what was promised, what was achieved.

A contract (or the owner's own promise) has three clauses, checked per queue
or for all queues together ("*"):

- answer: at least `answer_pct` % of calls answered within `within_s`
  seconds (the service level of docs/statistics.md: answered within /
  (offered - short abandons));
- abandon: at most `max_abandon_pct` % of calls abandoned (abandon rate:
  (abandoned - short abandons) / (offered - short abandons));
- coverage: the share of the contracted hours (`hours_covered`, a weekly
  schedule like a time condition's, less holidays) during which at least one
  agent was logged in; a clause only when `min_coverage_pct` is set,
  otherwise shown for information.

Each clause gets its achieved value, its margin in percentage points (how
much to spare; negative: how much short) and met / missed. Meeting a target
exactly counts as met. A clause with no calls under it is "no data", which
is neither met nor missed: no calls is not bad service.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import StrEnum
from html import escape

from appliance.errors import ValidationError
from appliance.logic import csv_safe
from appliance.logic.business.coverage import (
    contracted_spans,
    intersection,
    seconds_in,
    staffed_spans,
)
from appliance.logic.business.localize import (
    NBSP,
    Language,
    format_date,
    format_month,
    format_number,
    format_percent,
    language,
)
from appliance.logic.business.page import html_page, table
from appliance.logic.flows.schedule import HolidayCalendar, WeekSchedule
from appliance.logic.stats.intervals import day_start, zone
from appliance.logic.stats.kpis import ALL_QUEUES, QueueKpis
from appliance.logic.stats.rollup import Rollup
from appliance.logic.stats.schema import Event, parse_time
from appliance.logic.stats.tally import WAIT_EDGES, Tally

# Float ratios of whole counts can land a hair under a target they meet exactly.
_TOLERANCE = 1e-9


class ClauseStatus(StrEnum):
    MET = "met"
    MISSED = "missed"
    NO_DATA = "no_data"                # nothing to measure (no calls, no contracted hours)
    NOT_CONTRACTED = "not_contracted"  # shown for information, no target


@dataclass(frozen=True)
class SlaTargets:
    """What was promised for one queue (or "*", all queues together) each month."""

    queue: str = ALL_QUEUES
    answer_pct: float = 80.0
    within_s: float = 20.0
    max_abandon_pct: float = 5.0
    hours_covered: WeekSchedule = field(default_factory=WeekSchedule)
    min_coverage_pct: float | None = None

    def __post_init__(self) -> None:
        for name in ("answer_pct", "max_abandon_pct"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValidationError(f"{name}: must be a percentage from 0 to 100")
        if self.min_coverage_pct is not None and not 0 <= self.min_coverage_pct <= 100:
            raise ValidationError("min_coverage_pct: must be a percentage from 0 to 100")
        if self.within_s < 0:
            raise ValidationError("within_s: must not be negative")
        if not self.queue:
            raise ValidationError("queue: name a queue, or * for all queues")


@dataclass(frozen=True)
class SlaCalendar:
    """The month reported on, in the business's time zone.

    `until` cuts a month still running at now: calls are whatever the input
    holds, contracted hours and sessions stop there.
    """

    month: str
    tz: str = "UTC"
    holidays: HolidayCalendar | None = None
    until: datetime | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        """The month's first and last instants [start, end), UTC."""
        try:
            year, month = (int(p) for p in self.month.split("-"))
            first = date(year, month, 1)
        except (ValueError, TypeError):
            raise ValidationError(f"{self.month!r} is not a month like 2026-10") from None
        following = date(year + month // 12, month % 12 + 1, 1)
        tz = zone(self.tz)
        start = day_start(first, tz).astimezone(timezone.utc)
        end = day_start(following, tz).astimezone(timezone.utc)
        if self.until is not None:
            end = max(start, min(end, parse_time(self.until, tz)))
        return start, end


@dataclass(frozen=True)
class Clause:
    """One promise checked: percentages, margin in percentage points (positive = to spare)."""

    target_pct: float | None
    achieved_pct: float | None
    margin_pct: float | None
    status: ClauseStatus


@dataclass(frozen=True)
class SlaRow:
    """One queue's month against its targets."""

    queue: str
    within_s: float
    offered: int
    short_abandoned: int
    answered: int
    answered_within: float
    abandoned: int
    contracted_h: float
    covered_h: float
    answer: Clause
    abandon: Clause
    coverage: Clause
    # True when answered-within comes from the wait histogram (a target off
    # the histogram's edges and other than the one the month was rolled up with).
    within_estimated: bool = False

    @property
    def counted(self) -> int:
        """Calls the ratios stand on: offered less short abandons."""
        return self.offered - self.short_abandoned

    @property
    def met(self) -> bool:
        """No clause missed (a clause without data is not a miss)."""
        return all(c.status is not ClauseStatus.MISSED for c in (self.answer, self.abandon, self.coverage))


@dataclass(frozen=True)
class SlaReport:
    month: str
    tz: str
    rows: tuple[SlaRow, ...]

    @property
    def met(self) -> bool:
        return all(row.met for row in self.rows)


def _at_least(achieved: float | None, target: float | None) -> Clause:
    if target is None:
        return Clause(None, achieved, None, ClauseStatus.NOT_CONTRACTED)
    if achieved is None:
        return Clause(target, None, None, ClauseStatus.NO_DATA)
    margin = achieved - target
    return Clause(target, achieved, margin,
                  ClauseStatus.MET if margin >= -_TOLERANCE else ClauseStatus.MISSED)


def _at_most(achieved: float | None, target: float) -> Clause:
    if achieved is None:
        return Clause(target, None, None, ClauseStatus.NO_DATA)
    margin = target - achieved
    return Clause(target, achieved, margin,
                  ClauseStatus.MET if margin >= -_TOLERANCE else ClauseStatus.MISSED)


def _pct(part: float, whole: float) -> float | None:
    # Multiply first: 7 * 100 / 100 is exactly 7.0, 7 / 100 * 100 is not.
    return part * 100 / whole if whole > 0 else None


def _counts_from_rollup(month: Rollup, targets: SlaTargets) -> tuple[Tally, float, bool]:
    tally = month.total() if targets.queue == ALL_QUEUES else month.queues.get(targets.queue, Tally())
    if targets.within_s == month.target_s:
        return tally, float(tally.answered_within_target), False
    return tally, tally.answered_within(targets.within_s), targets.within_s not in WAIT_EDGES


def _counts_from_rows(rows: list[QueueKpis], targets: SlaTargets) -> tuple[Tally, float, bool]:
    mine = [r for r in rows if r.queue == targets.queue]
    if len(mine) > 1:
        raise ValidationError(
            f"queue {targets.queue}: give one KPI row for the whole month, not {len(mine)}")
    if not mine:
        return Tally(), 0.0, False
    r = mine[0]
    tally = Tally(offered=r.offered, answered=r.answered, abandoned=r.abandoned,
                  short_abandoned=r.short_abandoned)
    return tally, float(r.answered_within_target), False


def sla_report(
    month: Rollup | Iterable[QueueKpis],
    targets: SlaTargets | Iterable[SlaTargets],
    calendar: SlaCalendar,
    events: Iterable[Event] = (),
    members: Mapping[str, Collection[str]] | None = None,
) -> SlaReport:
    """Check a month's figures against the targets, one row per target.

    `month` is the month's merged roll-up (any `within_s` works: off the
    roll-up's own target it is read from the wait histogram), or KPI rows
    with one row per queue for the month, made with `within_s` as target.
    `events` is the queue log (with the last status event of each agent
    before the month, so that a session running over the month's start
    counts); `members` names the agents of each queue for its coverage
    (without it, or for "*", every agent counts).
    """
    targets_list = [targets] if isinstance(targets, SlaTargets) else list(targets)
    tz = zone(calendar.tz)
    start, end = calendar.bounds()
    events = list(events)
    rows_in = None if isinstance(month, Rollup) else list(month)
    rows = []
    for t in targets_list:
        if rows_in is None:
            tally, within, estimated = _counts_from_rollup(month, t)   # type: ignore[arg-type]
        else:
            tally, within, estimated = _counts_from_rows(rows_in, t)
        counted = tally.offered - tally.short_abandoned
        contracted = contracted_spans(t.hours_covered, start, end, tz, calendar.holidays)
        agents = None
        if members is not None and t.queue != ALL_QUEUES:
            agents = set(members.get(t.queue, ()))
        covered = intersection(contracted, staffed_spans(events, start, end, tz, agents))
        contracted_s, covered_s = seconds_in(contracted), seconds_in(covered)
        rows.append(SlaRow(
            queue=t.queue,
            within_s=t.within_s,
            offered=tally.offered,
            short_abandoned=tally.short_abandoned,
            answered=tally.answered,
            answered_within=within,
            abandoned=tally.abandoned,
            contracted_h=contracted_s / 3600,
            covered_h=covered_s / 3600,
            answer=_at_least(_pct(within, counted), t.answer_pct),
            abandon=_at_most(_pct(tally.abandoned - tally.short_abandoned, counted), t.max_abandon_pct),
            coverage=_at_least(_pct(covered_s, contracted_s), t.min_coverage_pct),
            within_estimated=estimated,
        ))
    return SlaReport(month=calendar.month, tz=calendar.tz, rows=tuple(rows))


# --------------------------------------------------------------------------
# CSV

CSV_COLUMNS: tuple[str, ...] = (
    "month", "queue", "offered", "short_abandoned", "counted", "answered", "answered_within",
    "within_s", "service_level_pct", "target_answer_pct", "answer_margin_pct", "answer_status",
    "abandoned", "abandon_rate_pct", "max_abandon_pct", "abandon_margin_pct", "abandon_status",
    "contracted_h", "covered_h", "coverage_pct", "min_coverage_pct", "coverage_margin_pct",
    "coverage_status", "met",
)


def _fixed(value: float | None, places: int = 2) -> str:
    return "" if value is None else f"{value:.{places}f}"


def to_csv(report: SlaReport) -> str:
    """One line per queue, columns in CSV_COLUMNS order (it only ever grows at the end).

    Percentages in percent with 2 decimals, hours with 2 decimals, an empty
    cell where there is nothing to measure; a point for decimals whatever
    the report language, so spreadsheets read it as numbers.
    """
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
        within = f"{r.answered_within:.0f}" if not r.within_estimated else f"{r.answered_within:.1f}"
        writer.writerow([
            report.month, r.queue, r.offered, r.short_abandoned, r.counted, r.answered, within,
            _fixed(r.within_s, 1),
            _fixed(r.answer.achieved_pct), _fixed(r.answer.target_pct), _fixed(r.answer.margin_pct),
            r.answer.status.value,
            r.abandoned,
            _fixed(r.abandon.achieved_pct), _fixed(r.abandon.target_pct), _fixed(r.abandon.margin_pct),
            r.abandon.status.value,
            _fixed(r.contracted_h), _fixed(r.covered_h),
            _fixed(r.coverage.achieved_pct), _fixed(r.coverage.target_pct),
            _fixed(r.coverage.margin_pct), r.coverage.status.value,
            "met" if r.met else "missed",
        ])
    return out.getvalue()


# --------------------------------------------------------------------------
# HTML

TEXTS: dict[Language, dict[str, str]] = {
    Language.ENGLISH: {
        "title": "Service level report", "all": "All queues", "queue": "Queue",
        "clause": "Clause", "target": "Target", "achieved": "Achieved", "margin": "Margin",
        "result": "Result", "answer": "Answered within {s} s", "abandon": "Abandoned (at most)",
        "coverage": "Contracted hours staffed", "met": "met", "missed": "missed",
        "no_data": "no calls", "not_contracted": "for information", "offered": "Calls offered",
        "short": "Short abandons (not counted)", "answered": "Answered", "within": "Answered within target",
        "abandoned": "Abandoned", "hours": "Contracted hours / staffed", "summary": "Summary",
        "overall_met": "All targets met.", "overall_missed": "Some targets were missed.",
        "estimated": "estimated from the wait histogram", "zone": "Time zone",
        "made": "Made on", "points": "pp", "counts": "Calls and hours",
    },
    Language.POLISH: {
        "title": "Raport poziomu obsługi (SLA)", "all": "Wszystkie kolejki", "queue": "Kolejka",
        "clause": "Warunek", "target": "Cel", "achieved": "Wynik", "margin": "Zapas",
        "result": "Ocena", "answer": "Odebrane w ciągu {s} s", "abandon": "Porzucone (najwyżej)",
        "coverage": "Obsadzone godziny umowne", "met": "spełniony", "missed": "niespełniony",
        "no_data": "brak połączeń", "not_contracted": "informacyjnie", "offered": "Połączenia w kolejce",
        "short": "Krótkie porzucenia (nie liczone)", "answered": "Odebrane",
        "within": "Odebrane w czasie docelowym", "abandoned": "Porzucone",
        "hours": "Godziny umowne / obsadzone", "summary": "Podsumowanie",
        "overall_met": "Wszystkie cele spełnione.", "overall_missed": "Niektóre cele nie zostały spełnione.",
        "estimated": "oszacowane z histogramu czasu oczekiwania", "zone": "Strefa czasowa",
        "made": "Sporządzono", "points": "p.p.", "counts": "Połączenia i godziny",
    },
    Language.CHINESE: {
        "title": "服务水平报告", "all": "全部队列", "queue": "队列",
        "clause": "条款", "target": "目标", "achieved": "实际", "margin": "余量",
        "result": "结果", "answer": "{s} 秒内接听", "abandon": "放弃率（上限）",
        "coverage": "约定时段有人值守", "met": "达标", "missed": "未达标",
        "no_data": "无来电", "not_contracted": "仅供参考", "offered": "进入队列来电",
        "short": "短时放弃（不计入）", "answered": "已接听", "within": "目标时间内接听",
        "abandoned": "放弃", "hours": "约定时长 / 值守时长", "summary": "汇总",
        "overall_met": "全部目标达标。", "overall_missed": "部分目标未达标。",
        "estimated": "根据等待时间分布估算", "zone": "时区", "made": "生成日期", "points": "个百分点",
        "counts": "来电与工时",
    },
}


def _status_text(status: ClauseStatus, texts: dict[str, str]) -> str:
    return texts[status.value]


def _margin(value: float | None, lang: Language) -> str:
    """Percentage points with their sign: "+2,5 p.p.", "-10.0 pp"."""
    if value is None:
        return ""
    text = format_number(value, lang, 1)
    sep = "" if lang is Language.CHINESE else NBSP
    return ("+" if value > 0 else "") + text + sep + TEXTS[lang]["points"]


def to_html(report: SlaReport, lang: Language | str = Language.ENGLISH, made_on: date | None = None) -> str:
    """The report as a printable page in `lang` (en, pl or zh)."""
    lang = language(lang)
    texts = TEXTS[lang]
    year, month = (int(p) for p in report.month.split("-"))
    subtitle = f"{format_month(year, month, lang)} · {texts['zone']}: {report.tz}"
    if made_on is not None:
        subtitle += f" · {texts['made']}: {format_date(made_on, lang)}"

    def name(queue: str) -> str:
        return texts["all"] if queue == ALL_QUEUES else queue

    summary_rows = [[(name(r.queue), ""), (texts["met"] if r.met else texts["missed"],
                                          "met" if r.met else "missed")] for r in report.rows]
    overall = texts["overall_met"] if report.met else texts["overall_missed"]
    body = [f"<h2>{escape(texts['summary'])}</h2>\n", f"<p>{escape(overall)}</p>\n",
            table([(texts["queue"], False), (texts["result"], False)], summary_rows)]
    for r in report.rows:
        clauses = []
        answer_label = texts["answer"].format(s=format_number(r.within_s, lang))
        if r.within_estimated:
            answer_label += f" ({texts['estimated']})"
        for label, clause in ((answer_label, r.answer), (texts["abandon"], r.abandon),
                              (texts["coverage"], r.coverage)):
            clauses.append([
                (label, ""),
                (format_percent(clause.target_pct, lang), "num"),
                (format_percent(clause.achieved_pct, lang), "num"),
                (_margin(clause.margin_pct, lang), "num"),
                (_status_text(clause.status, texts), clause.status.value),
            ])
        counts = [
            [(texts["offered"], ""), (format_number(r.offered, lang, 0), "num")],
            [(texts["short"], ""), (format_number(r.short_abandoned, lang, 0), "num")],
            [(texts["answered"], ""), (format_number(r.answered, lang, 0), "num")],
            [(texts["within"], ""), (format_number(r.answered_within, lang, 0 if not r.within_estimated else 1),
                                     "num")],
            [(texts["abandoned"], ""), (format_number(r.abandoned, lang, 0), "num")],
            [(texts["hours"], ""), (f"{format_number(r.contracted_h, lang, 1)} / "
                                    f"{format_number(r.covered_h, lang, 1)}", "num")],
        ]
        body.append(f"<h2>{escape(name(r.queue))}</h2>\n")
        body.append(table([(texts["clause"], False), (texts["target"], True), (texts["achieved"], True),
                           (texts["margin"], True), (texts["result"], False)], clauses))
        body.append(table([(texts["counts"], False), ("", True)], counts))
    return html_page(texts["title"], subtitle, "".join(body), lang)
