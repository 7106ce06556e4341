"""Call flows as data: routes, time conditions, IVR menus; validation and the interpreter.

Pure logic: no I/O, the clock is injected. The core stores flow sets and
carries out the commands a `FlowRun` returns.
"""

from appliance.logic.flows.interpreter import (
    CollectDigits, Command, Dial, FlowRun, Hangup, Play, RunState, SetLanguage, ToExtension,
    ToQueue, ToRingGroup, ToVoicemail,
)
from appliance.logic.flows.model import (
    LANGUAGES, NODE_FIELDS, ROUTE_FIELDS, SCHEMA_VERSION, FlowSet, Node, NodeKind, Route,
)
from appliance.logic.flows.patterns import compile_pattern, match_route, number_matches
from appliance.logic.flows.schedule import HolidayCalendar, Override, is_open
from appliance.logic.flows.template import default_flows
from appliance.logic.flows.validate import FlowProblem, Level, load_flows, validate

__all__ = [
    "CollectDigits", "Command", "Dial", "FlowRun", "Hangup", "Play", "RunState", "SetLanguage",
    "ToExtension", "ToQueue", "ToRingGroup", "ToVoicemail", "LANGUAGES", "NODE_FIELDS",
    "ROUTE_FIELDS", "SCHEMA_VERSION", "FlowSet", "Node", "NodeKind", "Route", "compile_pattern",
    "match_route", "number_matches", "HolidayCalendar", "Override", "is_open", "default_flows",
    "FlowProblem", "Level", "load_flows", "validate",
]
