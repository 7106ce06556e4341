"""What the call the box answers asks of the rest of the box besides media (the ACD's inputs,
handing the caller over, recording): the effects `FlowCallHandler` returns beside the media
vocabulary, carried out by its runtime (`appliance.flowcalls.FlowCall`)."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.logic import media as m


@dataclass(frozen=True)
class JoinQueue:
    """The ACD: the caller enters `queue` (caller_joins)."""

    queue: str
    caller: str


@dataclass(frozen=True)
class AskForCallback:
    """The ACD: the caller pressed 1 to be called back, keeping the place (request_callback)."""

    caller: str


@dataclass(frozen=True)
class AgentAnswered:
    """The ACD: `agent` picked up on `leg` (offer_answered); a Bridge or a StopRinging follows."""

    agent: str
    leg: str


@dataclass(frozen=True)
class AgentMissed:
    """The ACD: the offer to `agent` failed; rang_out is a ring timeout, else a refusal.
    `soon`: tell the ACD on the next turn of the loop (it is still giving its own orders)."""

    agent: str
    rang_out: bool = False
    soon: bool = False


@dataclass(frozen=True)
class LeaveQueue:
    """The ACD: the caller hung up before an agent took the call (caller_hangs_up)."""


@dataclass(frozen=True)
class ConversationOver:
    """The ACD: the conversation with the agent is over; the agent goes to wrap-up (call_ended)."""


@dataclass(frozen=True)
class HandToExtension:
    """The ordinary call machine rings `number` (an extension, or a ring group by `group`)."""

    number: str
    group: bool = False


@dataclass(frozen=True)
class HandToVoicemail:
    box: str
    language: str


@dataclass(frozen=True)
class RecordConversation:
    """Record caller and agent if the recording policy wants it (a caller who declined never is)."""

    legs: tuple[str, str]
    extensions: tuple[str, ...]
    queue: str | None


@dataclass(frozen=True)
class StopRecording:
    """The conversation is over but the caller stays (a survey): its recording, if any, ends now."""


Effect = (JoinQueue | AskForCallback | AgentAnswered | AgentMissed | LeaveQueue | ConversationOver
          | HandToExtension | HandToVoicemail | RecordConversation | StopRecording)
Command = m.MediaCommand | Effect
