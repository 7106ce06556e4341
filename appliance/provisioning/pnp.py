"""Plug and play: answering the phones' multicast `SUBSCRIBE` with `Event: ua-profile`.

Pure: datagrams in, datagrams out, time injected; `pnp_socket` does the
sockets. The exchange (RFC 6080 §4.1.1, as Snom, Yealink, Fanvil and Poly
phones do it at boot when they have no provisioning server yet):

    phone → 224.0.1.75:5060   SUBSCRIBE sip:MAC%3a001565abcdef@…  Event: ua-profile…  Expires: 0
    box   → phone             200 OK
    box   → phone's Contact   NOTIFY  Subscription-State: terminated;reason=timeout
                              Content-Type: application/url
                              http://<box>:8088/p/
    phone → box               200 OK  (else the NOTIFY is sent again: 0.5, 1, 2, 4 s)

What goes in the NOTIFY body: the phones named send `Accept: application/url`
and want the bare URL as the body; a phone that accepts only
`message/external-body` (RFC 6080's own form) gets that, with the URL in the
Content-Type's URL parameter.

The URL carries no credentials, ever. A SUBSCRIBE is easy to forge and MACs
are no secret on a LAN (every frame a phone sends carries it), so whatever
plug and play answers, it answers to anyone who names the MAC. It therefore
only tells a phone *where* the box is. What the phone then fetches is
served by the provisioning server only to a request authenticated with the
phone's own provisioning password (the MAC as the user name), which the
admin sees once when approving the phone and enters on the phone (its own
web page, or the login prompt a Yealink or Snom shows when the server asks
for credentials). A forged SUBSCRIBE therefore gets a URL that everyone on
the LAN may know, and nothing else.

Only bound (approved) phones are answered. A phone the box does not know is
remembered as pending and gets no answer: another provisioning server on the
LAN may answer it, and once the admin approves it, its next boot finds the box.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from appliance.errors import SipParseError, ValidationError
from appliance.provisioning.macs import Vendor, guess_vendor, normalise_mac
from appliance.provisioning.registry import PhoneBinding, PhoneRegistry
from appliance.sip.message import (
    SipMessage,
    make_response,
    new_branch,
    new_tag,
    parse_params,
    parse_via,
)
from appliance.sip.parser import parse

log = logging.getLogger(__name__)

PNP_GROUP = "224.0.1.75"
PNP_PORT = 5060
T1 = 0.5
MAX_NOTIFY_SENDS = 5
_REMEMBERED = 256

Address = tuple[str, int]

_HEX12 = re.compile(r"(?<![0-9A-Fa-f])([0-9A-Fa-f]{12})(?![0-9A-Fa-f])")


@dataclass(frozen=True)
class Datagram:
    """Bytes to send and where to."""

    data: bytes
    to: Address


@dataclass(frozen=True)
class UaProfileRequest:
    """What a ua-profile SUBSCRIBE says about the phone that sent it."""

    mac: str | None
    vendor: Vendor | None
    model: str
    user_agent: str
    accept: tuple[str, ...]


def is_ua_profile_subscribe(msg: SipMessage) -> bool:
    event = msg.get("Event") or ""
    return msg.method == "SUBSCRIBE" and event.split(";", 1)[0].strip().lower() == "ua-profile"


def _event_params(msg: SipMessage) -> dict[str, str]:
    event = msg.get("Event") or ""
    _, _, params = event.partition(";")
    try:
        parsed = parse_params(";" + params) if params else {}
    except (SipParseError, TypeError, ValueError):
        return {}
    return {k.lower(): (v or "").strip('"“”') for k, v in parsed.items()}


def _mac_of(msg: SipMessage) -> str | None:
    # Snom, Yealink and Fanvil put "MAC:<mac>" (escaped %3a) in the Request-URI's user
    # part; others only in From or in the User-Agent. Look where it is most certain first.
    candidates = [unquote(msg.uri or "")]
    for name in ("From", "To"):
        value = msg.get(name)
        if value:
            candidates.append(unquote(value))
    agent = msg.get("User-Agent") or ""
    m = re.search(r"MAC\s*[=:]\s*([0-9A-Fa-f:\-.]{12,17})", agent)
    if m:
        candidates.insert(0, m.group(1))
    candidates.append(agent)
    for text in candidates:
        m = re.search(r"MAC:([0-9A-Fa-f]{12})", text, re.I) or _HEX12.search(text.replace(":", ""))
        if m is None:
            continue
        try:
            return normalise_mac(m.group(1))
        except ValidationError:
            continue
    return None


def read_ua_profile(msg: SipMessage) -> UaProfileRequest:
    params = _event_params(msg)
    agent = msg.get("User-Agent") or ""
    mac = _mac_of(msg)
    vendor = guess_vendor(mac, f"{params.get('vendor', '')} {params.get('model', '')} {agent}")
    accept = tuple(a.split(";", 1)[0].strip().lower() for a in msg.get_all("Accept"))
    return UaProfileRequest(mac, vendor, params.get("model", ""), agent, accept)


def provisioning_url(base_url: str, binding: PhoneBinding) -> str:
    """The URL a phone is told: no credentials in it, and Snom's file named (Snom fetches
    the URL as it is; the others add their own file names to a directory URL)."""
    url = base_url
    if binding.vendor is Vendor.SNOM:
        url += f"{binding.mac}.xml"
    return url


def answer_subscribe(subscribe: SipMessage, source: Address, local: Address, to_tag: str) -> SipMessage:
    """The 200 OK: Via marked with where the request came from (RFC 3581), Expires 0."""
    response = make_response(subscribe, 200, to_tag=to_tag, headers=[
        ("Contact", f"<sip:{_host(local[0])}:{local[1]}>"), ("Expires", "0")])
    vias = [v for n, v in response.headers if n == "Via"]
    if vias:
        top = parse_via(vias[0].split(",")[0])
        top.params["received"] = source[0]
        if "rport" in top.params:
            top.params["rport"] = str(source[1])
        rest = [(n, v) for n, v in response.headers if n != "Via"]
        response.headers = [("Via", str(top))] + [("Via", v) for v in vias[1:]] + rest
    return response


def build_notify(subscribe: SipMessage, url: str, local: Address, to_tag: str,
                 *, target: str, branch: str | None = None) -> SipMessage:
    """The NOTIFY that ends the subscription and carries the provisioning URL."""
    accept = {a.split(";", 1)[0].strip().lower() for a in subscribe.get_all("Accept")}
    headers = [
        ("Via", f"SIP/2.0/UDP {_host(local[0])}:{local[1]};branch={branch or new_branch()};rport"),
        ("Max-Forwards", "20"),
        ("From", f"{subscribe.get('To')};tag={to_tag}"),
        ("To", subscribe.get("From") or ""),
        ("Call-ID", subscribe.get("Call-ID") or ""),
        ("CSeq", "1 NOTIFY"),
        ("Contact", f"<sip:{_host(local[0])}:{local[1]}>"),
        ("Event", subscribe.get("Event") or "ua-profile"),
        ("Subscription-State", "terminated;reason=timeout"),
    ]
    if "message/external-body" in accept and "application/url" not in accept:
        headers.append(("Content-Type",
                        f'message/external-body; access-type="URL"; URL="{url}"'))
        body = b"Content-Type: application/octet-stream\r\n\r\n"
    else:
        headers.append(("Content-Type", "application/url"))
        body = url.encode("utf-8")
    return SipMessage.request("NOTIFY", target, headers, body)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _notify_target(subscribe: SipMessage, source: Address) -> tuple[str, Address]:
    """The NOTIFY's Request-URI and the address it goes to: the Contact, else the source."""
    try:
        contacts = subscribe.contacts
        uri = contacts[0].uri if contacts else None
        if uri is not None and uri.host:
            return str(uri), (uri.host.strip("[]"), uri.port or PNP_PORT)
    except (SipParseError, AttributeError, ValueError):
        pass
    return f"sip:{_host(source[0])}:{source[1]}", source


@dataclass
class _Outstanding:
    datagram: Datagram
    call_id: str
    sends: int
    next_at: float


class PnpResponder:
    """Answers ua-profile SUBSCRIBEs for bound phones and resends NOTIFYs until answered."""

    def __init__(self, registry: PhoneRegistry, base_url: str, local: Address,
                 clock: Callable[[], float], *, url_for: Callable[[str, PhoneBinding], str] = provisioning_url):
        self.registry = registry
        self.base_url = base_url
        self.local = local
        self.clock = clock
        self.url_for = url_for
        self._answered: OrderedDict[tuple[str, str], str] = OrderedDict()  # (call-id, cseq) -> tag
        self._outstanding: dict[str, _Outstanding] = {}  # by Via branch
        self.notified: list[str] = []  # MACs told the URL, oldest first (bounded)

    def receive(self, data: bytes, source: Address) -> list[Datagram]:
        """Handle one datagram from `source`; returns what to send."""
        try:
            msg = parse(data)
        except SipParseError:
            return []
        if not msg.is_request:
            self._response(msg)
            return []
        if not is_ua_profile_subscribe(msg):
            return []
        key = (msg.call_id or "", msg.get("CSeq") or "")
        tag = self._answered.get(key)
        if tag is not None:
            # A retransmission: the 200 was lost; the NOTIFY is already on its way.
            return [Datagram(answer_subscribe(msg, source, self.local, tag).to_bytes(), source)]
        profile = read_ua_profile(msg)
        if profile.mac is None:
            log.info("ua-profile SUBSCRIBE from %s without a MAC; ignored", source[0])
            return []
        binding = self.registry.binding(profile.mac)
        if binding is None:
            self.registry.saw_unbound(profile.mac, ip=source[0], now=self.clock(), vendor=profile.vendor,
                                      user_agent=profile.user_agent, filename="(plug and play)")
            log.info("ua-profile SUBSCRIBE from unbound phone %s at %s: pending", profile.mac, source[0])
            return []
        tag = new_tag()
        self._answered[key] = tag
        while len(self._answered) > _REMEMBERED:
            self._answered.popitem(last=False)
        ok = answer_subscribe(msg, source, self.local, tag)
        uri, target = _notify_target(msg, source)
        branch = new_branch()
        notify = build_notify(msg, self.url_for(self.base_url, binding), self.local, tag,
                              target=uri, branch=branch)
        datagram = Datagram(notify.to_bytes(), target)
        self._outstanding[branch] = _Outstanding(datagram, msg.call_id or "", 1, self.clock() + T1)
        self.notified = (self.notified + [binding.mac])[-_REMEMBERED:]
        log.info("plug and play: told phone %s at %s where its configuration is", binding.mac, target[0])
        return [Datagram(ok.to_bytes(), source), datagram]

    def due(self) -> list[Datagram]:
        """NOTIFYs to send again now (timer E of RFC 3261 §17.1.2.2, capped)."""
        now = self.clock()
        out = []
        for branch, item in list(self._outstanding.items()):
            if item.next_at > now:
                continue
            if item.sends >= MAX_NOTIFY_SENDS:
                del self._outstanding[branch]
                continue
            item.sends += 1
            item.next_at = now + min(T1 * 2 ** (item.sends - 1), 4.0)
            out.append(item.datagram)
        return out

    def waiting(self) -> int:
        """NOTIFYs not yet answered."""
        return len(self._outstanding)

    def _response(self, msg: SipMessage) -> None:
        try:
            branch = msg.top_via.branch
            _, method = msg.cseq
        except SipParseError:
            return
        if method == "NOTIFY" and branch in self._outstanding and (msg.status or 0) >= 200:
            del self._outstanding[branch]
