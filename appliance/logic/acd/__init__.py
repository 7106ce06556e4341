"""The ACD: queues, agents, strategies, callbacks and the queue log, as pure logic.

`ContactCenter` is fed what happened (a caller joins, an agent answers, a
timer fires) and returns the commands for the core to carry out. See
docs/acd.md.
"""

from appliance.logic.acd.agent_side import MISSED_CALLS
from appliance.logic.acd.center import ContactCenter
from appliance.logic.acd.commands import (
    Bridge, CallAgentForCallback, CancelTimer, Command, DialCustomer, Hangup, LogEvent, Monitor,
    MonitorMode, Overflow, Play, Ring, StartTimer, StopRinging)
from appliance.logic.acd.config import EmptyRule, QueueConfig, Strategy
from appliance.logic.acd.machines import (
    AGENT_STATE, AGENT_STATUS, CALLER, AgentState, AgentStatus, CallerEvent, CallerState,
    QueueResult, StateEvent, StatusEvent, can_take_call)
from appliance.logic.acd.models import Agent, Caller, CallerKind, Member
from appliance.logic.acd.queue_log import QueueLogEntry, QueueLogKind
from appliance.logic.acd.strategies import STRATEGIES
from appliance.logic.acd.supervision import ROLE_MODES, may_supervise

__all__ = [
    "AGENT_STATE", "AGENT_STATUS", "CALLER", "MISSED_CALLS", "ROLE_MODES", "STRATEGIES", "Agent",
    "AgentState", "AgentStatus", "Bridge", "CallAgentForCallback", "Caller", "CallerEvent",
    "CallerKind", "CallerState", "CancelTimer", "Command", "ContactCenter", "DialCustomer",
    "EmptyRule", "Hangup", "LogEvent", "Member", "Monitor", "MonitorMode", "Overflow", "Play",
    "QueueConfig", "QueueLogEntry", "QueueLogKind", "QueueResult", "Ring", "StartTimer",
    "StateEvent", "StatusEvent", "StopRinging", "Strategy", "can_take_call", "may_supervise",
]
