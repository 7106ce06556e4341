"""Call records are built in one place: the fields every kind of call writes, and what is derived."""

from __future__ import annotations

import pytest

from appliance.logic.calls import Disposition
from appliance.logic.records import call_record, talk_seconds


def test_duration_and_talk_are_derived_and_rounded_to_the_millisecond():
    record = call_record(call_id="c1", start=100.0, answer=102.12345, end=130.98765, talk_from=102.12345,
                         disposition=Disposition.ANSWERED, direction="internal", caller="201", callee="202",
                         answered_by="202", hangup_by="caller", worker="w1", trunk=None)
    assert record == {
        "call_id": "c1", "start": 100.0, "answer": 102.12345, "end": 130.98765,
        "duration_s": 30.988, "talk_s": 28.864, "disposition": "ANSWERED", "direction": "internal",
        "caller": "201", "callee": "202", "answered_by": "202", "hangup_by": "caller", "trunk": None,
        "worker": "w1",
    }
    assert type(record["disposition"]) is str  # the plain word, as the log has always held it


def test_no_conversation_means_no_talk_time_even_when_the_box_answered():
    record = call_record(call_id="v1", start=10.0, answer=10.0, end=25.5, talk_from=None,
                         disposition="ANSWERED", direction="internal", caller="201", callee="300",
                         answered_by="voicemail", hangup_by="caller", worker="w1", trunk=None,
                         caller_name="Ann", outcome="VOICEMAIL")
    assert record["talk_s"] == 0.0
    assert record["duration_s"] == 15.5
    assert record["caller_name"] == "Ann" and record["outcome"] == "VOICEMAIL"


def test_what_a_kind_of_call_adds_is_written_as_given():
    record = call_record(call_id="cb1", start=0.0, answer=None, end=5.0, talk_from=None,
                         disposition=Disposition.NO_ANSWER, direction="outbound", caller="", callee="+4860",
                         answered_by=None, hangup_by="box", worker="w2", trunk=None, queue="sales", agent=None,
                         outcome=None)
    assert record["disposition"] == "NO ANSWER"
    assert {"queue": "sales", "agent": None, "outcome": None}.items() <= record.items()
    assert "caller_name" not in record  # a field is there only when the kind of call writes it


@pytest.mark.parametrize("word", [d.value for d in Disposition])
def test_every_disposition_word_is_accepted(word):
    record = call_record(call_id="x", start=0.0, answer=None, end=1.0, talk_from=None, disposition=word,
                         direction="internal", caller="1", callee="2", answered_by=None, hangup_by=None,
                         worker="w", trunk=None)
    assert record["disposition"] == word


def test_an_unknown_disposition_is_refused():
    with pytest.raises(ValueError):
        call_record(call_id="x", start=0.0, answer=None, end=1.0, talk_from=None, disposition="MAYBE",
                    direction="internal", caller="1", callee="2", answered_by=None, hangup_by=None,
                    worker="w", trunk=None)


def test_talk_seconds():
    assert talk_seconds(10.0, None) == 0.0
    assert talk_seconds(10.0, 0.0) == 10.0  # a fake clock may start at zero
    assert talk_seconds(12.34567, 2.0) == 10.346
