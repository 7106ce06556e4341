"""Running one call through a flow set: events in, commands out.

`FlowRun` never touches a call. It returns commands (`Play`, `CollectDigits`,
`ToQueue`, ...) for the core to carry out and is told what happened through
`play_done()`, `digit(d)`, `digits_timeout()` and `hangup()`.

What the engine promises for the commands, in the order they are returned:
- `Play(..., interruptible=True)` stops as soon as the caller presses a digit,
  and that digit is reported; a non-interruptible Play ignores digits.
- `CollectDigits(max_digits, timeout_s)` starts when the Play before it ends
  (or is interrupted) and reports each digit; `timeout_s` runs from the start
  and again after each digit; `digits_timeout` is reported when it runs out.
- `ToQueue`, `ToExtension`, `ToRingGroup`, `ToVoicemail` and `Dial` hand the
  call over for good; the flow has nothing more to say about it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Callable

from appliance.errors import FlowStepError
from appliance.logic.flows.model import (
    ExtensionNode, ExternalNode, FlowSet, HangupNode, IvrMenuNode, LanguageNode, Node,
    PlayNode, QueueNode, RingGroupNode, TimeConditionNode, VoicemailNode,
)
from appliance.logic.flows.patterns import match_route
from appliance.logic.flows.schedule import Override, is_open

log = logging.getLogger(__name__)

# Validation rejects loops; this only keeps a flow set that skipped validation
# from spinning the core.
MAX_STEPS = 64


# --- commands ------------------------------------------------------------------

@dataclass(frozen=True)
class Play:
    prompt: str
    language: str = "en"
    interruptible: bool = False


@dataclass(frozen=True)
class CollectDigits:
    max_digits: int
    timeout_s: float


@dataclass(frozen=True)
class ToQueue:
    name: str


@dataclass(frozen=True)
class ToExtension:
    number: str


@dataclass(frozen=True)
class ToRingGroup:
    name: str


@dataclass(frozen=True)
class ToVoicemail:
    box: str


@dataclass(frozen=True)
class Dial:
    number: str


@dataclass(frozen=True)
class Hangup:
    reason: str = "normal"


@dataclass(frozen=True)
class SetLanguage:
    language: str


Command = (Play | CollectDigits | ToQueue | ToExtension | ToRingGroup | ToVoicemail | Dial
           | Hangup | SetLanguage)


# --- the machine ---------------------------------------------------------------

class RunState(StrEnum):
    STARTING = "starting"
    PLAYING = "playing"            # a play node's announcement
    IN_MENU = "in_menu"            # menu prompt or waiting for the first digit
    DIALING = "dialing"            # collecting the rest of a directly dialled extension
    NOTICE = "notice"              # "invalid option" / "no input" prompt, then onwards
    HANDED_OFF = "handed_off"      # queue, extension, voicemail ... took the call
    ENDED = "ended"


class Step(StrEnum):
    """What the flow did next; the table says which state that leads to."""
    PLAY = "play"
    MENU = "menu"
    DIAL_MORE = "dial_more"
    NOTICE = "notice"
    HAND_OFF = "hand_off"
    FLOW_HANGUP = "flow_hangup"
    CALLER_HANGUP = "caller_hangup"


_R, _S = RunState, Step
_MOVES = {_S.PLAY: _R.PLAYING, _S.MENU: _R.IN_MENU, _S.HAND_OFF: _R.HANDED_OFF,
          _S.FLOW_HANGUP: _R.ENDED, _S.CALLER_HANGUP: _R.ENDED}
TRANSITIONS: dict[RunState, dict[Step, RunState]] = {
    _R.STARTING: dict(_MOVES),
    _R.PLAYING: dict(_MOVES),
    _R.IN_MENU: {**_MOVES, _S.DIAL_MORE: _R.DIALING, _S.NOTICE: _R.NOTICE},
    _R.DIALING: {**_MOVES, _S.DIAL_MORE: _R.DIALING, _S.NOTICE: _R.NOTICE},
    _R.NOTICE: dict(_MOVES),
    _R.HANDED_OFF: {_S.CALLER_HANGUP: _R.ENDED},
    _R.ENDED: {},
}


class FlowRun:
    """One call's walk through one version of the flows."""

    def __init__(self, flows: FlowSet, call_id: str, did: str, caller: str,
                 clock: Callable[[], datetime], *, extensions: Collection[str] = (),
                 night_mode: Callable[[], bool] = lambda: False,
                 overrides: Mapping[str, Override] | None = None):
        self.flows = flows
        self.call_id = call_id
        self.did = did
        self.caller = caller
        self._clock = clock
        self._extensions = frozenset(extensions)
        self._night_mode = night_mode
        self._overrides = overrides or {}
        self.state = RunState.STARTING
        self.language = flows.language
        self.node: Node | None = None
        self.trail: list[str] = []     # node ids in the order visited, for the call record
        self.outcome: Command | None = None
        self._attempts = 0
        self._dialed = ""
        self._after_notice: Callable[[], list] | None = None

    def _fire(self, step: Step) -> None:
        new = TRANSITIONS[self.state].get(step)
        if new is None:
            raise FlowStepError(f"call {self.call_id}: {step} is not possible in {self.state}")
        if new is not self.state:
            log.info("call %s: %s -> %s", self.call_id, self.state, new)
        self.state = new

    # --- events in ------------------------------------------------------------

    def start(self) -> list[Command]:
        if self.state is not RunState.STARTING or self.trail:
            return []
        first = match_route(self.flows.routes, self.did, self.caller)
        if first is None:
            log.info("call %s: no route for %s from %s", self.call_id, self.did, self.caller)
            return self._end(Hangup("no_route"))
        return self._walk(first)

    def play_done(self) -> list[Command]:
        if self.state is RunState.PLAYING:
            return self._walk(self.node.next)
        if self.state is RunState.NOTICE:
            then, self._after_notice = self._after_notice, None
            return then()
        return []   # the end of a menu prompt changes nothing: digits are awaited anyway

    def digit(self, d: str) -> list[Command]:
        if self.state is RunState.IN_MENU:
            return self._menu_digit(d)
        if self.state is RunState.DIALING:
            return self._dialing_digit(d)
        return []

    def digits_timeout(self) -> list[Command]:
        if self.state is RunState.IN_MENU:
            return self._retry("timeout")
        if self.state is RunState.DIALING:
            return self._dialing_done()
        return []

    def hangup(self) -> list[Command]:
        if self.state is not RunState.ENDED:
            self._fire(Step.CALLER_HANGUP)
        return []

    # --- walking --------------------------------------------------------------

    def _walk(self, node_id: str) -> list[Command]:
        """Follow nodes that need no caller input until one waits or hands the call over."""
        out: list[Command] = []
        for _ in range(MAX_STEPS):
            node = self.flows.nodes.get(node_id)
            if node is None:
                log.error("call %s: node %r does not exist", self.call_id, node_id)
                return out + self._end(Hangup("flow_error"))
            self.node = node
            self.trail.append(node_id)
            if isinstance(node, TimeConditionNode):
                node_id = node.open if self._open(node) else node.closed
            elif isinstance(node, LanguageNode):
                self.language = node.language
                out.append(SetLanguage(node.language))
                node_id = node.next
            elif isinstance(node, PlayNode):
                self._fire(Step.PLAY)
                return out + [Play(node.prompt, self.language)]
            elif isinstance(node, IvrMenuNode):
                self._attempts = 0
                return out + self._offer_menu()
            elif isinstance(node, HangupNode):
                return out + self._end(Hangup())
            else:
                return out + self._hand_off(_HAND_OFF[type(node)](node))
        log.error("call %s: more than %d steps without the caller; loop in %s",
                  self.call_id, MAX_STEPS, self.trail[-MAX_STEPS:])
        return out + self._end(Hangup("flow_loop"))

    def _open(self, node: TimeConditionNode) -> bool:
        return is_open(node, self._clock(), self.flows.calendar,
                       self._overrides.get(node.id), self._night_mode())

    def _hand_off(self, command: Command) -> list[Command]:
        self.outcome = command
        self._fire(Step.HAND_OFF)
        return [command]

    def _end(self, command: Hangup) -> list[Command]:
        self.outcome = command
        self._fire(Step.FLOW_HANGUP)
        return [command]

    # --- menus ----------------------------------------------------------------

    def _offer_menu(self) -> list[Command]:
        menu: IvrMenuNode = self.node
        self._dialed = ""
        self._fire(Step.MENU)
        return [Play(menu.prompt, self.language, interruptible=True),
                CollectDigits(1, menu.timeout_s)]

    def _menu_digit(self, d: str) -> list[Command]:
        menu: IvrMenuNode = self.node
        if d == menu.repeat_digit:
            return self._offer_menu()
        if menu.direct_dial and self._longer_extensions(d):
            self._dialed = d
            self._fire(Step.DIAL_MORE)
            longest = max(len(e) for e in self._extensions if e.startswith(d))
            return [CollectDigits(longest - len(d), menu.direct_dial_window_s)]
        if d in menu.choices:
            return self._walk(menu.choices[d])
        if menu.direct_dial and d in self._extensions:
            return self._hand_off(ToExtension(d))
        return self._retry("invalid")

    def _longer_extensions(self, dialed: str) -> bool:
        return any(e.startswith(dialed) and e != dialed for e in self._extensions)

    def _dialing_digit(self, d: str) -> list[Command]:
        if d == "#" and not self._longer_extensions(self._dialed + d):
            return self._dialing_done()   # "#" ends dialling, as on most PBXs
        self._dialed += d
        if self._longer_extensions(self._dialed):
            self._fire(Step.DIAL_MORE)
            return []
        if self._dialed in self._extensions:
            return self._hand_off(ToExtension(self._dialed))
        return self._retry("invalid")

    def _dialing_done(self) -> list[Command]:
        menu: IvrMenuNode = self.node
        dialed, self._dialed = self._dialed, ""
        if dialed in self._extensions:
            return self._hand_off(ToExtension(dialed))
        if len(dialed) == 1 and dialed in menu.choices:
            return self._walk(menu.choices[dialed])
        return self._retry("invalid")

    def _retry(self, why: str) -> list[Command]:
        """An invalid digit or silence: offer the menu again, or give up after the retries."""
        menu: IvrMenuNode = self.node
        self._attempts += 1
        prompt = menu.timeout_prompt if why == "timeout" else menu.invalid_prompt
        if self._attempts > menu.retries:
            final = menu.invalid_destination
            if why == "timeout" and menu.timeout_destination:
                final = menu.timeout_destination
            then = lambda: self._walk(final)  # noqa: E731
        else:
            then = self._offer_menu
        log.info("call %s: %s in menu %s, attempt %d of %d", self.call_id, why, menu.id,
                 self._attempts, menu.retries + 1)
        if prompt is None:
            return then()
        self._after_notice = then
        self._fire(Step.NOTICE)
        return [Play(prompt, self.language)]


_HAND_OFF: dict[type, Callable[[Node], Command]] = {
    QueueNode: lambda n: ToQueue(n.queue),
    ExtensionNode: lambda n: ToExtension(n.number),
    RingGroupNode: lambda n: ToRingGroup(n.group),
    VoicemailNode: lambda n: ToVoicemail(n.box),
    ExternalNode: lambda n: Dial(n.number),
}
