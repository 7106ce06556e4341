"""Answering, ending and sending digits on a pjsua2 call: what the engine worker, the line gateway
and the simulated phones all do to a call, written once.

Runs on the calling process's pjsua2 thread only.
"""

from __future__ import annotations

import pjsua2 as pj


def respond(call: pj.Call, status: int) -> None:
    """Answer an incoming call with `status`: 180 to ring, 183 for early media, 200 to pick up."""
    prm = pj.CallOpParam(True)
    prm.statusCode = status
    call.answer(prm)


def end(call: pj.Call, status: int = 0, reason: str = "") -> None:
    """End a call whatever its state (BYE, CANCEL, or the final response `status` to an INVITE)."""
    prm = pj.CallOpParam(True)
    prm.statusCode = status
    if reason:
        prm.reason = reason
    call.hangup(prm)


def send_digits(call: pj.Call, digits: str, method: str = "rfc2833") -> None:
    """DTMF to the far end: RFC 4733 events in the audio stream, or SIP INFO."""
    prm = pj.CallSendDtmfParam()
    prm.digits = digits
    prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "info" else pj.PJSUA_DTMF_METHOD_RFC2833
    call.sendDtmf(prm)
