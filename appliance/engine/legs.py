"""A leg is one SIP call the worker holds; LegCall is its pjsua2 face, LocalAccount the door INVITEs come in by."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

import pjsua2 as pj

from appliance.engine.commands import CommandFailed

if TYPE_CHECKING:
    from appliance.engine.media import Player


log = logging.getLogger("callbox.engine.legs")


def guarded(callback: Callable) -> Callable:
    """An exception escaping a pjsua2 callback would abort the process; log it instead."""
    @functools.wraps(callback)
    def wrapper(self, prm):
        try:
            callback(self, prm)
        except Exception:
            log.exception("%s failed", callback.__name__)
    return wrapper


class LegState(StrEnum):
    SETUP = "setup"
    ANSWERED = "answered"
    GONE = "gone"


@dataclass(eq=False)
class Leg:
    id: str
    call: "LegCall"
    direction: str  # "in" (the worker received the INVITE) or "out"
    state: LegState = LegState.SETUP
    rang: bool = False
    hung_up_here: bool = False
    timed_out: bool = False
    held_here: bool = False
    held_by_remote: bool = False
    deadline: float | None = None
    hold_pending_until: float | None = None  # a hold/unhold waiting to be sent
    player: "Player | None" = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.call.leg = self

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "leg": self.id, "direction": self.direction, "state": str(self.state),
            "held": self.held_here, "held_by_remote": self.held_by_remote,
            "playing": self.player is not None}
        try:
            info = self.call.getInfo()
            described["remote"] = info.remoteUri
            described["sip_state"] = info.stateText
        except pj.Error:
            pass
        return described


def live_leg(legs: Mapping[str, Leg], leg_id: str) -> Leg:
    """The leg a command names, still with its call; CommandFailed if it is unknown or over."""
    leg = legs.get(leg_id)
    if leg is None or leg.call is None:
        raise CommandFailed(f"no such leg: {leg_id}")
    return leg


class LegEvents(Protocol):
    """What happens to a leg, told on the worker's thread (the worker's call legs listen)."""

    def on_state(self, leg: Leg, info: pj.CallInfo) -> None: ...
    def on_media(self, leg: Leg) -> None: ...
    def on_dtmf(self, leg: Leg, digit: str, method: str) -> None: ...
    def on_transfer_request(self, leg: Leg, target: str) -> None: ...
    def on_transfer_status(self, leg: Leg, status: int, final: bool) -> None: ...


class LegCall(pj.Call):
    """Forwards pjsua2's call callbacks to the worker's call legs (on the worker's thread)."""

    def __init__(self, owner: LegEvents, leg_id: str, account: pj.Account,
                 call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.owner = owner
        self.leg_id = leg_id
        self.leg: Leg | None = None

    @guarded
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        if self.leg is not None:
            self.owner.on_state(self.leg, self.getInfo())

    @guarded
    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        if self.leg is not None:
            self.owner.on_media(self.leg)

    @guarded
    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        if self.leg is not None:
            method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
            self.owner.on_dtmf(self.leg, prm.digit, method)

    @guarded
    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        # pjsua would dial the target itself if accepted, behind the core's back;
        # the core decides and carries out the transfer with its own legs.
        prm.statusCode = 603
        if self.leg is not None:
            self.owner.on_transfer_request(self.leg, prm.dstUri)

    @guarded
    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        # NOTIFYs about a REFER we sent: the core hangs up once it succeeded.
        if self.leg is not None:
            self.owner.on_transfer_status(self.leg, prm.statusCode, prm.finalNotify)


class LocalAccount(pj.Account):
    """An account that registers nowhere and hands every INVITE it receives to `on_incoming`."""

    def __init__(self, on_incoming: Callable[[pj.OnIncomingCallParam], None]):
        super().__init__()
        self.on_incoming = on_incoming

    @guarded
    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.on_incoming(prm)
