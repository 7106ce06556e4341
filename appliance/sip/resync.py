"""`check-sync`: the NOTIFY that tells a desk phone to fetch its settings again.

Sent to every registered phone when the box's LAN address changes, so that
phones provisioned by the box learn the new address from their next file
(Yealink, Snom, Poly, Grandstream and Fanvil honour `Event: check-sync`).
"""

from __future__ import annotations

from appliance.sip import message as sipmsg


def check_sync(aor: str, contact: str, local: str) -> bytes:
    """An out-of-dialog NOTIFY asking the phone at `contact` to re-read its configuration."""
    host = local.rsplit(":", 1)[0]
    return sipmsg.SipMessage.request("NOTIFY", contact, [
        ("Via", f"SIP/2.0/UDP {local};branch={sipmsg.new_branch()};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:{aor}@{host}>;tag={sipmsg.new_tag()}"),
        ("To", f"<sip:{aor}@{host}>"),
        ("Call-ID", sipmsg.new_call_id()),
        ("CSeq", "1 NOTIFY"),
        ("Event", "check-sync;reboot=false"),
        ("Subscription-State", "terminated;reason=noresource"),
    ], b"").to_bytes()
