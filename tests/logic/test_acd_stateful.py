"""Random agents, callers and events against the ACD's promises."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule)

from appliance.logic.acd import (
    AgentState, AgentStatus, CallerKind, CallerState, QueueConfig, Strategy)
from tests.logic.test_acd_support import Box

AGENTS = ["a1", "a2", "a3", "a4", "a5"]
QUEUES = ["sales", "support", "billing"]
agent_ids = st.sampled_from(AGENTS)


class ContactCenterRules(RuleBasedStateMachine):
    @initialize(
        # ringall weighs more: it is the one strategy that frees several agents at once.
        strategies=st.tuples(*[st.sampled_from([Strategy.RINGALL, *Strategy])] * 3),
        memberships=st.lists(st.fixed_dictionaries({q: st.integers(0, 1) for q in QUEUES})
                             | st.dictionaries(st.sampled_from(QUEUES), st.integers(0, 2)),
                             min_size=len(AGENTS), max_size=len(AGENTS)),
        skills=st.lists(st.integers(0, 3), min_size=len(AGENTS), max_size=len(AGENTS)),
        wrap_up=st.sampled_from([0, 5]), backoff=st.sampled_from([0, 3]),
        max_no_answer=st.integers(0, 2), max_callers=st.integers(0, 4),
        max_wait=st.sampled_from([0, 30]), retry_delay=st.sampled_from([0, 10]),
        empty_rules=st.tuples(*[st.sampled_from(["never", "nobody_logged_in",
                                                 "nobody_available"])] * 2),
        seed=st.integers(0, 1000))
    def build(self, strategies, memberships, skills, wrap_up, backoff, max_no_answer,
              max_callers, max_wait, retry_delay, empty_rules, seed):
        common = dict(wrap_up_s=wrap_up, no_answer_backoff_s=backoff, ring_timeout_s=7,
                      max_no_answer=max_no_answer, max_callers=max_callers, max_wait_s=max_wait,
                      callback_enabled=True, callback_retries=1,
                      callback_retry_delay_s=retry_delay, join_empty=empty_rules[0],
                      leave_when_empty=empty_rules[1], announce_position_every_s=11,
                      announce_wait=True, vip_numbers={"+vip"})
        self.box = Box(QueueConfig("sales", strategy=strategies[0],
                                   skills_required={"french": 2}, **common),
                       QueueConfig("support", strategy=strategies[1], skills_required=(
                           {"french": 1} if strategies[1] is Strategy.SKILLS else {}),
                           **common),
                       QueueConfig("billing", strategy=strategies[2], skills_required=(
                           {"french": 1} if strategies[2] is Strategy.SKILLS else {}),
                           **common), seed=seed)
        for agent_id, queues, level in zip(AGENTS, memberships, skills):
            self.box.center.add_agent(agent_id, agent_id, {"french": level}, queues)
        self.joined: list[str] = []
        self.calls = 0

    # --- people ------------------------------------------------------------------------

    def _agent(self, agent_id):
        return self.box.center.agent(agent_id)

    @rule(agent_id=agent_ids, everywhere=st.booleans())
    def login(self, agent_id, everywhere):
        if self._agent(agent_id).status is AgentStatus.LOGGED_OUT:
            self.box.agent_login(agent_id, None if everywhere else ["support"])

    @rule(agent_id=agent_ids)
    def logout(self, agent_id):
        if self._agent(agent_id).status is not AgentStatus.LOGGED_OUT:
            self.box.agent_logout(agent_id)

    @rule(agent_id=agent_ids)
    def take_break(self, agent_id):
        if self._agent(agent_id).status is not AgentStatus.LOGGED_OUT:
            self.box.agent_go_on_break(agent_id, "coffee")

    @rule(agent_id=agent_ids)
    def become_available(self, agent_id):
        if self._agent(agent_id).status is not AgentStatus.LOGGED_OUT:
            self.box.agent_available(agent_id)

    @rule(agent_id=agent_ids)
    def answer(self, agent_id):
        agent = self._agent(agent_id)
        if agent.state is AgentState.OFFERED:
            self.box.offer_answered(agent.call_id, agent_id)

    @rule(agent_id=agent_ids)
    def reject(self, agent_id):
        if self._agent(agent_id).state is AgentState.OFFERED:
            self.box.offer_rejected(agent_id)

    @rule(agent_id=agent_ids)
    def late_answer(self, agent_id):
        # An answer for a call that is not (or no longer) ringing this agent.
        if self._agent(agent_id).state is not AgentState.OFFERED and self.joined:
            self.box.offer_answered(self.joined[-1], agent_id)

    @rule(agent_id=agent_ids, by_customer=st.booleans())
    def hang_up_the_call(self, agent_id, by_customer):
        agent = self._agent(agent_id)
        caller = self.box.center.caller(agent.call_id) if agent.call_id else None
        if caller is not None and caller.state is CallerState.CONNECTED:
            if by_customer:
                self.box.caller_hangs_up(caller.id)
            else:
                self.box.call_ended(caller.id)

    # --- callers -----------------------------------------------------------------------

    @rule(queue=st.sampled_from(QUEUES), priority=st.integers(0, 3), vip=st.booleans())
    def join(self, queue, priority, vip):
        self.calls += 1
        call_id = f"c{self.calls}"
        self.joined.append(call_id)
        self.box.caller_joins(queue, call_id, "+vip" if vip else f"+{self.calls}", priority)

    def _live(self, states=(CallerState.WAITING, CallerState.OFFERING)):
        return [c for c in self.box.center.callers()
                if c.kind is CallerKind.CALL and c.state in states]

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def caller_hangs_up(self, data):
        self.box.caller_hangs_up(data.draw(st.sampled_from(self._live())).id)

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def caller_asks_for_a_callback(self, data):
        caller = data.draw(st.sampled_from(self._live()))
        self.box.request_callback(caller.id)
        self.joined.append(f"{caller.id}/callback")

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def caller_presses_for_voicemail(self, data):
        self.box.caller_transferred(data.draw(st.sampled_from(self._live())).id, "vm")

    def _dialing(self):
        return [c for c in self.box.center.callers() if c.state is CallerState.DIALING_CUSTOMER]

    @precondition(lambda self: self._dialing())
    @rule(data=st.data(), answers=st.booleans())
    def customer_picks_up_or_not(self, data, answers):
        caller = data.draw(st.sampled_from(self._dialing()))
        if answers:
            self.box.customer_answered(caller.id)
        else:
            self.box.customer_unreachable(caller.id)

    @rule(seconds=st.sampled_from([1, 3, 7, 12, 40]))
    def time_passes(self, seconds):
        self.box.advance(seconds)

    # --- promises ----------------------------------------------------------------------

    @invariant()
    def an_agent_never_holds_two_calls(self):
        for agent in self.box.center.agents():
            holding = [c.id for c in self.box.center.callers()
                       if agent.id in c.offered_to or (
                           c.agent_id == agent.id and c.state in (
                               CallerState.CONNECTED, CallerState.DIALING_CUSTOMER))]
            if agent.state in (AgentState.OFFERED, AgentState.TALKING):
                assert holding == [agent.call_id], (agent, holding)
            else:
                assert holding == [] and agent.call_id is None, (agent, holding)

    @invariant()
    def every_caller_ends_with_exactly_one_outcome(self):
        results = self.box.results()
        for call_id in self.joined:
            caller = self.box.center.caller(call_id)
            got = results.get(call_id, [])
            if caller is None:
                assert len(got) == 1, (call_id, got)
            elif caller.state is CallerState.CONNECTED:
                assert len(got) == 1 and caller.result is not None, (call_id, got)
            else:
                assert got == [] and caller.result is None, (call_id, got)

    @invariant()
    def no_caller_waits_while_an_eligible_agent_is_idle(self):
        center = self.box.center
        for caller in center.callers():
            if caller.state is not CallerState.WAITING:
                continue
            cfg = center.queue_config(caller.queue)
            members = {m.agent_id for m in center.members(caller.queue)}
            for agent in center.agents():
                idle = agent.status is AgentStatus.AVAILABLE and agent.state is AgentState.IDLE
                eligible = (agent.id in members and caller.queue in agent.queues
                            and all(agent.skills.get(s, 0) >= n
                                    for s, n in cfg.skills_required.items()))
                assert not (idle and eligible), (caller, agent)

    @invariant()
    def status_and_state_agree(self):
        for agent in self.box.center.agents():
            if agent.state is AgentState.OFFERED:
                assert agent.status is AgentStatus.AVAILABLE, agent
            if agent.status is AgentStatus.LOGGED_OUT:
                assert not agent.queues
            if agent.status is not AgentStatus.ON_BREAK:
                assert agent.break_reason == ""

    @invariant()
    def lines_are_in_order_and_timers_agree(self):
        center = self.box.center
        for queue in QUEUES:
            line = center.waiting(queue)
            assert [c.order for c in line] == sorted(c.order for c in line)
            assert all(c.state in (CallerState.WAITING, CallerState.OFFERING) for c in line)
            cfg = center.queue_config(queue)
            if cfg.max_callers:
                assert len(line) <= cfg.max_callers + len(
                    [c for c in line if c.kind is CallerKind.CALLBACK])
        assert set(self.box.timers) == center.pending_timers()


ContactCenterRules.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_contact_center_rules = ContactCenterRules.TestCase
