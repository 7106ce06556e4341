"""A leg is one SIP call the worker holds; LegCall is its pjsua2 face."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

if TYPE_CHECKING:
    from appliance.engine.media import Player


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


class LegCall(pj.Call):
    """Forwards pjsua2's call callbacks to the worker (on the worker's thread)."""

    def __init__(self, worker: Any, leg_id: str, account: pj.Account,
                 call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.worker = worker
        self.leg_id = leg_id
        self.leg: Leg | None = None

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        if self.leg is not None:
            self.worker.on_state(self.leg, self.getInfo())

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        if self.leg is not None:
            self.worker.on_media(self.leg)

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        if self.leg is not None:
            method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
            self.worker.on_dtmf(self.leg, prm.digit, method)

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        # pjsua would dial the target itself if accepted, behind the core's back;
        # the core decides and carries out the transfer with its own legs.
        prm.statusCode = 603
        if self.leg is not None:
            self.worker.on_transfer_request(self.leg, prm.dstUri)


class LocalAccount(pj.Account):
    """The worker's one account: no registration, receives every INVITE."""

    def __init__(self, worker: Any):
        super().__init__()
        self.worker = worker

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.worker.on_incoming(prm)
