"""Campaigns, pure: the two tables, calling hours in the callee's zone, retries, do-not-call, pacing."""

from datetime import datetime, timezone

import pytest

from appliance.errors import StateMachineError, ValidationError
from appliance.logic.campaigns import call_list
from appliance.logic.campaigns.config import Campaign, Retry, campaign_from_dict
from appliance.logic.campaigns.hours import CallingHours, DEFAULT_HOURS, defaults_for, week_from_dict
from appliance.logic.campaigns.model import (CAMPAIGN, CAMPAIGN_TRANSITIONS, ENTRY, ENTRY_TRANSITIONS,
                                             CampaignEvent, CampaignState, Entry, EntryEvent, EntryState, Mode,
                                             Result, result_of_hangup)
from appliance.logic.campaigns.rules import DoNotCall, after_attempt, list_done, next_to_dial, number_key
from appliance.logic.csat import score_of, summarise

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Thing:
    def __init__(self, state):
        self.id, self.state = "x", state


@pytest.mark.parametrize("state,event", [(s, e) for s in CampaignState for e in CampaignEvent])
def test_campaign_table_pair(state, event):
    thing = Thing(state)
    expected = CAMPAIGN_TRANSITIONS[state].get(event)
    if expected is None:
        with pytest.raises(StateMachineError):
            CAMPAIGN.fire(thing, event)
        assert thing.state is state
    else:
        assert CAMPAIGN.fire(thing, event) is expected and thing.state is expected


@pytest.mark.parametrize("state,event", [(s, e) for s in EntryState for e in EntryEvent])
def test_entry_table_pair(state, event):
    thing = Thing(state)
    expected = ENTRY_TRANSITIONS[state].get(event)
    if expected is None:
        with pytest.raises(StateMachineError):
            ENTRY.fire(thing, event)
        assert thing.state is state
    else:
        assert ENTRY.fire(thing, event) is expected


def test_a_stopped_campaign_and_a_blocked_number_are_final():
    assert CAMPAIGN_TRANSITIONS[CampaignState.STOPPED] == {} and ENTRY_TRANSITIONS[EntryState.DO_NOT_CALL] == {}


@pytest.mark.parametrize("cause,result", [(486, Result.BUSY), (600, Result.BUSY), (408, Result.NO_ANSWER),
                                          (480, Result.NO_ANSWER), (487, Result.NO_ANSWER), (503, Result.FAILED),
                                          (404, Result.FAILED)])
def test_hangup_causes(cause, result):
    assert result_of_hangup(cause) is result


# --- calling hours ------------------------------------------------------------------------

def test_hours_are_read_in_the_callees_zone():
    pl = CallingHours(defaults_for("PL"))
    # 06:30 UTC on a Monday in winter is 07:30 in Warsaw (closed) and 14:30 in Shanghai.
    assert not pl.may_call(at("2026-12-07T06:30:00"), "Europe/Warsaw")
    assert pl.may_call(at("2026-12-07T07:00:00"), "Europe/Warsaw")  # 08:00 in Warsaw
    assert pl.may_call(at("2026-12-07T06:30:00"), "Asia/Shanghai")
    assert not pl.may_call(at("2026-12-07T19:00:00"), "Europe/Warsaw")  # 20:00: closed
    assert not pl.may_call(at("2026-12-13T11:00:00"), "Europe/Warsaw")  # Sunday


def test_defaults_per_country():
    assert defaults_for("pl") is DEFAULT_HOURS["PL"] and defaults_for("CN") is DEFAULT_HOURS["CN"]
    assert defaults_for("FR") is DEFAULT_HOURS["EU"] and defaults_for("") is DEFAULT_HOURS["EU"]
    eu = CallingHours(DEFAULT_HOURS["EU"])
    assert not eu.may_call(at("2026-12-07T12:30:00"), "Europe/Paris")  # 13:30: lunch
    assert eu.may_call(at("2026-12-07T11:30:00"), "Europe/Paris")
    assert not eu.may_call(at("2026-12-12T10:00:00"), "Europe/Paris")  # Saturday
    cn = CallingHours(DEFAULT_HOURS["CN"])
    assert cn.may_call(at("2026-12-13T02:00:00"), "Asia/Shanghai")  # Sunday 10:00
    assert not cn.may_call(at("2026-12-13T13:30:00"), "Asia/Shanghai")  # 21:30


def test_next_opening():
    pl = CallingHours(defaults_for("PL"))
    # Friday 20:30 Warsaw -> Saturday 10:00 Warsaw (09:00 UTC)
    assert pl.next_opening(at("2026-12-11T19:30:00"), "Europe/Warsaw") == at("2026-12-12T09:00:00")
    assert pl.next_opening(at("2026-12-07T10:00:00"), "Europe/Warsaw") == at("2026-12-07T10:00:00")
    assert CallingHours(week_from_dict({})).next_opening(at("2026-12-07T10:00:00"), "UTC") is None


@pytest.mark.parametrize("bad", [[], {"moon": []}, {"mon": [{"start": "10:00"}]},
                                 {"mon": [{"start": "18:00", "end": "09:00"}]}, {"mon": "9-17"}])
def test_bad_hours_get_a_clear_error(bad):
    with pytest.raises(ValidationError):
        week_from_dict(bad)


# --- retries, do-not-call, pacing ---------------------------------------------------------

def campaign(**kw) -> Campaign:
    base = {"id": "repairs", "name": "After repairs", "mode": "progressive", "queue": "support",
            "state": "running"}
    return campaign_from_dict({**base, **kw})


def test_retries_follow_the_rule_of_each_result_and_the_maximum():
    c = campaign(retries={"BUSY": {"delay_s": 600, "times": 2}}, max_attempts=3)
    e = Entry("1", "600100200")
    ENTRY.fire(e, EntryEvent.DIAL)
    assert after_attempt(c, e, Result.BUSY, 1000.0) is EntryEvent.RETRY and e.due == 1600.0
    assert e.state is EntryState.WAITING and e.attempts == 1
    ENTRY.fire(e, EntryEvent.DIAL)
    assert after_attempt(c, e, Result.BUSY, 2000.0) is EntryEvent.RETRY
    ENTRY.fire(e, EntryEvent.DIAL)
    assert after_attempt(c, e, Result.BUSY, 3000.0) is EntryEvent.GIVE_UP and e.state is EntryState.DONE
    e2 = Entry("2", "600100201")
    ENTRY.fire(e2, EntryEvent.DIAL)
    assert after_attempt(c, e2, Result.NO_ANSWER, 0.0) is EntryEvent.GIVE_UP  # no rule given: no retry
    c3 = campaign(max_attempts=1)
    e3 = Entry("3", "600100202")
    ENTRY.fire(e3, EntryEvent.DIAL)
    assert after_attempt(c3, e3, Result.BUSY, 0.0) is EntryEvent.GIVE_UP  # the maximum wins


def test_do_not_call_matches_the_forms_of_one_number():
    dnc = DoNotCall.of(["+48 600-100-200", "0048 511 222 333", "601000000"])
    assert number_key("+48 600-100-200") == "+48600100200" and number_key("0048511222333") == "+48511222333"
    assert dnc.blocks("+48600100200") and dnc.blocks("600 100 200") and dnc.blocks("+48 511 222 333")
    assert dnc.blocks("+48601000000") and not dnc.blocks("+48600100201") and not dnc.blocks("12")


def test_pacing_progressive_one_call_per_free_agent_in_hours_not_blocked():
    c = campaign()
    entries = [Entry(str(i), f"60010020{i}") for i in range(6)]
    entries[1].due = at("2026-12-07T12:00:00").timestamp()  # not due yet
    entries[4].zone = "America/New_York"                   # 05:00 there: outside hours
    now = at("2026-12-07T10:00:00")
    dnc = DoNotCall.of(["600100202"])
    chosen, blocked = next_to_dial(c, entries, now, free_agents=3, in_progress=1, dnc=dnc)
    assert [e.id for e in chosen] == ["0", "3"] and [e.id for e in blocked] == ["2"]
    assert next_to_dial(c, entries, now, free_agents=0, in_progress=0, dnc=dnc)[0] == []
    paused = campaign(state="paused")
    assert next_to_dial(paused, entries, now, free_agents=3, in_progress=0, dnc=dnc) == ([], [])
    msg = campaign(mode="message", queue="", message="reminder", max_lines=4)
    assert len(next_to_dial(msg, entries, now, free_agents=0, in_progress=1, dnc=dnc)[0]) == 3


def test_scheduled_callbacks_come_first_and_the_list_finishes():
    c = campaign()
    a, b = Entry("1", "600100201", due=10.0), Entry("2", "600100202", due=20.0, agent="1001")
    chosen, _ = next_to_dial(c, [a, b], at("2026-12-07T10:00:00"), free_agents=1, in_progress=0,
                             dnc=DoNotCall.of([]))
    assert chosen == [b]
    assert not list_done([a, b])
    a.state, b.state = EntryState.DONE, EntryState.DO_NOT_CALL
    assert list_done([a, b])


@pytest.mark.parametrize("bad,why", [
    ({"id": "Bad Id"}, "id"), ({"name": ""}, "name"), ({"mode": "predictive"}, "mode"),
    ({"queue": ""}, "queue"), ({"caller_id": "abc"}, "caller ID"), ({"priority": 0}, "priority"),
    ({"retries": {"BUSY": {"delay_s": 1, "times": 1}}}, "delay"), ({"retries": {"OK": {}}}, "retried"),
    ({"zone": "Mars/Base"}, "time zone"), ({"dispositions": ["a", "a"]}, "different"),
    ({"mode": "message", "queue": ""}, "prompt"), ({"hours": {"mon": [{"start": "x", "end": "y"}]}}, "HH:MM|time"),
])
def test_a_bad_campaign_gets_a_clear_error(bad, why):
    with pytest.raises(ValidationError, match=why):
        campaign(**bad)


def test_a_campaign_survives_its_own_dict():
    c = campaign(hours={"mon": [{"start": "09:00", "end": "17:00"}]}, retries={"BUSY": {"delay_s": 120, "times": 1}})
    again = campaign_from_dict(c.to_dict())
    assert again == c and again.mode is Mode.PROGRESSIVE and again.retries == {Result.BUSY: Retry(120.0, 1)}


# --- the call list -------------------------------------------------------------------------

def test_a_call_list_keeps_free_columns_and_zones_and_reports_bad_rows():
    data = ("Telefon;Nazwa;Zlecenie;Strefa czasowa\n"
            "+48 600 100 200;Anna Nowak;Z-17;Europe/Warsaw\n"
            "600100200;Anna again;Z-18;\n"          # the same number: called once
            ";Bez numeru;Z-19;\n"
            "+86 138 0013 8000;王伟;Z-20;Asia/Shanghai\n"
            "12345;Zła strefa;Z-21;Mars/Base\n"
            "not a number;X;Z-22;\n").encode("cp1250", errors="replace")
    out = call_list.read(data)
    assert [(e.number, e.name, e.fields, e.zone) for e in out.entries[:1]] == [
        ("+48 600 100 200", "Anna Nowak", {"Zlecenie": "Z-17"}, "Europe/Warsaw")]
    assert out.duplicates == 1
    lines = {e["line"] for e in out.errors}
    assert lines == {4, 6, 7}
    utf = "Phone,Name,Order\n+86 138 0013 8000,王伟,Z-20\n".encode()
    assert call_list.read(utf).entries[0].name == "王伟"
    assert call_list.read("Phone\n600100200\n".encode()).entries[0].number == "600100200"  # no name column


def test_entries_round_trip():
    e = Entry("7", "+48600100200", "Anna", {"Order": "Z-1"}, "Europe/Warsaw", EntryState.WAITING, 5.0, 1,
              {"BUSY": 1}, "BUSY", "1001", "call after 5")
    assert Entry.from_dict(e.to_dict()) == e


# --- CSAT ---------------------------------------------------------------------------------

def test_scores_and_summaries():
    assert [score_of(d) for d in "0123456*#"] == [None, 1, 2, 3, 4, 5, None, None, None]
    assert score_of("55") is None
    results = [{"agent": "1001", "score": 5}, {"agent": "1001", "score": 4}, {"agent": "1002", "score": 1},
               {"agent": "1002", "score": None}]
    total = summarise(results)[""]
    assert total.offered == 4 and total.answered == 3 and total.average == 3.33 and total.csat_pct == 66.7
    per_agent = summarise(results, by=lambda r: r["agent"])
    assert per_agent["1001"].csat_pct == 100.0 and per_agent["1002"].to_dict()["distribution"]["1"] == 1
    assert per_agent["1002"].offered == 2 and per_agent["1002"].answered == 1
