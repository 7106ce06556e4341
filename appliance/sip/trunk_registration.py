"""Registering the box to a SIP provider (RFC 3261 §10 as a client), as a
pure state machine.

The caller owns the socket and the timer: it sends what `Send` carries to the
trunk, feeds every response with the registration's Call-ID to
`on_response`, and calls `on_timer(now)` at `next_wakeup()`. The machine
keeps the transaction itself (UDP retransmissions, the 32 s timeout), answers
digest challenges, refreshes at 80 % of the granted time, retries with
backoff, and keeps the NAT binding open with CRLF keep-alives.

NAT: the provider reports in the top Via of its answers where our packets
came from (`received`, and `rport` since we ask for it). Without a configured
external address that is the box's public address (`public_address`): the
Contact is rewritten to it at once (the old one is removed in the same
REGISTER), and the caller should advertise it in SDP too, or calls get
one-way audio.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from appliance.errors import SipParseError, ValidationError
from appliance.logic.machine import Machine
from appliance.logic.routing import Trunk
from appliance.sip.digest import client_response
from appliance.sip.message import (
    NameAddr,
    SipMessage,
    new_branch,
    new_call_id,
    new_tag,
    parse_auth,
    parse_uri,
)

log = logging.getLogger("callbox.sip.trunk")

USER_AGENT = "Callbox"
T1 = 0.5             # RFC 3261 §17.1.2.2 retransmission timers, over UDP
T2 = 4.0
TIMER_F = 64 * T1    # a non-INVITE transaction without a final answer has failed
KEEPALIVE_S = 25.0   # below the 30 s many NAT boxes give an idle UDP binding
REFRESH_AT = 0.8     # of the granted time
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0
REJECTED_FIRST_S = 600.0   # a refusal is not cured by asking often; providers ban that
REJECTED_MAX_S = 3600.0
MAX_STALE_RETRIES = 2
MAX_EXPIRES = 86400
# Answers that say "later", not "no": they get the short backoff.
TRANSIENT_STATUSES = frozenset({408, 480, *range(500, 600)})


class RegistrationState(StrEnum):
    UNREGISTERED = "unregistered"
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"
    UNREGISTERING = "unregistering"


class Ev(StrEnum):
    START = "start"
    CHALLENGED = "challenged"      # 401/407 answered, or 423 retried with a longer time
    ACCEPTED = "accepted"          # 200 OK
    REJECTED = "rejected"          # a final refusal (403, wrong password, 404 ...)
    NO_ANSWER = "no_answer"        # timeout, transport error, 5xx: try again soon
    REFRESH_DUE = "refresh_due"
    RETRY_DUE = "retry_due"
    STOP = "stop"


S = RegistrationState
TRANSITIONS: dict[RegistrationState, dict[Ev, RegistrationState]] = {
    S.UNREGISTERED: {Ev.START: S.REGISTERING, Ev.STOP: S.UNREGISTERED},
    S.REGISTERING: {Ev.CHALLENGED: S.REGISTERING, Ev.ACCEPTED: S.REGISTERED, Ev.REJECTED: S.FAILED,
                    Ev.NO_ANSWER: S.FAILED, Ev.STOP: S.UNREGISTERING},
    S.REGISTERED: {Ev.REFRESH_DUE: S.REGISTERED, Ev.CHALLENGED: S.REGISTERED, Ev.ACCEPTED: S.REGISTERED,
                   Ev.REJECTED: S.FAILED, Ev.NO_ANSWER: S.FAILED, Ev.STOP: S.UNREGISTERING},
    S.FAILED: {Ev.RETRY_DUE: S.REGISTERING, Ev.START: S.REGISTERING, Ev.STOP: S.UNREGISTERED},
    S.UNREGISTERING: {Ev.CHALLENGED: S.UNREGISTERING, Ev.ACCEPTED: S.UNREGISTERED,
                      Ev.REJECTED: S.UNREGISTERED, Ev.NO_ANSWER: S.UNREGISTERED, Ev.STOP: S.UNREGISTERING},
}
# A refresh or a repeated challenge keeps the state: no log line, no StatusChanged.
REGISTRATION: Machine[RegistrationState, Ev] = Machine(
    "trunk registration", "trunk %s", "state", TRANSITIONS, "callbox.sip.trunk", who="name",
    quiet_repeats=True)


# --- what the machine asks of its caller ----------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send `payload` (a SIP message, or keep-alive bytes) to the trunk."""

    payload: SipMessage | bytes
    host: str
    port: int
    transport: str

    def to_bytes(self) -> bytes:
        return self.payload if isinstance(self.payload, bytes) else self.payload.to_bytes()


@dataclass(frozen=True)
class StatusChanged:
    trunk: str
    state: RegistrationState
    reason: str | None


@dataclass(frozen=True)
class PublicAddressChanged:
    """The provider sees us at a new address: advertise it in SDP and Contact."""

    trunk: str
    address: tuple[str, int]


Action = Send | StatusChanged | PublicAddressChanged


@dataclass
class _Transaction:
    request: SipMessage
    cseq: int
    branch: str
    expires: int
    retransmit_at: float
    interval: float
    deadline: float
    fresh_credentials: bool


def _split_hostport(text: str, default_port: int) -> tuple[str, int]:
    uri = parse_uri(text if text.startswith(("sip:", "sips:")) else f"sip:{text}")
    return uri.host, uri.port or default_port


class TrunkRegistration:
    """One trunk's registration to its provider."""

    def __init__(self, trunk: Trunk, clock: Callable[[], float], local_contact: str,
                 external_address: str | None = None):
        if not trunk.register:
            raise ValidationError(f"trunk {trunk.name} does not register")
        self.trunk = trunk
        self.clock = clock
        self.local_address = _split_hostport(local_contact, 5060)
        self.external_address = (_split_hostport(external_address, self.local_address[1])
                                 if external_address else None)
        self.state = RegistrationState.UNREGISTERED
        self.last_error: str | None = None
        self.registered_until: float | None = None
        self.next_attempt: float | None = None
        self.public_address: tuple[str, int] | None = None
        self.call_id = new_call_id()
        self.from_tag = new_tag()
        self.expires = trunk.register_expires
        self._cseq = 0
        self._pending: _Transaction | None = None
        self._challenge: tuple[str, str] | None = None  # (header to answer with, challenge value)
        self._nc = 0
        self._stale_retries = 0
        self._failures = 0
        self._refresh_at: float | None = None
        self._keepalive_at: float | None = None
        self._contact_address = self.external_address or self.local_address
        self._stale_contact: tuple[str, int] | None = None
        scheme_params = ";transport=tcp" if trunk.transport == "tcp" else ""
        # The port belongs in the Request-URI only when the domain is the host we send to.
        port = "" if trunk.port == 5060 or trunk.domain != trunk.host else f":{trunk.port}"
        self.request_uri = f"sip:{trunk.domain}{port}{scheme_params}"
        self.aor = f"sip:{trunk.username}@{trunk.domain}"

    # --- the state table ---------------------------------------------------

    @property
    def name(self) -> str:
        """The trunk's name, which names the registration in the log and in errors."""
        return self.trunk.name

    def _fire(self, event: Ev, reason: str | None = None) -> list[Action]:
        old = self.state
        new = REGISTRATION.fire(self, event, reason)
        return [] if new is old else [StatusChanged(self.trunk.name, new, reason)]

    # --- what the caller calls ---------------------------------------------

    def start(self) -> list[Action]:
        """Register now (also: retry at once after a failure)."""
        if self.state not in (S.UNREGISTERED, S.FAILED):
            return []  # registered or on its way: nothing to start
        out = self._fire(Ev.START)
        self.next_attempt = None
        return out + self._send_register(self.expires)

    def stop(self) -> list[Action]:
        """Remove the registration (Expires: 0) when there may be one."""
        if self.state is S.UNREGISTERING:
            return []
        if self.state in (S.UNREGISTERED, S.FAILED):
            self.next_attempt = None
            self._refresh_at = self._keepalive_at = None
            return self._fire(Ev.STOP)
        out = self._fire(Ev.STOP)
        self._refresh_at = self._keepalive_at = None
        self.next_attempt = None
        return out + self._send_register(0)

    def matches(self, msg: SipMessage) -> bool:
        """Whether a response belongs to this registration."""
        return not msg.is_request and msg.call_id == self.call_id

    def on_response(self, msg: SipMessage) -> list[Action]:
        tr = self._pending
        if tr is None or not self.matches(msg):
            return []
        try:
            cseq, method = msg.cseq
            branch = msg.top_via.branch
        except SipParseError:
            return []
        if cseq != tr.cseq or method != "REGISTER" or branch != tr.branch:
            return []  # a late answer to an earlier attempt
        status = msg.status or 0
        if status < 200:
            # Proceeding: the provider has it; keep retransmitting at T2 (§17.1.2.2).
            tr.interval = T2
            return []
        self._pending = None
        if status in (401, 407):
            return self._on_challenge(msg, tr)
        if 200 <= status < 300:
            return self._on_ok(msg, tr)
        if status == 423:
            return self._on_too_brief(msg, tr)
        reason = f"{status} {msg.reason or ''}".strip()
        if status in TRANSIENT_STATUSES:
            return self._fail(Ev.NO_ANSWER, f"the provider answered {reason}", _retry_after(msg))
        return self._fail(Ev.REJECTED, f"the provider refused the registration: {reason}", _retry_after(msg))

    def on_transport_error(self, reason: str = "transport error") -> list[Action]:
        """The socket said no (ICMP unreachable, TCP refused or reset)."""
        if self._pending is None:
            return []
        self._pending = None
        return self._fail(Ev.NO_ANSWER, reason)

    def on_timer(self, now: float) -> list[Action]:
        out: list[Action] = []
        tr = self._pending
        if tr is not None:
            if now >= tr.deadline:
                self._pending = None
                out += self._fail(Ev.NO_ANSWER, "no answer from the provider")
            elif self.trunk.transport == "udp" and now >= tr.retransmit_at:
                tr.interval = min(tr.interval * 2, T2)
                tr.retransmit_at = now + tr.interval
                out.append(self._send(tr.request))
        if self._pending is None:
            if self.state is S.REGISTERED and self._refresh_at is not None and now >= self._refresh_at:
                self._refresh_at = None
                out += self._fire(Ev.REFRESH_DUE)
                out += self._send_register(self.expires)
            elif self.state is S.FAILED and self.next_attempt is not None and now >= self.next_attempt:
                self.next_attempt = None
                out += self._fire(Ev.RETRY_DUE)
                out += self._send_register(self.expires)
        if self.state is S.REGISTERED and self._keepalive_at is not None and now >= self._keepalive_at:
            out.append(self._send(b"\r\n\r\n"))
        return out

    def next_wakeup(self) -> float | None:
        """When on_timer next has something to do (None: nothing is scheduled)."""
        times = [self._keepalive_at if self.state is S.REGISTERED else None]
        if self._pending is not None:
            times += [self._pending.deadline,
                      self._pending.retransmit_at if self.trunk.transport == "udp" else None]
        elif self.state is S.REGISTERED:
            times.append(self._refresh_at)
        elif self.state is S.FAILED:
            times.append(self.next_attempt)
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def status(self) -> dict:
        until = self.registered_until if self.state is S.REGISTERED else None
        return {
            "trunk": self.trunk.name,
            "state": self.state.value,
            "last_error": self.last_error,
            "registered_until": until,
            "next_attempt": self.next_attempt,
            "public_address": f"{self.public_address[0]}:{self.public_address[1]}" if self.public_address else None,
        }

    @property
    def in_flight(self) -> bool:
        """Whether a REGISTER awaits its final answer."""
        return self._pending is not None

    @property
    def contact_address(self) -> tuple[str, int]:
        """The address our Contact carries: external, learnt from the provider, or local."""
        return self._contact_address

    # --- answers -----------------------------------------------------------

    def _on_challenge(self, msg: SipMessage, tr: _Transaction) -> list[Action]:
        header = "WWW-Authenticate" if msg.status == 401 else "Proxy-Authenticate"
        answer = "Authorization" if msg.status == 401 else "Proxy-Authorization"
        offers = msg.get_all(header)
        if not offers:
            return self._fail(Ev.REJECTED, f"{msg.status} without a {header} challenge")
        stale = any(_param(v, "stale").lower() == "true" for v in offers)
        if tr.fresh_credentials and not stale:
            return self._fail(Ev.REJECTED, "the provider refused the user name or password "
                                           f"({msg.status} {msg.reason or ''})".rstrip())
        if stale:
            self._stale_retries += 1
            if self._stale_retries > MAX_STALE_RETRIES:
                return self._fail(Ev.REJECTED, "the provider keeps calling our nonce stale")
        usable = None
        problem = "no challenge we can answer"
        for value in offers:
            realm = _param(value, "realm")
            if self.trunk.realm and realm != self.trunk.realm:
                # Answering a stranger's realm would hand it a hash of the secret to attack offline.
                problem = f"the provider asked for realm {realm!r}, the trunk expects {self.trunk.realm!r}"
                continue
            try:
                client_response("REGISTER", self.request_uri, self._auth_user, self.trunk.secret, value)
            except SipParseError as err:
                problem = f"cannot answer the provider's challenge: {err}"
                continue
            usable = value
            break
        if usable is None:
            return self._fail(Ev.REJECTED, problem)
        self._challenge = (answer, usable)
        self._nc = 0
        out = self._fire(Ev.CHALLENGED)
        return out + self._send_register(tr.expires, fresh_credentials=True)

    def _on_ok(self, msg: SipMessage, tr: _Transaction) -> list[Action]:
        self._stale_retries = 0
        self._failures = 0
        self.last_error = None
        if tr.expires == 0:
            self.registered_until = None
            return self._fire(Ev.ACCEPTED, "unregistered")
        now = self.clock()
        granted = self._granted_expires(msg, tr.expires)
        if granted <= 0:
            return self._fail(Ev.REJECTED, "the provider granted no time (Expires 0)")
        self.registered_until = now + granted
        self._refresh_at = now + granted * REFRESH_AT
        self._keepalive_at = now + KEEPALIVE_S
        out = self._fire(Ev.ACCEPTED)
        out += self._learn_public_address(msg)
        if self.external_address is None and self.public_address and self.public_address != self._contact_address:
            # The provider would call a Contact it cannot reach; move it now, removing the old one.
            self._stale_contact = self._contact_address
            self._contact_address = self.public_address
            self._refresh_at = None
            out += self._send_register(self.expires)
        return out

    def _on_too_brief(self, msg: SipMessage, tr: _Transaction) -> list[Action]:
        raw = (msg.get("Min-Expires") or "").strip()
        if not raw.isdigit():
            return self._fail(Ev.REJECTED, "423 without a usable Min-Expires")
        minimum = int(raw)
        if minimum <= tr.expires or minimum > MAX_EXPIRES:
            return self._fail(Ev.REJECTED, f"the provider wants Expires {minimum}, which cannot be met")
        self.expires = minimum
        out = self._fire(Ev.CHALLENGED)
        return out + self._send_register(minimum)

    def _fail(self, event: Ev, reason: str, retry_after: float | None = None) -> list[Action]:
        self.last_error = reason
        self._refresh_at = None
        self._keepalive_at = None
        if self.state is S.UNREGISTERING:
            self.registered_until = None
            return self._fire(event, reason)
        self._failures += 1
        if event is Ev.REJECTED:
            delay = min(REJECTED_FIRST_S * 2 ** (self._failures - 1), REJECTED_MAX_S)
        else:
            delay = min(RETRY_FIRST_S * 2 ** (self._failures - 1), RETRY_MAX_S)
        if retry_after is not None:
            delay = min(max(delay, retry_after), REJECTED_MAX_S)
        self.next_attempt = self.clock() + delay
        self.registered_until = None
        log.warning("trunk %s: %s; next attempt in %.0f s", self.trunk.name, reason, delay)
        return self._fire(event, reason)

    def _granted_expires(self, msg: SipMessage, asked: int) -> int:
        try:
            contacts = msg.contacts
        except SipParseError:
            contacts = []
        mine = [c for c in contacts if c.uri is not None and self._is_ours(c)]
        chosen: NameAddr | None = mine[0] if mine else (contacts[0] if len(contacts) == 1 else None)
        if chosen is not None and chosen.params.get("expires", "").isdigit():
            return int(chosen.params["expires"])
        header = (msg.get("Expires") or "").strip()
        if header.isdigit():
            return int(header)
        return asked

    def _is_ours(self, contact: NameAddr) -> bool:
        uri = contact.uri
        return (uri.user == self.trunk.username and uri.host == self._contact_address[0]
                and (uri.port or 5060) == self._contact_address[1])

    def _learn_public_address(self, msg: SipMessage) -> list[Action]:
        try:
            via = msg.top_via
        except SipParseError:
            return []
        received = via.params.get("received")
        rport = via.params.get("rport")
        if not received and not rport:
            return []
        host = received or via.host
        port = int(rport) if rport else (via.port or 5060)
        if (host, port) == self.public_address:
            return []
        self.public_address = (host, port)
        log.info("trunk %s: the provider sees us at %s:%d", self.trunk.name, host, port)
        return [PublicAddressChanged(self.trunk.name, (host, port))]

    # --- requests ----------------------------------------------------------

    @property
    def _auth_user(self) -> str:
        return self.trunk.auth_user or self.trunk.username

    def _contact_value(self, address: tuple[str, int]) -> str:
        host, port = address
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        transport = ";transport=tcp" if self.trunk.transport == "tcp" else ""
        return f"<sip:{self.trunk.username}@{host}:{port}{transport}>"

    def _send_register(self, expires: int, fresh_credentials: bool = False) -> list[Action]:
        self._cseq += 1
        branch = new_branch()
        via_host, via_port = self._contact_address
        via_host = f"[{via_host}]" if ":" in via_host and not via_host.startswith("[") else via_host
        headers = [
            ("Via", f"SIP/2.0/{self.trunk.transport.upper()} {via_host}:{via_port};rport;branch={branch}"),
            ("Max-Forwards", "70"),
            ("From", f"<{self.aor}>;tag={self.from_tag}"),
            ("To", f"<{self.aor}>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
        ]
        if expires == 0:
            headers.append(("Contact", "*"))
        else:
            if self._stale_contact is not None:
                headers.append(("Contact", self._contact_value(self._stale_contact) + ";expires=0"))
                self._stale_contact = None
            headers.append(("Contact", self._contact_value(self._contact_address)))
        headers.append(("Expires", str(expires)))
        if self._challenge is not None:
            # Later requests reuse the last nonce with a higher count, saving a round trip.
            self._nc += 1
            answer, challenge = self._challenge
            headers.append((answer, client_response(
                "REGISTER", self.request_uri, self._auth_user, self.trunk.secret, challenge, nc=self._nc)))
        headers.append(("User-Agent", USER_AGENT))
        request = SipMessage.request("REGISTER", self.request_uri, headers)
        now = self.clock()
        self._pending = _Transaction(
            request=request, cseq=self._cseq, branch=branch, expires=expires,
            retransmit_at=now + T1, interval=T1, deadline=now + TIMER_F,
            fresh_credentials=fresh_credentials)
        return [self._send(request)]

    def _send(self, payload: SipMessage | bytes) -> Send:
        self._keepalive_at = self.clock() + KEEPALIVE_S if self.state is S.REGISTERED else self._keepalive_at
        return Send(payload, self.trunk.host, self.trunk.port, self.trunk.transport)


def _param(challenge: str, name: str) -> str:
    try:
        _, params = parse_auth(challenge)
    except SipParseError:
        return ""
    return params.get(name, "")


def _retry_after(msg: SipMessage) -> float | None:
    raw = (msg.get("Retry-After") or "").split(";")[0].strip()
    return float(raw) if raw.isdigit() else None
