"""Authentication of requests: digest challenges (RFC 7616) answered, checked, and failures
counted against the address that sent them.

Identity is proven, never inferred from a source address. The nonce must have been issued to
the address that uses it, the digest must name the Request-URI, and its nonce count must not have
answered another request. A wrong password and an unknown user get the same answer (no
enumeration). Failures from an address that a live registration or a trunk uses slow it down but
never ban it: over UDP anybody can forge them.
"""

from __future__ import annotations

import logging
from typing import Callable

from appliance.sip.answers import transaction_key
from appliance.sip.digest import FOREIGN_NONCE, REPLAYED, DigestAuth
from appliance.sip.edge_limits import EdgeStats
from appliance.sip.message import SipMessage
from appliance.sip.security import Guard
from appliance.sip.source import Source

__all__ = ["RequestAuthentication", "auth_scheme"]

log = logging.getLogger("callbox.sip.edge")


class RequestAuthentication:
    """Who sent a request, proven by digest, or a challenge or a refusal sent instead.

    `registered_at(source)`: the extension with a live registration from exactly that source;
    `registered_from(ip)`: whether any live registration was made from that address;
    `trunk_of(source, req)`: the trunk at that address, if any;
    `reply(req, source, status, reason, headers)`: answer the request;
    `publish(event, **fields)`: announce a ban.
    """

    def __init__(self, *, auth: DigestAuth, guard: Guard, registered_at: Callable[[Source], str | None],
                 registered_from: Callable[[str], bool], trunk_of: Callable[[Source, SipMessage], str | None],
                 reply: Callable[..., None], publish: Callable[..., None], stats: EdgeStats):
        self.auth, self.guard = auth, guard
        self.registered_at, self.registered_from, self.trunk_of = registered_at, registered_from, trunk_of
        self.reply, self.publish, self.stats = reply, publish, stats

    def authenticate(self, req: SipMessage, source: Source, header: str, challenge_status: int) -> str | None:
        """The authenticated user, or None after answering with a challenge or a failure."""
        value = req.get(header)
        challenge_header = "WWW-Authenticate" if challenge_status == 401 else "Proxy-Authenticate"
        if value is None or auth_scheme(value) != "digest":
            # No credentials, or of a scheme we do not speak (a phone configured for something
            # else): not a failed login — a guesser cannot gain anything from it.
            if value is not None:
                log.info("%s with a %s scheme from %s:%d: challenged", header, auth_scheme(value)[:20] or "blank",
                         source.ip, source.port)
            self.reply(req, source, challenge_status,
                       headers=[(challenge_header, c) for c in self.auth.challenge(client=source.ip)])
            return None
        if self.registered_at(source) is None and not self.guard.admit_credentials(source.ip):
            # A protected address that kept failing: dropped, a real phone sends it again. The
            # exact source of a live registration is not slowed: failures forged from its address
            # must not keep the phone from calling (a forger there gets no nonce for it anyway).
            self.stats.dropped += 1
            return None
        # The nonce must have been issued to this address, the digest must name this Request-URI,
        # and its nonce count must not have answered another request (a retransmission may repeat it).
        key = transaction_key(req, source)
        result = self.auth.verify(req.method, value, client=source.ip, uri=req.uri,
                                  request=(req.call_id, req.cseq[0], req.method, key[3] if key else ""))
        if result.ok:
            # Phones behind one NAT share an address: a success forgives earlier typos.
            self.guard.auth_succeeded(source.ip)
            return result.user
        if result.stale:
            if result.reason in (FOREIGN_NONCE, REPLAYED):
                log.info("%s from %s:%d: %s; challenged afresh", req.method, source.ip, source.port, result.reason)
            self.reply(req, source, challenge_status,
                       headers=[(challenge_header, c) for c in self.auth.challenge(stale=True, client=source.ip)])
            return None
        log.info("%s from %s:%d failed authentication: %s", req.method, source.ip, source.port, result.reason)
        ban = self.guard.auth_failed(source.ip, protected=self.is_protected(source, req))
        if ban is not None:
            log.warning("banned %s: %s", source.ip, ban.reason)
            self.publish("ban", **ban.to_dict())
        # The same answer for a wrong password and an unknown user: no enumeration.
        self.reply(req, source, 403, "Forbidden")
        return None

    def is_protected(self, source: Source, req: SipMessage) -> bool:
        """An address a live registration or a trunk uses: failures slow it down, never ban it
        (over UDP anybody can forge them)."""
        if self.registered_from(source.ip):
            return True
        try:
            return self.trunk_of(source, req) is not None
        except Exception:
            log.exception("identifying a trunk for %s", source.ip)
            return False


def auth_scheme(value: str) -> str:
    """The scheme of an Authorization value, lowercase ("digest")."""
    parts = value.split(None, 1)
    return parts[0].lower() if parts else ""
