"""The campaign dialer: every second, who each running campaign calls now, and placing those calls.

For each running campaign, the highest priority first:

- progressive: one call per free agent of the campaign's queue, never more. The agent is kept for
  the call (`campaign_offer`: offered nothing else) before the callee's number is dialled; an entry
  with a booked callback goes to the agent who booked it when they are free.
- message: up to the campaign's `max_lines` calls at once, no agent.
- preview: nothing by itself; the agent's "dial" comes through the control API (`dial_preview`),
  which keeps the agent and rings their phone first.

Each number goes through the numbering plan with the campaigns' own class of service (the
campaign's `route` is only a preference among the trunks it allows); an extension's number rings
its phone directly. A number the plan refuses is never dialled: the attempt ends FAILED at once,
with a log line and its call record. The calls themselves are `CampaignCallRuntime`s placed in an
engine worker through the `place` port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from appliance.campaign_calls import CampaignCallRuntime, CampaignSide
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic.acd.commands import Command
from appliance.logic.calls import Disposition
from appliance.logic.campaigns.config import Campaign
from appliance.logic.campaigns.model import Entry, EntryState, Mode, Result
from appliance.logic.dial_targets import Target, Unreachable, where_to_ring
from appliance.logic.handlers.campaign_call import AttemptOver, CampaignCall
from appliance.logic.records import call_record

log = logging.getLogger("callbox.campaigns")

TICK_S = 1.0
# The callee hears the box's prompts in the campaign's country's language (English elsewhere).
LANGUAGES = {"PL": "pl", "CN": "zh"}
EVERYONE = 1_000_000  # "as many agents as there are entries": a query of who may be called now
ROUNDS = 20  # numbers refused before dialling, asked again at most this often per second and campaign
# Why a number on the list is not dialled, as the log says it.
NOT_DIALLED = {
    Unreachable.NO_PHONE: "extension {number} has no registered phone",
    Unreachable.UNREADABLE: "not a number the box can dial",
    Unreachable.REFUSED: "refused by the numbering plan ({verdict}; campaigns.class_of_service)",
    Unreachable.NO_TRUNK: "no trunk can take the call now",
}


class CampaignList(Protocol):
    """What the dialer asks of the campaign service (`appliance.campaigns.Campaigns`)."""

    def running(self) -> list[Campaign]: ...
    def in_progress(self, cid: str) -> int: ...
    def due(self, cid: str, free_agents: int) -> list[Entry]: ...
    def entry(self, cid: str, entry_id: str) -> Entry: ...
    def describe(self, cid: str) -> dict[str, Any]: ...
    def dialling(self, cid: str, entry_id: str, offered: bool = False) -> None: ...
    def answered(self, cid: str, entry_id: str) -> None: ...
    def attempt_over(self, over: AttemptOver) -> None: ...


@dataclass(frozen=True)
class DialerPorts:
    clock: Callable[[], float]
    campaigns: CampaignList
    free_agents: Callable[[str], list[str]]  # the ACD: a queue's free agents, the longest idle first
    campaign_offer: Callable[[str, str], list[Command]]  # (agent, call id): keep the agent for this call
    campaign_talking: Callable[[str], list[Command]]
    campaign_done: Callable[[str, str], list[Command]]  # (agent, queue)
    run_acd: Callable[[list[Command]], None]
    plan: Callable[[str, str], tuple[Any, list[dict[str, Any]]]]  # (number, route) -> the trunks' plan
    is_extension: Callable[[str], bool]
    phone_of: Callable[[str], str | None]  # an extension's registered contact, None if none
    place: Callable[[CampaignCallRuntime], bool]  # into a worker with room; False when the box is full
    write_record: Callable[[dict[str, Any]], None]  # an attempt never dialled is a call record too


class CampaignDialer:
    def __init__(self, ports: DialerPorts):
        self.ports = ports
        self.calls: dict[str, CampaignCallRuntime] = {}
        self._task: asyncio.Task | None = None
        self._warned: set[str] = set()

    # --- running ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.tick()
            except Exception:  # one bad campaign must not stop the others, nor the next second
                log.exception("campaign dialer")

    def tick(self) -> None:
        """One round: calls whose worker died are ended, then each running campaign dials what it may."""
        for call_id, run in list(self.calls.items()):
            if not run.ended and run.line is not None and not run.line.alive():
                run.worker_lost()
            if run.ended:
                del self.calls[call_id]
        for campaign in self.ports.campaigns.running():
            try:
                if not self._work(campaign):
                    return  # the box is full: nothing more this second
            except (NotFound, Conflict, ValidationError) as e:
                if campaign.id not in self._warned:
                    self._warned.add(campaign.id)
                    log.warning("campaign %s dials nobody: %s", campaign.id, e)

    def _work(self, c: Campaign) -> bool:
        """Dial what campaign `c` may now; False when the box had no room. A number refused before
        dialling frees its line (or agent) at once, so the list is asked again for the next one."""
        if c.mode is Mode.PREVIEW:
            return True  # the agents choose
        for _ in range(ROUNDS):
            outcomes = self._round(c)
            if "" in outcomes:
                return False
            if None not in outcomes:
                return True
        return True

    def _round(self, c: Campaign) -> list[str | None]:
        campaigns = self.ports.campaigns
        outcomes: list[str | None] = []
        if c.mode is Mode.MESSAGE:
            for entry in campaigns.due(c.id, free_agents=0):
                outcomes.append(self._attempt(c, entry, ""))
                if outcomes[-1] == "":
                    break
            return outcomes
        free = self.ports.free_agents(c.queue)
        if not free:
            return []
        # `due` counts the campaign's calls in progress against its agents: those agents are kept, not free.
        for entry in campaigns.due(c.id, free_agents=len(free) + campaigns.in_progress(c.id)):
            agent = entry.agent if entry.agent in free else free[0]
            outcomes.append(self._attempt(c, entry, agent))
            if outcomes[-1] == "":
                break
            if outcomes[-1] is not None:
                free.remove(agent)
        return outcomes

    # --- the preview agent's choice ---------------------------------------------------------

    def dial_preview(self, cid: str, entry_id: str, agent: str) -> dict[str, Any]:
        """The agent chose to call this card: their phone rings first, then the callee's."""
        campaigns = self.ports.campaigns
        campaigns.describe(cid)  # 404 for a campaign that does not exist
        c = next((c for c in campaigns.running() if c.id == cid), None)
        if c is None:
            raise Conflict(f"campaign {cid} is not running")
        if c.mode is not Mode.PREVIEW:
            raise Conflict(f"campaign {cid} is {c.mode.value}: the box dials it itself")
        entry = campaigns.entry(cid, entry_id)
        if agent not in self.ports.free_agents(c.queue):
            raise Conflict(f"agent {agent} is not free in queue {c.queue}")
        if entry.state is not EntryState.WAITING:
            raise Conflict(f"{entry.number} is {entry.state.value}")
        if entry not in campaigns.due(cid, free_agents=EVERYONE):
            state = campaigns.entry(cid, entry_id).state
            why = "is on the do-not-call list" if state is EntryState.DO_NOT_CALL else \
                "may not be called now (calling hours, or a retry that is not due)"
            raise Conflict(f"{entry.number} {why}")
        call_id = self._attempt(c, entry, agent)
        if call_id == "":
            raise Conflict("the box is full: try again in a moment")
        return {"call_id": call_id, "dialled": call_id is not None}

    # --- one attempt --------------------------------------------------------------------------

    def _attempt(self, c: Campaign, entry: Entry, agent: str) -> str | None:
        """Place one call: its id; None when the number was refused (a FAILED attempt); "" when full."""
        ports, now = self.ports, self.ports.clock()
        call_id = f"cmp-{c.id}-{entry.id}-{int(now * 1000)}"
        callee = self._callee(c, entry)
        if isinstance(callee, str):
            log.warning("campaign %s: %s not dialled: %s", c.id, entry.number, callee)
            ports.campaigns.dialling(c.id, entry.id)
            self._not_dialled(c, entry, call_id, now)
            return None
        agent_uri = ports.phone_of(agent) if agent else None
        if agent and agent_uri is None:
            raise Conflict(f"agent {agent} has no registered phone")
        call = CampaignCall(call_id, c.id, entry.id, callee, c.caller_id, "", ports.clock, agent=agent,
                            agent_uri=agent_uri or "", message=c.message, collect_digit=c.collect_digit,
                            survey=c.survey, ring_timeout_s=c.ring_timeout_s)
        run = CampaignCallRuntime(call, c.mode, self._side(c), queue=c.queue,
                                  language=LANGUAGES.get(c.country, "en"))
        if agent:
            ports.run_acd(ports.campaign_offer(agent, call_id))
        if not ports.place(run):
            if agent:
                ports.run_acd(ports.campaign_done(agent, c.queue))
            return ""
        ports.campaigns.dialling(c.id, entry.id)
        self.calls[call_id] = run
        log.info("campaign %s: calling %s%s (%s)", c.id, entry.number, f" for agent {agent}" if agent else "",
                 call_id)
        run.begin()
        return call_id

    def _callee(self, c: Campaign, entry: Entry) -> Target | str:
        """Where the entry's number is dialled, or why it may not be."""
        number, ports = entry.number, self.ports
        reach = where_to_ring(number, is_extension=ports.is_extension, phone_of=ports.phone_of,
                              plan=lambda n: ports.plan(n, c.route))
        if reach.why_not is None:
            return replace(reach.first, name=entry.name)
        return NOT_DIALLED[reach.why_not].format(number=number, verdict=reach.verdict)

    def _not_dialled(self, c: Campaign, entry: Entry, call_id: str, now: float) -> None:
        self.ports.campaigns.attempt_over(AttemptOver(c.id, entry.id, Result.FAILED))
        self.ports.write_record(call_record(
            call_id=call_id, start=now, answer=None, end=now, talk_from=None, disposition=Disposition.FAILED,
            direction="outbound", caller=c.caller_id, callee=entry.number, answered_by=None, hangup_by="box",
            trunk=None, worker="", outcome="CAMPAIGN", campaign=c.id, campaign_entry=entry.id,
            campaign_result=Result.FAILED.value, agent=None))

    def _side(self, c: Campaign) -> CampaignSide:
        ports = self.ports
        return CampaignSide(
            answered=ports.campaigns.answered, attempt_over=ports.campaigns.attempt_over,
            agent_talking=lambda agent: ports.run_acd(ports.campaign_talking(agent)),
            agent_done=lambda agent: ports.run_acd(ports.campaign_done(agent, c.queue)))
