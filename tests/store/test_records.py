from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.errors import NotFound, StoreError, ValidationError
from appliance.store.records import CallRecords, MonthlyLog

UTC = timezone.utc


def call(start: str, **fields) -> dict:
    return {"start": start, **fields}


def shard_lines(log: MonthlyLog, month: str) -> list[dict]:
    return [json.loads(line) for line in (log.directory / f"{month}.jsonl").read_bytes().splitlines()]


@pytest.fixture
def cdr(tmp_path):
    with CallRecords(tmp_path) as log:
        yield log


def test_append_assigns_an_id_and_the_record_survives_reopening(tmp_path):
    with CallRecords(tmp_path) as log:
        record_id = log.append(call("2026-11-02T09:15:00+01:00", caller="+48601234567"))
        assert record_id
    with CallRecords(tmp_path) as reopened:
        assert reopened.query() == [
            {"start": "2026-11-02T09:15:00+01:00", "caller": "+48601234567", "id": record_id}
        ]


def test_append_keeps_a_given_id_and_does_not_change_the_callers_dict(cdr):
    record = call("2026-11-02T09:15:00+01:00", id="call-7f3")
    assert cdr.append(record) == "call-7f3"
    assert record == {"start": "2026-11-02T09:15:00+01:00", "id": "call-7f3"}


def test_each_record_goes_to_the_shard_of_its_month(cdr):
    cdr.append(call("2026-10-31T23:59:59+01:00", id="a"))
    cdr.append(call("2026-11-01T00:00:00+01:00", id="b"))
    cdr.append(call("2027-01-05T12:00:00", id="c"))
    assert cdr.months() == ["2026-10", "2026-11", "2027-01"]
    assert [r["id"] for r in cdr.iter_month("2026-11")] == ["b"]


def test_the_time_field_is_chosen_per_log(tmp_path):
    queue_log = MonthlyLog(tmp_path / "queue_log", time_key="at")
    queue_log.append({"at": "2026-12-01T08:00:00+01:00", "event": "ENTERQUEUE"})
    assert queue_log.months() == ["2026-12"]
    with pytest.raises(ValidationError, match="'at'"):
        queue_log.append({"start": "2026-12-01T08:00:00+01:00"})
    queue_log.close()


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"caller": "x"}, "needs 'start'"),
        ({"start": "yesterday"}, "not an ISO 8601"),
        ({"start": 1700000000}, "needs 'start'"),
        ({"start": "2026-11-02T09:00:00", "id": 7}, "id"),
        ({"start": "2026-11-02T09:00:00", "$update": "x"}, "reserved"),
        ({"start": "2026-11-02T09:00:00", "blob": b"\x00"}, "JSON"),
        ({"start": "2026-11-02T09:00:00", "ratio": float("nan")}, "JSON"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(cdr, record, reason):
    with pytest.raises(ValidationError, match=reason):
        cdr.append(record)
    assert cdr.months() == []


def test_updates_are_folded_into_the_record(cdr):
    record_id = cdr.append(call("2026-11-02T09:15:00+01:00", result="ANSWERED"))
    cdr.update(record_id, {"end": "2026-11-02T09:20:00+01:00", "duration": 300})
    cdr.update(record_id, {"result": "TRANSFERRED"})
    assert cdr.get(record_id) == {
        "start": "2026-11-02T09:15:00+01:00",
        "result": "TRANSFERRED",
        "id": record_id,
        "end": "2026-11-02T09:20:00+01:00",
        "duration": 300,
    }
    # An update is one more line, not a rewrite of the month.
    assert len(shard_lines(cdr, "2026-11")) == 3


def test_an_update_finds_its_record_after_a_restart(tmp_path):
    with CallRecords(tmp_path) as log:
        old = log.append(call("2026-09-10T10:00:00+02:00"))
        log.append(call("2026-11-10T10:00:00+01:00"))
    with CallRecords(tmp_path) as log:
        log.update(old, {"end": "2026-09-10T10:01:00+02:00"})
        assert log.get(old)["end"] == "2026-09-10T10:01:00+02:00"
        assert len(shard_lines(log, "2026-09")) == 2


def test_updating_a_missing_record_is_not_found(cdr):
    cdr.append(call("2026-11-02T09:15:00+01:00"))
    with pytest.raises(NotFound):
        cdr.update("no-such-call", {"end": "2026-11-02T09:20:00+01:00"})


@pytest.mark.parametrize(
    "changes, reason",
    [({}, "non-empty"), ({"id": "other"}, "id"), ({"start": "2026-12-01T00:00:00+01:00"}, "cannot move")],
)
def test_bad_updates_are_refused(cdr, changes, reason):
    record_id = cdr.append(call("2026-11-02T09:15:00+01:00"))
    with pytest.raises(ValidationError, match=reason):
        cdr.update(record_id, changes)
    assert len(shard_lines(cdr, "2026-11")) == 1


@pytest.fixture
def three_months(cdr):
    for month, days in (("2026-09", (5, 20)), ("2026-10", (3, 17, 29)), ("2026-11", (1, 2))):
        for day in days:
            cdr.append(call(f"{month}-{day:02d}T10:00:00+00:00", id=f"{month}-{day:02d}", agent="201" if day % 2 else "202"))
    return cdr


def ids(records):
    return [r["id"] for r in records]


def test_query_pages_newest_first(three_months):
    assert ids(three_months.query(limit=3)) == ["2026-11-02", "2026-11-01", "2026-10-29"]
    assert ids(three_months.query(offset=3, limit=3)) == ["2026-10-17", "2026-10-03", "2026-09-20"]
    assert ids(three_months.query(offset=6, limit=3)) == ["2026-09-05"]


def test_query_oldest_first_and_without_limit(three_months):
    assert ids(three_months.query(newest_first=False, limit=None)) == [
        "2026-09-05", "2026-09-20", "2026-10-03", "2026-10-17", "2026-10-29", "2026-11-01", "2026-11-02",
    ]


def test_query_time_range_is_start_inclusive_end_exclusive(three_months):
    got = three_months.query(start=datetime(2026, 9, 20, 10, tzinfo=UTC), end=datetime(2026, 10, 29, 10, tzinfo=UTC))
    assert ids(got) == ["2026-10-17", "2026-10-03", "2026-09-20"]


def test_query_with_a_predicate(three_months):
    assert ids(three_months.query(predicate=lambda r: r["agent"] == "202", limit=None)) == [
        "2026-11-02", "2026-09-20",
    ]


class CountingLog(CallRecords):
    def __init__(self, data_dir):
        super().__init__(data_dir)
        self.months_read: list[str] = []

    def _entries(self, month):
        self.months_read.append(month)
        return super()._entries(month)


def test_query_reads_only_the_shards_it_needs(three_months, tmp_path):
    log = CountingLog(tmp_path)
    log.query(start=datetime(2026, 10, 10, tzinfo=UTC), end=datetime(2026, 10, 20, tzinfo=UTC))
    assert log.months_read == ["2026-10"]
    log.months_read.clear()
    assert ids(log.query(limit=2)) == ["2026-11-02", "2026-11-01"]
    assert log.months_read == ["2026-11"]


def test_query_finds_a_record_written_in_another_utc_offset_across_a_month_edge(cdr):
    # 23:30 in New York on 30 November is already 1 December in UTC.
    cdr.append(call("2026-11-30T23:30:00-05:00", id="late"))
    got = cdr.query(start=datetime(2026, 12, 1, tzinfo=UTC), end=datetime(2026, 12, 2, tzinfo=UTC))
    assert ids(got) == ["late"]


def test_bad_paging_and_months_are_refused(cdr):
    with pytest.raises(ValidationError):
        cdr.query(offset=-1)
    with pytest.raises(ValidationError):
        list(cdr.iter_month("2026-13"))
    assert list(cdr.iter_month("2020-01")) == []


def shard_with_a_tail(tmp_path, tail: bytes):
    """November's shard holding one acknowledged record, then `tail` after it as a crash or a bad disk left it;
    the record's id and the shard."""
    with CallRecords(tmp_path) as log:
        kept = log.append(call("2026-11-02T09:15:00+01:00"))
    shard = tmp_path / "cdr" / "2026-11.jsonl"
    with open(shard, "ab") as f:
        f.write(tail)
    return kept, shard


def test_a_torn_last_line_is_skipped_then_cut_by_the_next_append(tmp_path):
    kept, shard = shard_with_a_tail(tmp_path, b'{"start":"2026-11-02T09:16:00+01:00","id":"torn","cal')
    with CallRecords(tmp_path) as log:
        assert ids(log.query()) == [kept]
        added = log.append(call("2026-11-02T09:17:00+01:00"))
    assert [json.loads(line)["id"] for line in shard.read_bytes().splitlines()] == [kept, added]


def test_a_complete_line_without_its_newline_was_not_acknowledged(tmp_path):
    kept, _ = shard_with_a_tail(tmp_path, b'{"start":"2026-11-02T09:16:00+01:00","id":"unacked"}')
    with CallRecords(tmp_path) as log:
        assert ids(log.query()) == [kept]


def test_an_unreadable_middle_line_is_skipped_with_a_warning(tmp_path, caplog):
    first, _ = shard_with_a_tail(tmp_path, b"\x00\x00\x00garbage\n")
    with CallRecords(tmp_path) as log:
        last = log.append(call("2026-11-02T09:17:00+01:00"))
        with caplog.at_level(logging.WARNING):
            assert ids(log.query()) == [last, first]
    assert "2026-11.jsonl:2" in caplog.text


def test_a_failed_append_takes_its_partial_line_back(cdr, monkeypatch):
    kept = cdr.append(call("2026-11-02T09:15:00+01:00"))
    shard = cdr.directory / "2026-11.jsonl"
    size = shard.stat().st_size

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdatasync", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        cdr.append(call("2026-11-02T09:16:00+01:00"))
    monkeypatch.undo()
    assert shard.stat().st_size == size
    added = cdr.append(call("2026-11-02T09:17:00+01:00"))
    assert ids(cdr.query()) == [added, kept]


def test_delete_where_rewrites_only_affected_shards_folded(three_months):
    log = three_months
    log.update("2026-10-17", {"end": "2026-10-17T10:05:00+00:00"})
    september = (log.directory / "2026-09.jsonl").stat()
    assert log.delete_where(lambda r: r["id"] in ("2026-10-03", "2026-11-01")) == 2
    assert ids(log.query(limit=None)) == ["2026-11-02", "2026-10-29", "2026-10-17", "2026-09-20", "2026-09-05"]
    assert [line.get("end") for line in shard_lines(log, "2026-10")] == ["2026-10-17T10:05:00+00:00", None]
    assert (log.directory / "2026-09.jsonl").stat().st_ino == september.st_ino
    assert not [p for p in log.directory.iterdir() if p.name.endswith(".tmp")]


def test_delete_where_removes_a_month_it_empties(three_months):
    assert three_months.delete_where(lambda r: True, end=datetime(2026, 10, 1, tzinfo=UTC)) == 2
    assert three_months.months() == ["2026-10", "2026-11"]


def test_appends_after_a_delete_land_in_the_rewritten_shard(tmp_path):
    with CallRecords(tmp_path) as log:
        doomed = log.append(call("2026-11-02T09:15:00+01:00"))
        kept = log.append(call("2026-11-02T09:16:00+01:00"))
        log.delete_where(lambda r: r["id"] == doomed)
        added = log.append(call("2026-11-02T09:17:00+01:00"))
        log.update(kept, {"result": "ANSWERED"})
    with CallRecords(tmp_path) as reopened:
        assert ids(reopened.query()) == [added, kept]
        assert reopened.get(kept)["result"] == "ANSWERED"
    with pytest.raises(NotFound):
        CallRecords(tmp_path).get(doomed)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.sampled_from(["2026-10", "2026-11", "2026-12"]), st.integers(1, 28)),
        st.tuples(st.just("update"), st.integers(0, 50), st.integers()),
        st.tuples(st.just("delete"), st.integers(0, 50)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_the_log_agrees_with_a_plain_dict_after_reopening(ops):
    model: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with CallRecords(Path(tmp)) as log:
            for op in ops:
                if op[0] == "append":
                    record = call(f"{op[1]}-{op[2]:02d}T12:00:00+00:00", value=0)
                    record_id = log.append(record)
                    model[record_id] = {**record, "id": record_id}
                elif model:
                    record_id = sorted(model)[op[1] % len(model)]
                    if op[0] == "update":
                        log.update(record_id, {"value": op[2]})
                        model[record_id]["value"] = op[2]
                    else:
                        log.delete_where(lambda r, rid=record_id: r["id"] == rid)
                        del model[record_id]
        with CallRecords(Path(tmp)) as reopened:
            stored = {r["id"]: r for r in reopened.query(limit=None)}
    assert stored == model
