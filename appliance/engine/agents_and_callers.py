"""What the simulated agents and callers do on their own: the scripts their phones follow.

An agent's desk phone takes one call at a time, rings for a while, answers, talks and hangs up
(its plan drawn from `AgentHabits`). A caller dials the service number at random (Poisson)
moments, presses the IVR digits once the box answers, talks and hangs up, or loses patience
early (`CallerHabits`). The phones themselves are `softphones.SimPhones`.
"""

from __future__ import annotations

from typing import Any

import pjsua2 as pj

from appliance.engine.softphones import PhoneCall, SimAccount, SimPhones
from appliance.logic.simcalls import AgentHabits, Arrivals, CallerHabits, admit, incoming_call, outgoing_call


class SimAgents(SimPhones):
    """Agents' desk phones: ring, answer after a while, talk, hang up."""

    role = "agents"
    user_agent = "Callbox simulated agent"

    def __init__(self, *args: Any, habits: AgentHabits, **kwargs: Any):
        self.habits = habits
        super().__init__(*args, **kwargs)

    def refuse_status(self, account: SimAccount) -> int | None:
        busy = any(c.sim_account is account for c in self.calls.values())  # one call per agent
        return admit(len(self.calls), self.max_calls, busy, self.stopping)

    def take_incoming(self, account: SimAccount, call: PhoneCall, info) -> None:
        sim, commands = incoming_call(self.new_call_id(account), account.user,
                                      self.habits.plan(self.rng), self.clock())
        call.sim = sim
        self.calls[sim.id] = call
        self.emit("call_started", account=account.user, call=sim.id, direction="in",
                  **{"from": info.remoteUri}, call_id=info.callIdString,
                  answer_after_s=round(sim.plan.answer_after_s, 1), talk_s=round(sim.plan.talk_s, 1))
        self.run(sim, commands)


class SimCallers(SimPhones):
    """Customers calling the service number at random moments."""

    role = "callers"
    user_agent = "Callbox simulated caller"

    def __init__(self, *args: Any, dial: str, rate_per_min: float, max_concurrent: int,
                 habits: CallerHabits, **kwargs: Any):
        self.dial = dial
        self.rate_per_min = rate_per_min
        self.max_concurrent = max_concurrent
        self.habits = habits
        self.arrivals: Arrivals | None = None
        super().__init__(*args, **kwargs)
        self.max_concurrent = min(max_concurrent, self.max_calls)

    def on_registered(self, account: SimAccount) -> None:
        if self.arrivals is None:  # the first call waits for the first registration
            self.arrivals = Arrivals(self.rate_per_min, self.rng, self.clock())

    def tick(self, now: float) -> None:
        if self.arrivals is None:
            return
        for _ in range(self.arrivals.due(now)):
            if len(self.calls) >= self.max_concurrent:
                self.emit("call_skipped", account=self.accounts[0].user, reason="max concurrent calls")
            else:
                self.place_call(now)

    def place_call(self, now: float) -> None:
        account = self.accounts[0]
        host, port = self.box
        uri = f"sip:{self.dial}@{host}:{port}"
        sim, commands = outgoing_call(self.new_call_id(account), account.user,
                                      self.habits.plan(self.rng), now)
        call = PhoneCall(self, account)
        call.sim = sim
        self.calls[sim.id] = call
        plan = sim.plan
        self.emit("call_started", account=account.user, call=sim.id, direction="out", to=uri,
                  digits=plan.digits, abandons=plan.abandons,
                  hangup_after_s=round(plan.hangup_after_s, 1))
        try:
            call.makeCall(uri, pj.CallOpParam(True))
        except pj.Error as e:
            if self.calls.pop(sim.id, None) is not None:
                call.sim = None
                self._trash.append(call)
                self.emit("hung_up", account=account.user, call=sim.id, by="local", cause=0,
                          reason=f"{e.reason} ({e.status})", talk_s=None)
            return
        self.run(sim, commands)
