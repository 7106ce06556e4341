"""Reports from a data directory: records and queue log written through the store, known answers."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.errors import ValidationError
from appliance.logic.stats import ALL_QUEUES, Interval, KpiSettings, agents_needed, queue_kpis
from appliance.logic.stats.export import AGENT_COLUMNS, QUEUE_COLUMNS, STAFFING_COLUMNS
from appliance.reports import Reports, wrap_ups
from appliance.store.records import CallRecords, MonthlyLog

WARSAW = ZoneInfo("Europe/Warsaw")
DAY = date(2026, 11, 10)  # a Tuesday, UTC+1


class FakeClock:
    def __init__(self, when: datetime):
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when.timestamp()


class Box:
    """A data directory with the box's two logs, written the way the core writes them."""

    def __init__(self, data_dir: Path, when: datetime):
        self.data_dir = data_dir
        self.records = CallRecords(data_dir)
        self.queue_log = MonthlyLog(data_dir / "queue_log", time_key="time")
        self.clock = FakeClock(when)

    def reports(self, **kw) -> Reports:
        return Reports(self.data_dir, "Europe/Warsaw", self.clock, **kw)

    def call(self, local: datetime, queue: str | None, outcome: str | None, wait: float = 0,
             talk: float = 0, agent: str | None = None, call_id: str | None = None,
             direction: str = "inbound") -> str:
        start = local.replace(tzinfo=WARSAW) if local.tzinfo is None else local
        # A call outside queues has no outcome: answered means someone talked.
        answered = outcome in ("ANSWERED", "TRANSFERRED") or (outcome is None and talk > 0)
        call_id = call_id or f"c{start.timestamp():.0f}{queue}{outcome}"
        end = start + timedelta(seconds=wait + talk)
        self.records.append({
            "call_id": call_id, "start": start.isoformat(),
            "answer": (start + timedelta(seconds=wait)).isoformat() if answered else None,
            "end": end.isoformat(), "duration_s": wait + talk, "talk_s": talk,
            "disposition": "ANSWERED" if answered else "NO ANSWER", "direction": direction,
            "caller": "+48601000001", "callee": "100", "answered_by": agent, "hangup_by": "caller",
            "queue": queue, "agent": agent, "wait_s": wait if queue else None, "outcome": outcome,
            "flow": [], "worker": 0, "trunk": None,
        })
        if agent and answered and queue:
            # The ACD logs the end of the talk; the wrap-up is what follows until WRAP_UP_END.
            self.event(end, "CALL_ENDED", agent, call_id=call_id, queue=queue, talk_s=talk)
        return call_id

    def event(self, local: datetime, kind: str, agent: str, **fields) -> None:
        when = local.replace(tzinfo=WARSAW) if local.tzinfo is None else local
        self.queue_log.append({"time": when.isoformat(), "event": kind, "agent": agent, **fields})

    def close(self) -> None:
        self.records.close()
        self.queue_log.close()


@pytest.fixture
def box(tmp_path):
    b = Box(tmp_path, datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc))
    yield b
    b.close()


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss)


@pytest.fixture
def tuesday(box):
    """One hand-made Tuesday: five sales calls, one support call, agent sessions and wrap-ups."""
    a = box.call(at(9, 5), "sales", "ANSWERED", wait=10, talk=100, agent="201")
    box.event(at(9, 5) + timedelta(seconds=110 + 15), "WRAP_UP_END", "201")
    b = box.call(at(9, 20), "sales", "ANSWERED", wait=30, talk=200, agent="202")
    box.event(at(9, 20) + timedelta(seconds=230 + 25), "WRAP_UP_END", "202")
    box.call(at(9, 40), "sales", "ABANDONED", wait=3)           # a short abandon
    box.call(at(10, 10), "sales", "ABANDONED", wait=40)
    box.call(at(10, 30), "sales", "CALLBACK_REQUESTED", wait=60)
    box.call(at(11, 0), "support", "ANSWERED", wait=5, talk=60, agent="201")
    box.event(at(11, 1, 10), "WRAP_UP_END", "201")
    box.call(at(12, 0), None, None, talk=40, direction="outbound", agent="201")
    box.call(at(13, 0), "sales", "ANSWERED", wait=2, talk=50, agent="202", direction="internal")
    for when, kind, agent, reason in ((at(8), "AGENT_LOGIN", "201", None),
                                      (at(12), "AGENT_BREAK", "201", "lunch"),
                                      (at(12, 30), "AGENT_AVAILABLE", "201", None),
                                      (at(16), "AGENT_LOGOUT", "201", None),
                                      (at(9), "AGENT_LOGIN", "202", None),
                                      (at(13), "AGENT_LOGOUT", "202", None)):
        box.event(when, kind, agent, **({"reason": reason} if reason else {}))
    return a, b


def rows_by(report: dict, key: str = "queue") -> dict:
    return {r[key]: r for r in report["rows"]}


def test_day_report_matches_hand_computed_kpis(box, tuesday):
    report = box.reports().queue_report(DAY, DAY, "day")
    rows = rows_by(report)
    assert set(rows) == {ALL_QUEUES, "sales", "support"}
    sales = rows["sales"]
    assert sales["interval"] == "2026-11-10"
    assert (sales["offered"], sales["answered"], sales["abandoned"], sales["short_abandoned"],
            sales["callbacks_requested"], sales["answered_within_target"]) == (5, 2, 2, 1, 1, 1)
    assert sales["service_level"] == pytest.approx(1 / 4)       # 1 within 20 s of 5 - 1 short
    assert sales["abandon_rate"] == pytest.approx(1 / 4)
    assert sales["asa_s"] == pytest.approx((10 + 30) / 2)
    assert sales["aht_s"] == pytest.approx((100 + 15 + 200 + 25) / 2)  # wrap-up from the queue log
    assert sales["longest_wait_s"] == 60
    support = rows["support"]
    assert (support["offered"], support["answered"], support["service_level"], support["asa_s"],
            support["aht_s"]) == (1, 1, 1.0, 5, 60 + 5)
    total = rows[ALL_QUEUES]
    assert total["offered"] == 6
    assert total["service_level"] == pytest.approx(2 / 5)
    assert total["asa_s"] == pytest.approx(45 / 3)
    assert report["summary"][0]["queue"] == ALL_QUEUES and report["summary"][0]["offered"] == 6


def test_one_queue_and_month_interval(box, tuesday):
    report = box.reports().queue_report(date(2026, 11, 1), date(2026, 11, 30), "month", queue="support")
    assert [(r["queue"], r["interval"], r["offered"]) for r in report["rows"]] == [("support", "2026-11", 1)]
    assert [r["queue"] for r in report["summary"]] == ["support"]


def test_hour_and_quarter_hour_rows(box, tuesday):
    reports = box.reports()
    hours = reports.queue_report(DAY, DAY, "hour", queue="sales")["rows"]
    assert [(r["interval"], r["offered"], r["answered"], r["short_abandoned"]) for r in hours] == [
        ("2026-11-10T09:00+01:00", 3, 2, 1), ("2026-11-10T10:00+01:00", 2, 0, 0)]
    assert hours[0]["asa_s"] == pytest.approx(20)
    quarters = reports.queue_report(DAY, DAY, "15min", queue="sales")["rows"]
    assert [(r["interval"][11:16], r["offered"]) for r in quarters] == [
        ("09:00", 1), ("09:15", 1), ("09:30", 1), ("10:00", 1), ("10:30", 1)]
    everything = reports.queue_report(DAY, DAY, "hour")["rows"]
    assert [(r["interval"][11:16], r["queue"]) for r in everything] == [
        ("09:00", "*"), ("09:00", "sales"), ("10:00", "*"), ("10:00", "sales"),
        ("11:00", "*"), ("11:00", "support")]


def test_agent_report_from_queue_log_and_records(box, tuesday):
    rows = rows_by(box.reports().agent_report(DAY, DAY), "agent")
    first, second = rows["201"], rows["202"]
    # The outbound call counts for the agent (answered, any direction) but not for a queue.
    assert (first["calls"], first["talk_s"], first["wrap_up_s"]) == (3, 100 + 60 + 40, 15 + 5)
    assert first["logged_in_s"] == 8 * 3600 and first["break_s_by_reason"] == {"lunch": 1800}
    assert first["utilisation"] == pytest.approx(200 / (8 * 3600))
    assert first["occupancy"] == pytest.approx(220 / (8 * 3600 - 1800))
    assert (second["calls"], second["talk_s"], second["wrap_up_s"], second["logged_in_s"]) == (
        2, 250, 25, 4 * 3600)


def test_a_stored_rollup_is_read_back_not_recomputed(box, tuesday):
    reports = box.reports()
    assert rows_by(reports.queue_report(DAY, DAY))["sales"]["offered"] == 5
    path = box.data_dir / "stats" / "2026-11-10.json"
    stored = json.loads(path.read_text())
    assert stored["queues"]["sales"]["offered"] == 5
    assert (box.data_dir / "stats" / "2026-11-10.intervals.json").exists()
    stored["queues"]["sales"]["offered"] = 99
    path.write_text(json.dumps(stored))
    box.call(at(15), "sales", "ANSWERED", wait=1, talk=1, agent="201")  # a late record of a closed day
    assert rows_by(reports.queue_report(DAY, DAY))["sales"]["offered"] == 99
    assert reports.rollup(DAY).queues["sales"].offered == 99
    # Rebuilding reads the records again and takes in the late one.
    assert reports.rebuild(DAY, DAY) == 1
    assert reports.rollup(DAY).queues["sales"].offered == 6


def test_other_settings_recompute_stored_days(box, tuesday):
    box.reports().queue_report(DAY, DAY)
    stricter = box.reports(settings=KpiSettings(target_s=5.0))
    sales = rows_by(stricter.queue_report(DAY, DAY))["sales"]
    assert sales["answered_within_target"] == 0
    assert json.loads((box.data_dir / "stats" / "2026-11-10.json").read_text())["target_s"] == 5.0


def test_a_broken_stored_file_is_computed_again(box, tuesday):
    reports = box.reports()
    reports.queue_report(DAY, DAY)
    (box.data_dir / "stats" / "2026-11-10.json").write_text('{"format": 1, "queues"')
    assert rows_by(reports.queue_report(DAY, DAY))["sales"]["offered"] == 5


def test_today_is_computed_afresh_and_not_stored(box):
    box.clock.set(datetime(2026, 11, 22, 14, 0, tzinfo=WARSAW))
    today = date(2026, 11, 22)
    reports = box.reports()
    box.call(at(9, day=today), "sales", "ANSWERED", wait=12, talk=30, agent="201")
    first = reports.today()
    assert first["day"] == "2026-11-22"
    assert rows_by({"rows": first["queues"]})["sales"]["offered"] == 1
    box.call(at(10, day=today), "sales", "ABANDONED", wait=50)
    box.call(at(11, day=today), "sales", "ANSWERED", wait=30, talk=30, agent="201")
    sales = rows_by({"rows": reports.today()["queues"]})["sales"]
    assert (sales["offered"], sales["answered"], sales["abandoned"]) == (3, 2, 1)
    assert sales["service_level"] == pytest.approx(1 / 3)
    assert sales["asa_s"] == pytest.approx(21)
    assert not (box.data_dir / "stats" / "2026-11-22.json").exists()


def test_today_counts_open_sessions_up_to_now(box):
    today = date(2026, 11, 22)
    box.clock.set(datetime(2026, 11, 22, 14, 0, tzinfo=WARSAW))
    box.event(at(8, day=today), "AGENT_LOGIN", "201")
    box.event(at(13, day=today), "AGENT_BREAK", "201", reason="lunch")
    row = rows_by(box.reports().agent_report(today, today), "agent")["201"]
    assert (row["logged_in_s"], row["break_s_by_reason"]) == (6 * 3600, {"lunch": 3600})


def test_a_day_just_ended_is_not_stored_until_late_calls_are_in(box):
    box.call(at(23, 58), "sales", "ANSWERED", wait=5, talk=30, agent="201")
    box.clock.set(datetime(2026, 11, 11, 0, 30, tzinfo=WARSAW))
    reports = box.reports()
    assert rows_by(reports.queue_report(DAY, DAY))["sales"]["offered"] == 1
    assert not (box.data_dir / "stats" / "2026-11-10.json").exists()
    # Began before midnight, ended (and so was written) after it.
    box.call(at(23, 59), "sales", "ANSWERED", wait=5, talk=600, agent="202")
    box.clock.set(datetime(2026, 11, 11, 6, 0, tzinfo=WARSAW))
    assert rows_by(reports.queue_report(DAY, DAY))["sales"]["offered"] == 2
    assert json.loads((box.data_dir / "stats" / "2026-11-10.json").read_text())["queues"]["sales"]["offered"] == 2


def test_agent_sessions_carry_over_midnight(box):
    nxt = DAY + timedelta(days=1)
    box.event(at(20), "AGENT_LOGIN", "201")
    box.event(at(22), "AGENT_BREAK", "201", reason="dinner")
    box.event(at(1, day=nxt), "AGENT_AVAILABLE", "201")
    box.event(at(2, day=nxt), "AGENT_LOGOUT", "201")
    box.event(at(9), "AGENT_LOGIN", "202")
    box.event(at(17), "AGENT_LOGOUT", "202")
    reports = box.reports()
    # Without the day before stored, the queue log before the day is searched.
    nxt_rows = rows_by(reports.agent_report(nxt, nxt), "agent")
    assert "202" not in nxt_rows  # logged out the day before: nothing to carry
    second = nxt_rows["201"]
    assert (second["logged_in_s"], second["break_s_by_reason"]) == (2 * 3600, {"dinner": 3600})
    both = rows_by(reports.agent_report(DAY, nxt), "agent")["201"]
    assert (both["logged_in_s"], both["break_s_by_reason"]) == (6 * 3600, {"dinner": 3 * 3600})
    # With the day before stored, its carry is enough: the queue log before is not needed.
    box.queue_log.delete_where(lambda e: e["event"] in ("AGENT_LOGIN", "AGENT_BREAK"))
    (box.data_dir / "stats" / f"{nxt.isoformat()}.json").unlink()
    again = rows_by(reports.agent_report(nxt, nxt), "agent")["201"]
    assert (again["logged_in_s"], again["break_s_by_reason"]) == (2 * 3600, {"dinner": 3600})


@pytest.mark.parametrize("day, hours", [(date(2026, 10, 25), 25), (date(2026, 3, 29), 23)])
def test_dst_days_in_warsaw(box, day, hours):
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    box.event(at(23, day=before), "AGENT_LOGIN", "201")
    box.event(at(1, day=after), "AGENT_LOGOUT", "201")
    reports = box.reports()
    assert rows_by(reports.agent_report(day, day), "agent")["201"]["logged_in_s"] == hours * 3600


def test_autumn_dst_hour_is_two_intervals(box):
    utc = timezone.utc
    for when in (datetime(2026, 10, 24, 22, 30, tzinfo=utc),   # 00:30+02:00
                 datetime(2026, 10, 25, 0, 15, tzinfo=utc),    # 02:15+02:00
                 datetime(2026, 10, 25, 1, 15, tzinfo=utc),    # 02:15+01:00, the repeated hour
                 datetime(2026, 10, 25, 1, 20, tzinfo=utc),
                 datetime(2026, 10, 25, 22, 30, tzinfo=utc),   # 23:30+01:00
                 datetime(2026, 10, 25, 23, 30, tzinfo=utc)):  # 00:30 on the 26th
        box.call(when, "sales", "ANSWERED", wait=4, talk=10, agent="201")
    day = date(2026, 10, 25)
    reports = box.reports()
    hours = reports.queue_report(day, day, "hour", queue="sales")["rows"]
    assert [(r["interval"], r["offered"]) for r in hours] == [
        ("2026-10-25T00:00+02:00", 1), ("2026-10-25T02:00+02:00", 1),
        ("2026-10-25T02:00+01:00", 2), ("2026-10-25T23:00+01:00", 1)]
    days = reports.queue_report(day, day + timedelta(days=1), "day", queue="sales")["rows"]
    assert [(r["interval"], r["offered"]) for r in days] == [("2026-10-25", 5), ("2026-10-26", 1)]
    # Read back from the stored interval tallies, the repeated hour stays two rows.
    assert reports.queue_report(day, day, "hour", queue="sales")["rows"] == hours


def test_heatmap_counts_calls_per_hour_of_week(box, tuesday):
    box.call(at(9, 30, day=DAY + timedelta(days=7)), "support", "ABANDONED", wait=8)
    heat = box.reports().heatmap(date(2026, 11, 9), date(2026, 11, 17))
    # Monday the 9th comes before the first call: not a quiet Monday but no data.
    assert heat["weekdays"][1] == "Tue" and heat["days"] == [1, 2, 1, 1, 1, 1, 1]
    assert heat["calls"][1][9] == 4 and heat["calls"][1][10] == 2 and heat["calls"][1][11] == 1
    assert sum(map(sum, heat["calls"])) == 7
    assert heat["average"][1][9] == 2.0 and heat["average"][0][9] == 0.0
    only = box.reports().heatmap(date(2026, 11, 9), date(2026, 11, 17), queue="support")
    assert only["calls"][1][9] == 1 and only["calls"][1][11] == 1


def test_staffing_uses_the_hour_of_week_profile(box, tuesday):
    report = box.reports().staffing(DAY - timedelta(days=30), DAY, target_sl=0.8, target_s=20)
    assert len(report["rows"]) == 168 and report["days"] == 1
    tue9 = report["rows"][24 + 9]
    assert tue9["label"] == "Tue 09:00" and tue9["calls_per_hour"] == 3
    assert tue9["aht_s"] == pytest.approx(170)
    assert tue9["agents"] == agents_needed(3, 170, 0.8, 20)
    assert report["rows"][0]["agents"] == 0


def test_staffing_leaves_out_today(box, tuesday):
    box.clock.set(datetime(2026, 11, 10, 18, 0, tzinfo=WARSAW))
    report = box.reports().staffing(DAY, DAY)
    assert report["days"] == 0 and all(r["agents"] == 0 for r in report["rows"])


def _csv(text: str) -> list[list[str]]:
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text)))


def test_csv_columns(box, tuesday):
    reports = box.reports()
    queues = _csv(reports.queue_report_csv(DAY, DAY, "day"))
    assert tuple(queues[0]) == QUEUE_COLUMNS
    sales = dict(zip(queues[0], next(r for r in queues[1:] if r[1] == "sales")))
    assert (sales["interval"], sales["offered"], sales["service_level"], sales["asa_s"]) == (
        "2026-11-10", "5", "0.2500", "20.0")
    agents = _csv(reports.agent_report_csv(DAY, DAY))
    assert tuple(agents[0]) == AGENT_COLUMNS and [r[0] for r in agents[1:]] == ["201", "202"]
    assert dict(zip(agents[0], agents[1]))["breaks_by_reason"] == "lunch=1800.0"
    staffing = _csv(reports.staffing_csv(DAY, DAY))
    assert tuple(staffing[0]) == STAFFING_COLUMNS and len(staffing) == 169
    heat = _csv(reports.heatmap_csv(DAY, DAY))
    assert heat[0] == ["weekday", "days", *(f"{h:02d}" for h in range(24))]
    assert heat[2][0] == "Tue" and heat[2][1] == "1" and heat[2][2 + 9] == "3"
    box.clock.set(datetime(2026, 11, 10, 18, 0, tzinfo=WARSAW))
    today = _csv(reports.today_csv())
    assert tuple(today[0]) == QUEUE_COLUMNS and today[1][1] == ALL_QUEUES and today[1][2] == "6"


def test_bad_requests(box):
    reports = box.reports()
    with pytest.raises(ValidationError):
        reports.queue_report(DAY, DAY - timedelta(days=1))
    with pytest.raises(ValidationError):
        reports.queue_report(DAY, DAY, "week")
    with pytest.raises(ValidationError):
        reports.queue_report(DAY, DAY + timedelta(days=200), "15min")
    with pytest.raises(ValidationError):
        reports.agent_report("yesterday", DAY)


def test_days_before_any_data_are_empty_and_not_stored(box, tuesday):
    report = box.reports().queue_report(date(2026, 8, 1), date(2026, 9, 30))
    assert report["rows"] == [] and report["summary"][0]["offered"] == 0
    assert not (box.data_dir / "stats").exists()
    box.reports().queue_report(date(2026, 10, 30), DAY)
    assert sorted(p.name for p in (box.data_dir / "stats").glob("*.intervals.json"))[0] == (
        "2026-10-31.intervals.json")  # the month of the first record, with a day of slack


def test_days_ahead_are_empty_and_not_stored(box):
    ahead = date(2026, 12, 1)
    report = box.reports().queue_report(ahead, ahead)
    assert report["rows"] == [] and report["summary"][0]["offered"] == 0
    assert not (box.data_dir / "stats").exists()


def test_wrap_ups_pair_call_end_with_the_agents_next_wrap_up_end():
    events = [
        {"time": "2026-11-10T09:00:00+00:00", "event": "CALL_ENDED", "agent": "201", "call_id": "a"},
        {"time": "2026-11-10T09:00:05+00:00", "event": "CALL_ENDED", "agent": "202", "call_id": "b"},
        {"time": "2026-11-10T09:00:20+00:00", "event": "WRAP_UP_END", "agent": "202"},
        {"time": "2026-11-10T09:00:30+00:00", "event": "WRAP_UP_END", "agent": "201"},
        {"time": "2026-11-10T09:05:00+00:00", "event": "WRAP_UP_END", "agent": "201"},
    ]
    assert wrap_ups(events) == {"a": 30.0, "b": 15.0}


def test_reports_over_weeks_equal_the_statistics_over_all_calls(box):
    """Random calls over the autumn DST change: stored days add up to the direct computation."""
    rng = random.Random(3)
    start = datetime(2026, 10, 20, tzinfo=WARSAW)
    for n in range(160):
        when = start + timedelta(minutes=rng.randrange(16 * 24 * 60))
        outcome = rng.choice(["ANSWERED", "ANSWERED", "ABANDONED", "TIMEOUT", "TRANSFERRED",
                              "CALLBACK_COMPLETED", "FULL"])
        answered = outcome in ("ANSWERED", "TRANSFERRED")
        box.call(when, rng.choice(["sales", "support"]), outcome, wait=rng.randrange(90),
                 talk=rng.randrange(1, 400) if answered else 0, agent="201" if answered else None,
                 call_id=f"r{n}")
    records = box.records.query(limit=None, newest_first=False)
    first, last = date(2026, 10, 20), date(2026, 11, 4)
    reports = box.reports()
    for interval in Interval:
        expected = [r.to_dict() for r in queue_kpis(records, interval, "Europe/Warsaw")]
        fresh = reports.queue_report(first, last, interval)["rows"]
        stored = reports.queue_report(first, last, interval)["rows"]
        assert fresh == expected and stored == expected, interval
    assert len(list((box.data_dir / "stats").glob("*.intervals.json"))) == 16
