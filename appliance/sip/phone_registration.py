"""Phones register: a REGISTER read, authenticated, checked and handed to the registrar
(RFC 3261 §10.3), and the registrar's result answered.

A phone registers only its own extension (authenticated as another: the same 403 as a wrong
password), and only Contacts that point at itself (appliance.sip.contact_rules). Removing a
contact (expires 0, or *) is always allowed.
"""

from __future__ import annotations

import logging
from typing import Callable

from appliance.errors import SipParseError
from appliance.sip.answers import http_date
from appliance.sip.bindings import ContactRequest, RegisterRequest
from appliance.sip.contact_rules import contact_refusal
from appliance.sip.message import SipMessage, parse_name_addr
from appliance.sip.registrar import Registrar
from appliance.sip.source import Source

__all__ = ["PhoneRegistration"]

log = logging.getLogger("callbox.sip.edge")


class PhoneRegistration:
    """The edge's handling of REGISTER from phones.

    `authenticate(req, source, header, challenge_status)`: the proven user, or None once answered;
    `reply(req, source, status, reason, headers)`: answer the request;
    `is_own_address(ip, port)`: whether that is the edge's own socket;
    `trunk_of(source, req)`: the trunk at that address, if any;
    `bindings_changed()`: called when a binding came or went;
    `publish(event, **fields)`: announce a registration or an unregistration.
    """

    def __init__(self, *, registrar: Registrar, registrar_clock: Callable[[], float],
                 authenticate: Callable[[SipMessage, Source, str, int], str | None], reply: Callable[..., None],
                 is_own_address: Callable[[str, int], bool], trunk_of: Callable[[Source, SipMessage], str | None],
                 bindings_changed: Callable[[], None], publish: Callable[..., None]):
        self.registrar, self.registrar_clock = registrar, registrar_clock
        self.authenticate, self.reply = authenticate, reply
        self.is_own_address, self.trunk_of = is_own_address, trunk_of
        self.bindings_changed, self.publish = bindings_changed, publish

    def on_register(self, req: SipMessage, source: Source) -> None:
        try:
            aor = _aor_of(req.get("To") or "")
            contacts = [_contact_request(v) for v in req.get_all("Contact")]
            expires_header = _int_or_none(req.get("Expires"))
        except (SipParseError, ValueError) as e:
            self.reply(req, source, 400, f"Bad Request ({getattr(e, 'reason', e)})"[:80])
            return
        user = self.authenticate(req, source, "Authorization", 401)
        if user is None:
            return
        if user != aor:
            # Authenticated, but for someone else's extension: same failure as a wrong password.
            self.reply(req, source, 403, "Forbidden")
            return
        refusal = self._contact_refusal(req, source, contacts, expires_header)
        if refusal is not None:
            self.reply(req, source, 403, refusal)
            return
        cseq, _ = req.cseq
        result = self.registrar.register(RegisterRequest(
            aor=aor, call_id=req.call_id, cseq=cseq, contacts=contacts, expires_header=expires_header,
            source=source, user_agent=req.get("User-Agent") or ""))
        headers: list[tuple[str, str]] = []
        if result.status == 200:
            now = self.registrar_clock()
            for b in result.bindings:
                headers.append(("Contact", f"<{b.contact}>;expires={b.expires_in(now)}"))
            headers.append(("Date", http_date()))
        elif result.status == 423 and result.min_expires:
            headers.append(("Min-Expires", str(result.min_expires)))
        self.reply(req, source, result.status, result.reason, headers)
        if result.changed:
            self.bindings_changed()
            if any(c.star or c.expires == 0 for c in contacts) or expires_header == 0:
                self.publish("unregistration", aor=aor, source=_source_text(source))
            else:
                self.publish("registration", aor=aor, source=_source_text(source),
                             contacts=[b.contact for b in result.bindings],
                             user_agent=req.get("User-Agent") or "")

    def _contact_refusal(self, req: SipMessage, source: Source, contacts: list[ContactRequest],
                         expires_header: int | None) -> str | None:
        """Why a REGISTER's contacts may not be bound (see contact_rules.contact_refusal), or None.
        Removing a contact (expires 0, or *) is always allowed."""

        def is_trunk(ip: str, port: int) -> bool:
            try:
                return self.trunk_of(Source(source.transport, ip, port), req) is not None
            except Exception:
                log.exception("identifying a trunk at %s", ip)
                return True

        for contact in contacts:
            expiry = contact.expires if contact.expires is not None else expires_header
            if contact.star or expiry == 0:
                continue
            refusal = contact_refusal(contact.uri, source, is_own=self.is_own_address, is_trunk=is_trunk)
            if refusal is not None:
                log.warning("refused a REGISTER of %s from %s:%d: %s (%s)", req.get("To"), source.ip, source.port,
                            refusal, contact.uri[:120])
                return refusal
        return None


def _source_text(source: Source) -> str:
    return f"{source.transport}:{source.ip}:{source.port}"


# A phone sends the same To and Contact with every REGISTER: what they came to is remembered
# (only what parsed; a bad one is refused afresh each time).
_REMEMBERED_MAX = 4096
_aors: dict[str, str] = {}
_contacts: dict[str, tuple[str, int | None, float | None]] = {}


def _remember(cache: dict, key: str, value) -> None:
    if len(cache) >= _REMEMBERED_MAX:
        cache.clear()
    cache[key] = value


def _aor_of(to: str) -> str:
    """The extension a REGISTER's To names."""
    aor = _aors.get(to)
    if aor is None:
        uri = parse_name_addr(to).uri
        if uri is None:  # "To: *" is a Contact's word, not an address
            raise ValueError("To must name an address")
        aor = uri.user or ""
        _remember(_aors, to, aor)
    return aor


def _contact_request(value: str) -> ContactRequest:
    if value.strip() == "*":
        return ContactRequest(uri="*", expires=None, q=None, raw=value, star=True)
    known = _contacts.get(value)
    if known is None:
        na = parse_name_addr(value)
        expires = na.params.get("expires")
        q = na.params.get("q")
        known = (str(na.uri), int(expires) if expires not in (None, "") else None,
                 float(q) if q not in (None, "") else None)
        _remember(_contacts, value, known)
    return ContactRequest(uri=known[0], expires=known[1], q=known[2], raw=value)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 10:
        raise ValueError(f"not a number: {value!r}")
    return int(value)
