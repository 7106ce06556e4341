"""The table of a call the box answers itself (`flow_call.py`): its states, the events that move
it, and who is on each of its legs.

A conversation with an agent may be held by either side (the other hears music on hold, the two
are parted until the hold ends) and the agent may pass the caller on to an extension, which takes
the call as an ordinary one (HANDED_OFF): the queue's part of the call ends there.
"""

from __future__ import annotations

from enum import StrEnum

from appliance.logic.machine import Machine


class FlowCallState(StrEnum):
    ANSWERING = "ANSWERING"  # the box is picking up
    NOTICE = "NOTICE"  # "this call may be recorded" (and, if the route allows, "press 9 to decline")
    IN_FLOW = "IN_FLOW"  # the call flow: prompts, menus, digits
    QUEUED = "QUEUED"  # waiting in a queue: music and announcements
    RINGING_AGENT = "RINGING_AGENT"  # waiting, and agents' phones ring
    AGENT_WAITING = "AGENT_WAITING"  # an agent answered; the caller hears the end of a prompt first
    WITH_AGENT = "WITH_AGENT"  # caller and agent talk; supervisors may join
    LEAVING = "LEAVING"  # a last prompt (a callback's confirmation), then the box hangs up
    SURVEY = "SURVEY"  # the agent hung up; the caller hears "press 1 to 5" and may rate the call
    THANKS = "THANKS"  # the caller rated the call and hears the thanks, then the box hangs up
    HANDED_OFF = "HANDED_OFF"  # an extension, a ring group or voicemail took the caller
    ENDED = "ENDED"


class FlowCallEvent(StrEnum):
    ANSWERED = "ANSWERED"  # the box picked up, nothing to say first
    ANSWERED_WITH_NOTICE = "ANSWERED_WITH_NOTICE"  # ... and the route says the call may be recorded
    DIGIT = "DIGIT"  # the caller pressed a key
    PLAY_DONE = "PLAY_DONE"  # what the caller was being told has been said
    DIGIT_TIMEOUT = "DIGIT_TIMEOUT"  # the flow waited for a key in vain
    JOIN_QUEUE = "JOIN_QUEUE"  # the flow sent the caller to a queue
    HAND_OFF = "HAND_OFF"  # the flow or the queue's overflow sent the caller to someone else
    BOX_HANGS_UP = "BOX_HANGS_UP"  # the flow ended, or the queue let the caller go
    HANG_UP_AFTER_PROMPT = "HANG_UP_AFTER_PROMPT"  # ... while a prompt is still being said
    ANNOUNCE = "ANNOUNCE"  # the ACD: music on hold, a position or a wait announcement
    RING_AGENT = "RING_AGENT"  # the ACD offers the caller to an agent
    AGENT_UNREACHABLE = "AGENT_UNREACHABLE"  # ... whose phone cannot be rung from here
    STOP_RINGING = "STOP_RINGING"  # the ACD withdraws an offer
    RINGING_STOPPED = "RINGING_STOPPED"  # no agent's phone rings any more
    AGENT_ANSWERED = "AGENT_ANSWERED"  # an agent's phone picked up: the ACD decides what follows
    AGENT_MISSED = "AGENT_MISSED"  # an agent's phone rang out or declined
    BRIDGE = "BRIDGE"  # the ACD connects the agent now
    BRIDGE_AFTER_PROMPT = "BRIDGE_AFTER_PROMPT"  # ... once the caller has heard what is being said
    AGENT_DIGIT = "AGENT_DIGIT"  # the agent pressed a key (passed on to the caller)
    HOLD = "HOLD"  # the agent or the caller put the other on hold: music for the other
    RESUME = "RESUME"  # ... and took them back
    AGENT_TRANSFERS = "AGENT_TRANSFERS"  # the agent passed the caller on to an extension (a blind transfer)
    AGENT_GONE = "AGENT_GONE"  # the agent hung up
    AGENT_GONE_TO_SURVEY = "AGENT_GONE_TO_SURVEY"  # ... and the queue asks the caller to rate the call
    SCORE = "SCORE"  # the caller pressed 1-5 at the survey
    SURVEY_TIMEOUT = "SURVEY_TIMEOUT"  # the caller rated nothing in time
    MONITOR = "MONITOR"  # a supervisor listens, whispers or barges
    SUPERVISOR_ANSWERED = "SUPERVISOR_ANSWERED"
    SUPERVISOR_GONE = "SUPERVISOR_GONE"
    CALLER_GONE = "CALLER_GONE"  # the caller hung up


S, E = FlowCallState, FlowCallEvent
# Waiting in a queue, whether or not an agent's phone rings.
_WAITING: dict[FlowCallEvent, FlowCallState] = {
    E.DIGIT: S.QUEUED, E.PLAY_DONE: S.QUEUED, E.ANNOUNCE: S.QUEUED, E.RING_AGENT: S.RINGING_AGENT,
    E.AGENT_UNREACHABLE: S.QUEUED, E.STOP_RINGING: S.QUEUED, E.HAND_OFF: S.HANDED_OFF,
    E.BOX_HANGS_UP: S.ENDED, E.HANG_UP_AFTER_PROMPT: S.LEAVING, E.CALLER_GONE: S.ENDED}
# While agents' phones ring, these leave the caller waiting (RINGING_STOPPED says when none rings any more).
_STAYS = (E.DIGIT, E.PLAY_DONE, E.ANNOUNCE, E.AGENT_UNREACHABLE, E.STOP_RINGING, E.AGENT_ANSWERED,
          E.AGENT_MISSED, E.RING_AGENT)
# With an agent on the line (connected, or about to be): supervisors may join.
_WITH_AGENT = (E.DIGIT, E.AGENT_DIGIT, E.STOP_RINGING, E.MONITOR, E.SUPERVISOR_ANSWERED,
               E.SUPERVISOR_GONE)
TABLE: dict[FlowCallState, dict[FlowCallEvent, FlowCallState]] = {
    S.ANSWERING: {E.ANSWERED: S.IN_FLOW, E.ANSWERED_WITH_NOTICE: S.NOTICE, E.CALLER_GONE: S.ENDED},
    S.NOTICE: {E.DIGIT: S.NOTICE, E.PLAY_DONE: S.IN_FLOW, E.CALLER_GONE: S.ENDED},
    S.IN_FLOW: {E.DIGIT: S.IN_FLOW, E.PLAY_DONE: S.IN_FLOW, E.DIGIT_TIMEOUT: S.IN_FLOW,
                E.JOIN_QUEUE: S.QUEUED, E.HAND_OFF: S.HANDED_OFF, E.BOX_HANGS_UP: S.ENDED,
                E.CALLER_GONE: S.ENDED},
    S.QUEUED: dict(_WAITING),
    S.RINGING_AGENT: {**_WAITING, **{e: S.RINGING_AGENT for e in _STAYS}, E.RINGING_STOPPED: S.QUEUED,
                      E.BRIDGE: S.WITH_AGENT, E.BRIDGE_AFTER_PROMPT: S.AGENT_WAITING},
    S.AGENT_WAITING: {**{e: S.AGENT_WAITING for e in _WITH_AGENT}, E.PLAY_DONE: S.WITH_AGENT,
                      E.AGENT_GONE: S.ENDED, E.CALLER_GONE: S.ENDED},
    S.WITH_AGENT: {**{e: S.WITH_AGENT for e in (*_WITH_AGENT, E.PLAY_DONE, E.HOLD, E.RESUME)},
                   E.AGENT_GONE: S.ENDED, E.AGENT_GONE_TO_SURVEY: S.SURVEY, E.AGENT_TRANSFERS: S.HANDED_OFF,
                   E.CALLER_GONE: S.ENDED},
    S.LEAVING: {E.DIGIT: S.LEAVING, E.STOP_RINGING: S.LEAVING, E.PLAY_DONE: S.ENDED, E.CALLER_GONE: S.ENDED},
    # Another key than 1-5 changes nothing: the question stays and its timer runs.
    S.SURVEY: {E.DIGIT: S.SURVEY, E.PLAY_DONE: S.SURVEY, E.SCORE: S.THANKS, E.SURVEY_TIMEOUT: S.ENDED,
               E.STOP_RINGING: S.SURVEY, E.CALLER_GONE: S.ENDED},
    S.THANKS: {E.DIGIT: S.THANKS, E.STOP_RINGING: S.THANKS, E.PLAY_DONE: S.ENDED, E.CALLER_GONE: S.ENDED},
    # The ACD's answer to the caller's own leaving (withdrawing its offers) changes nothing.
    S.HANDED_OFF: {E.STOP_RINGING: S.HANDED_OFF},
    S.ENDED: {E.STOP_RINGING: S.ENDED},
}
FLOW_CALL: Machine[FlowCallState, FlowCallEvent] = Machine(
    "flow call", "call %s", "state", TABLE, "callbox.flowcalls")
OVER = (S.HANDED_OFF, S.ENDED)


class Hearing(StrEnum):
    """What the caller hears from the box (not a state of the call: it decides when a prompt ends)."""

    NOTHING = "NOTHING"
    PROMPTS = "PROMPTS"  # one prompt or several in a row, each reporting its end
    MUSIC = "MUSIC"  # music on hold, looping: it never ends by itself


class Party(StrEnum):
    """Who is on a leg of the call."""

    CALLER = "CALLER"
    RINGING_AGENT = "RINGING_AGENT"
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"  # answered
    RINGING_SUPERVISOR = "RINGING_SUPERVISOR"
