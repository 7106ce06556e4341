"""Every transition in the tables is reached through the public API by a story.

A pair added to a table without a story here fails `test_every_pair_has_a_story`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.logic.acd import (
    AGENT_STATE, AGENT_STATUS, CALLER, AgentState as A, AgentStatus as St, CallerEvent as Ce,
    CallerState as C, QueueConfig, StateEvent as Ae, StatusEvent as Se)
from appliance.logic.acd.machines import Machine
from tests.logic.test_acd_support import Box

QUIET = {"join_empty": "never", "leave_when_empty": "never"}


def one_call(box: Box) -> None:
    box.center.add_queue(QueueConfig("q", wrap_up_s=5))
    box.agents("1001")
    box.caller_joins("q", "c1", "+1")
    box.offer_answered("c1", "1001")
    box.advance(30)
    box.call_ended("c1")
    box.advance(5)


def missed(box: Box) -> None:
    box.center.add_queue(QueueConfig("q", ring_timeout_s=10, no_answer_backoff_s=3))
    box.agents("1001")
    box.caller_joins("q", "c1", "+1")
    box.advance(10)
    box.advance(3)


def ringall(box: Box) -> None:
    box.center.add_queue(QueueConfig("q", strategy="ringall"))
    box.agents("1001", "1002")
    box.caller_joins("q", "c1", "+1")
    box.offer_answered("c1", "1001")


def statuses(box: Box) -> None:
    box.center.add_queue(QueueConfig("q"))
    box.agents("1001")
    box.agent_available("1001")
    box.agent_go_on_break("1001", "lunch")
    box.agent_go_on_break("1001", "meeting")
    box.agent_available("1001")
    box.agent_go_on_break("1001", "home time")
    box.agent_logout("1001")
    box.agent_login("1001")
    box.agent_logout("1001")


def phone_away_and_back(box: Box) -> None:
    box.center.add_queue(QueueConfig("q"))
    box.agents("1001")
    box.phone_changed("1001", False)
    box.phone_changed("1001", True)


def waiting_leaves(how: Callable[[Box], None], **cfg) -> Callable[[Box], None]:
    def story(box: Box) -> None:
        box.center.add_queue(QueueConfig("q", callback_enabled=True, **{**QUIET, **cfg}))
        how(box)
    return story


def ringing_leaves(how: Callable[[Box], None], **cfg) -> Callable[[Box], None]:
    def story(box: Box) -> None:
        box.center.add_queue(QueueConfig("q", callback_enabled=True, ring_timeout_s=60,
                                         **{**QUIET, **cfg}))
        box.agents("1001")
        box.caller_joins("q", "c1", "+1")
        how(box)
    return story


def join(box: Box) -> None:
    box.caller_joins("q", "c1", "+1")


def leave_empty(box: Box) -> None:
    box.center.add_queue(QueueConfig("q"))
    box.agents("1001")
    box.agent_go_on_break("1001", "lunch")
    box.caller_joins("q", "c1", "+1")
    box.agent_logout("1001")


def callback(attempts: int, answers: bool) -> Callable[[Box], None]:
    def story(box: Box) -> None:
        box.center.add_queue(QueueConfig("q", callback_enabled=True, callback_retries=1,
                                         callback_retry_delay_s=60, **QUIET))
        box.caller_joins("q", "c1", "+1")
        box.request_callback("c1")
        box.agents("1001")
        for _ in range(attempts - 1):
            box.offer_answered("c1/callback", "1001")
            box.customer_unreachable("c1/callback")
            box.advance(60)
        box.offer_answered("c1/callback", "1001")
        if answers:
            box.customer_answered("c1/callback")
        else:
            box.customer_unreachable("c1/callback")
    return story


STORIES: dict[tuple[Machine, object, object], Callable[[Box], None]] = {
    (AGENT_STATUS, St.LOGGED_OUT, Se.LOG_IN): one_call,
    (AGENT_STATUS, St.AVAILABLE, Se.LOG_OUT): statuses,
    (AGENT_STATUS, St.AVAILABLE, Se.TAKE_BREAK): statuses,
    (AGENT_STATUS, St.AVAILABLE, Se.BECOME_AVAILABLE): statuses,
    (AGENT_STATUS, St.ON_BREAK, Se.LOG_OUT): statuses,
    (AGENT_STATUS, St.ON_BREAK, Se.TAKE_BREAK): statuses,
    (AGENT_STATUS, St.ON_BREAK, Se.BECOME_AVAILABLE): statuses,
    (AGENT_STATE, A.IDLE, Ae.OFFER): one_call,
    (AGENT_STATE, A.OFFERED, Ae.ANSWER): one_call,
    (AGENT_STATE, A.OFFERED, Ae.MISS): missed,
    (AGENT_STATE, A.OFFERED, Ae.WITHDRAW): ringall,
    (AGENT_STATE, A.TALKING, Ae.CALL_END): one_call,
    (AGENT_STATE, A.WRAP_UP, Ae.WRAP_UP_DONE): one_call,
    (AGENT_STATE, A.NO_ANSWER_BACKOFF, Ae.BACKOFF_DONE): missed,
    (AGENT_STATE, A.IDLE, Ae.PHONE_GONE): phone_away_and_back,
    (AGENT_STATE, A.NO_PHONE, Ae.PHONE_BACK): phone_away_and_back,
    (CALLER, C.WAITING, Ce.OFFER): one_call,
    (CALLER, C.WAITING, Ce.HANG_UP): waiting_leaves(
        lambda box: (join(box), box.caller_hangs_up("c1"))),
    (CALLER, C.WAITING, Ce.QUEUE_FULL): waiting_leaves(
        lambda box: (join(box), box.caller_joins("q", "c2", "+2")), max_callers=1),
    (CALLER, C.WAITING, Ce.JOIN_EMPTY): waiting_leaves(join, join_empty="nobody_logged_in"),
    (CALLER, C.WAITING, Ce.LEAVE_EMPTY): leave_empty,
    (CALLER, C.WAITING, Ce.MAX_WAIT): waiting_leaves(
        lambda box: (join(box), box.advance(30)), max_wait_s=30),
    (CALLER, C.WAITING, Ce.REQUEST_CALLBACK): waiting_leaves(
        lambda box: (join(box), box.request_callback("c1"))),
    (CALLER, C.WAITING, Ce.TRANSFER): waiting_leaves(
        lambda box: (join(box), box.caller_transferred("c1", "vm"))),
    (CALLER, C.OFFERING, Ce.AGENT_ANSWERED): one_call,
    (CALLER, C.OFFERING, Ce.AGENT_READY): callback(1, True),
    (CALLER, C.OFFERING, Ce.NO_ANSWER): missed,
    (CALLER, C.OFFERING, Ce.HANG_UP): ringing_leaves(lambda box: box.caller_hangs_up("c1")),
    (CALLER, C.OFFERING, Ce.MAX_WAIT): ringing_leaves(lambda box: box.advance(30),
                                                      max_wait_s=30),
    (CALLER, C.OFFERING, Ce.REQUEST_CALLBACK): ringing_leaves(
        lambda box: box.request_callback("c1")),
    (CALLER, C.OFFERING, Ce.TRANSFER): ringing_leaves(
        lambda box: box.caller_transferred("c1", "vm")),
    (CALLER, C.DIALING_CUSTOMER, Ce.CUSTOMER_ANSWERED): callback(1, True),
    (CALLER, C.DIALING_CUSTOMER, Ce.CUSTOMER_UNREACHABLE): callback(2, True),
    (CALLER, C.DIALING_CUSTOMER, Ce.GIVE_UP): callback(2, False),
    (CALLER, C.RETRY_WAIT, Ce.RETRY_DUE): callback(2, True),
    (CALLER, C.CONNECTED, Ce.CALL_ENDED): one_call,
}


def test_every_pair_has_a_story():
    pairs = {(m, s, e) for m in (AGENT_STATUS, AGENT_STATE, CALLER)
             for s, row in m.table.items() for e in row}
    assert pairs == set(STORIES)


@pytest.mark.parametrize(("machine", "state", "event"), list(STORIES),
                         ids=[f"{m.name}-{s}-{e}" for m, s, e in STORIES])
def test_pair_is_reached_through_the_api(machine, state, event, monkeypatch):
    fired: list[tuple[Machine, object, object, object]] = []
    real_fire = Machine.fire

    def recording_fire(self, thing, ev):
        before = getattr(thing, self.attr)
        after = real_fire(self, thing, ev)
        fired.append((self, before, ev, after))
        return after

    monkeypatch.setattr(Machine, "fire", recording_fire)
    STORIES[(machine, state, event)](Box())
    reached = [after for m, before, ev, after in fired
               if (m, before, ev) == (machine, state, event)]
    assert reached, f"the story never fired {event} in {state}"
    assert set(reached) == {machine.table[state][event]}
