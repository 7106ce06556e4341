"""Call records: the one place the dict written to the call-record log is built.

Every call handler (the extension-to-extension call, the calls the box answers itself,
voicemail, callbacks, click-to-dial) states the facts of its call; `call_record` adds what
follows from them (duration and talk time, rounded to the millisecond) and keeps the field
names that reports, exports and the event stream read. Times are seconds since the epoch here;
the writer turns them into local ISO dates when it files the record.
"""

from __future__ import annotations

from typing import Any

from appliance.logic.calls import Disposition

__all__ = ["call_record", "talk_seconds"]


def talk_seconds(end: float, talk_from: float | None) -> float:
    """Seconds of conversation: from when the parties were connected to the end (0.0 if never)."""
    return round(end - talk_from, 3) if talk_from is not None else 0.0


def call_record(*, call_id: str, start: float, answer: float | None, end: float,
                disposition: Disposition | str, direction: str, caller: str, callee: str | None,
                talk_from: float | None, answered_by: str | None, hangup_by: str | None, worker: str,
                trunk: str | None, **more: Any) -> dict[str, Any]:
    """The call record of one call.

    `answer` is when the box or a person picked up; `talk_from` when the conversation that
    counts as talk time began (the answer of the person called, an agent's answer in a queue;
    None when nobody talked, as when only voicemail answered). `more` holds what this kind of
    call adds (caller_name, queue, agent, outcome, wait_s, flow, legs, ...), written as given.
    """
    return {
        "call_id": call_id,
        "start": start,
        "answer": answer,
        "end": end,
        "duration_s": round(end - start, 3),
        "talk_s": talk_seconds(end, talk_from),
        "disposition": Disposition(disposition).value,
        "direction": direction,
        "caller": caller,
        "callee": callee,
        "answered_by": answered_by,
        "hangup_by": hangup_by,
        "trunk": trunk,
        "worker": worker,
        **more,
    }

