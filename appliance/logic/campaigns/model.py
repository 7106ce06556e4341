"""A campaign and the people on its list, as two tables.

A campaign is a call list worked in one *mode*: `preview` (an agent sees the card and decides
to dial), `progressive` (the box dials the next number when an agent is free, one call per free
agent) or `message` (the box plays a prompt, maybe collects a digit; no agent: reminders and
surveys). The admin starts, pauses, resumes and stops it (`CAMPAIGN`); each entry on its list
moves through `ENTRY` as it is offered, dialled, reached, retried or finished. Nothing outside
`Machine.fire` changes a state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appliance.logic.machine import Machine


class Mode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    MESSAGE = "message"  # an automated message: no agent


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # every entry is done; adding entries opens it again (paused)
    STOPPED = "stopped"    # the admin ended it; final


class CampaignEvent(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    LIST_DONE = "list_done"
    ENTRIES_ADDED = "entries_added"


CAMPAIGN_TRANSITIONS: dict[CampaignState, dict[CampaignEvent, CampaignState]] = {
    CampaignState.DRAFT: {CampaignEvent.START: CampaignState.RUNNING, CampaignEvent.STOP: CampaignState.STOPPED,
                          CampaignEvent.ENTRIES_ADDED: CampaignState.DRAFT},
    CampaignState.RUNNING: {CampaignEvent.PAUSE: CampaignState.PAUSED, CampaignEvent.STOP: CampaignState.STOPPED,
                            CampaignEvent.LIST_DONE: CampaignState.FINISHED,
                            CampaignEvent.ENTRIES_ADDED: CampaignState.RUNNING},
    CampaignState.PAUSED: {CampaignEvent.RESUME: CampaignState.RUNNING, CampaignEvent.STOP: CampaignState.STOPPED,
                           CampaignEvent.ENTRIES_ADDED: CampaignState.PAUSED},
    CampaignState.FINISHED: {CampaignEvent.ENTRIES_ADDED: CampaignState.PAUSED,
                             CampaignEvent.STOP: CampaignState.STOPPED},
    CampaignState.STOPPED: {},
}


class EntryState(StrEnum):
    WAITING = "waiting"        # to be called once it is due (first try, retry, scheduled callback)
    OFFERED = "offered"        # preview: an agent has the card
    DIALLING = "dialling"
    CONNECTED = "connected"    # answered: with an agent, or hearing the message
    DONE = "done"              # reached and finished, or given up after the last retry
    DO_NOT_CALL = "do_not_call"  # on the do-not-call list, or asked never to be called again


class EntryEvent(StrEnum):
    OFFER = "offer"
    SKIP = "skip"              # the agent passed on a previewed card: back to the list
    DIAL = "dial"
    ANSWERED = "answered"
    RETRY = "retry"            # not reached (busy, no answer, failed, machine, abandoned): try later
    GIVE_UP = "give_up"        # not reached and no try left
    FINISH = "finish"          # the call ended with a result
    SCHEDULE = "schedule"      # the agent booked a callback at a date and time
    BLOCK = "block"            # the number is on the do-not-call list


ENTRY_TRANSITIONS: dict[EntryState, dict[EntryEvent, EntryState]] = {
    EntryState.WAITING: {EntryEvent.OFFER: EntryState.OFFERED, EntryEvent.DIAL: EntryState.DIALLING,
                         EntryEvent.BLOCK: EntryState.DO_NOT_CALL, EntryEvent.GIVE_UP: EntryState.DONE,
                         EntryEvent.SCHEDULE: EntryState.WAITING},
    EntryState.OFFERED: {EntryEvent.DIAL: EntryState.DIALLING, EntryEvent.SKIP: EntryState.WAITING,
                         EntryEvent.FINISH: EntryState.DONE, EntryEvent.SCHEDULE: EntryState.WAITING,
                         EntryEvent.BLOCK: EntryState.DO_NOT_CALL},
    EntryState.DIALLING: {EntryEvent.ANSWERED: EntryState.CONNECTED, EntryEvent.RETRY: EntryState.WAITING,
                          EntryEvent.GIVE_UP: EntryState.DONE, EntryEvent.BLOCK: EntryState.DO_NOT_CALL},
    EntryState.CONNECTED: {EntryEvent.FINISH: EntryState.DONE, EntryEvent.SCHEDULE: EntryState.WAITING,
                           EntryEvent.RETRY: EntryState.WAITING, EntryEvent.GIVE_UP: EntryState.DONE,
                           EntryEvent.BLOCK: EntryState.DO_NOT_CALL},
    EntryState.DONE: {EntryEvent.SCHEDULE: EntryState.WAITING},
    EntryState.DO_NOT_CALL: {},
}

CAMPAIGN = Machine("campaign", "campaign %s", "state", CAMPAIGN_TRANSITIONS, "callbox.campaigns")
ENTRY = Machine("campaign entry", "campaign entry %s", "state", ENTRY_TRANSITIONS, "callbox.campaigns")


class Result(StrEnum):
    """What one attempt came to, as call records and reports say it."""

    ANSWERED = "ANSWERED"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    FAILED = "FAILED"
    MACHINE = "MACHINE"          # an answering machine, where the line tells us
    ABANDONED = "ABANDONED"      # progressive: answered, but no agent was free
    REFUSED = "REFUSED"          # pressed the never-call-again digit
    BLOCKED = "BLOCKED"          # on the do-not-call list or outside class of service: not dialled


UNREACHED = (Result.BUSY, Result.NO_ANSWER, Result.FAILED, Result.MACHINE, Result.ABANDONED)


def result_of_hangup(cause: int) -> Result:
    """An unanswered leg's last SIP status as the attempt's result."""
    if cause in (486, 600):
        return Result.BUSY
    if cause in (408, 480, 487):
        return Result.NO_ANSWER
    return Result.FAILED


@dataclass
class Entry:
    """One person on a campaign's list."""

    id: str
    number: str
    name: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # free columns of the list, shown on the card
    zone: str = ""              # the callee's time zone; "" means the campaign's
    state: EntryState = EntryState.WAITING
    due: float = 0.0            # not before this moment (UTC seconds)
    attempts: int = 0
    tries: dict[str, int] = field(default_factory=dict)  # result -> how many attempts ended so
    result: str = ""            # the last result (a Result, or the agent's disposition)
    agent: str = ""             # a scheduled callback goes to this agent
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "name": self.name, "fields": dict(self.fields),
                "zone": self.zone, "state": self.state.value, "due": self.due, "attempts": self.attempts,
                "tries": dict(self.tries), "result": self.result, "agent": self.agent, "notes": self.notes}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        return cls(id=str(d["id"]), number=str(d["number"]), name=str(d.get("name", "")),
                   fields={str(k): str(v) for k, v in (d.get("fields") or {}).items()}, zone=str(d.get("zone", "")),
                   state=EntryState(d.get("state", "waiting")), due=float(d.get("due", 0.0)),
                   attempts=int(d.get("attempts", 0)), tries={str(k): int(v) for k, v in (d.get("tries") or {}).items()},
                   result=str(d.get("result", "")), agent=str(d.get("agent", "")), notes=str(d.get("notes", "")))
