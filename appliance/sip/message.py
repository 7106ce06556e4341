"""A SIP message (RFC 3261 §7): a request or a response, its headers and its body.

Pure: no I/O. The parser (appliance.sip.parser) makes these from bytes, the
serialiser (appliance.sip.serialiser) turns them back into bytes, and
appliance.sip.framing cuts a TCP stream into messages. The grammar of header
values (appliance.sip.grammar) and the header names (appliance.sip.headers) are
re-exported here so that code handling messages needs only this module.
"""

from __future__ import annotations

import secrets

from appliance.errors import SipParseError
from appliance.sip.grammar import (
    VERSION,
    NameAddr,
    SipUri,
    Via,
    is_token,
    parse_auth,
    parse_cseq,
    parse_error,
    parse_name_addr,
    parse_params,
    parse_uri,
    parse_via,
    quote,
    split_header_list,
)
from appliance.sip.headers import COMPACT_FORMS, KNOWN_HEADERS, LIST_HEADERS, REASONS, canonical_name
from appliance.sip.serialiser import serialise

__all__ = [
    # the message
    "SipMessage", "make_response", "new_branch", "new_tag", "new_call_id",
    # the header names, from appliance.sip.headers
    "VERSION", "COMPACT_FORMS", "LIST_HEADERS", "REASONS", "canonical_name",
    # the grammar of header values, from appliance.sip.grammar
    "SipUri", "NameAddr", "Via",
    "is_token", "quote", "split_header_list", "parse_params",
    "parse_uri", "parse_name_addr", "parse_via", "parse_auth",
]

# Callers ask for the same few names over and over: remember their index keys.
_KEYS: dict[str, str] = {}
_KEYS_MAX = 1024


def _key(name: str) -> str:
    key = _KEYS.get(name)
    if key is None:
        key = canonical_name(name).lower()
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        _KEYS[name] = key
    return key


class SipMessage:
    """A request (method, uri) or a response (status, reason) with headers and body.

    Lookups go through an index of the headers by lowercase name, built once
    and dropped by set/add/remove/remove_first and by assigning `headers`:
    change the headers through those, not by editing the list in place.
    """

    __slots__ = ("method", "uri", "status", "reason", "_headers", "body", "_index", "_via")

    def __init__(
        self,
        method: str | None = None,
        uri: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        index: dict[str, list[str]] | None = None,
    ):
        """`index`: the headers by lowercase name, when the caller built it already (the parser);
        the top Via is then parsed at once, and a message without a usable one is refused."""
        self.method = method
        self.uri = uri
        self.status = status
        self.reason = reason
        self._headers = headers if headers is not None else []
        self.body = body
        self._index: dict[str, list[str]] | None = index
        self._via: Via | None = None  # the top Via, parsed once
        if index is not None:
            self._parse_top_via()

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self._headers

    @headers.setter
    def headers(self, value: list[tuple[str, str]]) -> None:
        self._headers = value
        self._changed()

    def _changed(self) -> None:
        self._index = None
        self._via = None

    def _lookup(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for n, v in self._headers:
                key = n.lower()
                values = index.get(key)
                if values is None:
                    index[key] = [v]
                else:
                    values.append(v)
            self._index = index
        return index

    @classmethod
    def request(cls, method: str, uri: str, headers=(), body: bytes = b"") -> SipMessage:
        return cls(method, uri, None, None, [(canonical_name(n), v) for n, v in headers], body)

    @classmethod
    def response(cls, status: int, reason: str | None = None, headers=(), body: bytes = b"") -> SipMessage:
        return cls(None, None, status, reason if reason is not None else REASONS.get(status, ""),
                   [(canonical_name(n), v) for n, v in headers], body)

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def __repr__(self) -> str:
        first = f"{self.method} {self.uri}" if self.is_request else f"{self.status} {self.reason}"
        return f"<SipMessage {first} call-id={self.get('Call-ID')!r}>"

    # -- headers

    def get(self, name: str) -> str | None:
        values = (self._index or self._lookup()).get(_KEYS.get(name) or _key(name))
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        key = _KEYS.get(name) or _key(name)
        values = (self._index or self._lookup()).get(key)
        if not values:
            return []
        if key in LIST_HEADERS:
            return [item for v in values for item in split_header_list(v)]
        return list(values)

    def get_lines(self, name: str) -> list[str]:
        """The value of each line of a header as it was sent: comma-joined lists are not split."""
        return list((self._index or self._lookup()).get(_KEYS.get(name) or _key(name), ()))

    def set(self, name: str, value: str) -> None:
        _check_value(value)
        cname = canonical_name(name)
        key = cname.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for n, v in self.headers:
            if n.lower() == key:
                if not placed:
                    out.append((cname, value))
                    placed = True
            else:
                out.append((n, v))
        if not placed:
            out.append((cname, value))
        self.headers = out

    def add(self, name: str, value: str, first: bool = False) -> None:
        """Add a header next to its namesakes: above them with first=True
        (a new top Via), otherwise below them."""
        _check_value(value)
        cname = canonical_name(name)
        key = cname.lower()
        idx = [i for i, (n, _) in enumerate(self._headers) if n.lower() == key]
        if first:
            self._headers.insert(idx[0] if idx else 0, (cname, value))
        else:
            self._headers.insert(idx[-1] + 1 if idx else len(self._headers), (cname, value))
        self._changed()

    def remove(self, name: str) -> None:
        key = canonical_name(name).lower()
        self.headers = [(n, v) for n, v in self.headers if n.lower() != key]

    def remove_first(self, name: str) -> str | None:
        """Remove the first value of a header, also from a comma-joined line;
        returns it (None when absent)."""
        key = canonical_name(name).lower()
        for i, (n, v) in enumerate(self._headers):
            if n.lower() != key:
                continue
            items = split_header_list(v) if key in LIST_HEADERS else [v]
            self._changed()
            if len(items) <= 1:
                del self._headers[i]
                return items[0] if items else v
            self._headers[i] = (n, ", ".join(items[1:]))
            return items[0]
        return None

    # -- shortcuts

    @property
    def call_id(self) -> str | None:
        return self.get("Call-ID")

    @property
    def cseq(self) -> tuple[int, str]:
        value = self.get("CSeq")
        if value is None:
            raise parse_error("missing CSeq")
        return parse_cseq(value)

    # A fresh object on every call: the results are mutable. Only the top Via
    # is kept parsed (parse() needs it anyway); callers get a copy of it.

    @property
    def request_uri(self) -> SipUri:
        if self.uri is None:
            raise parse_error("a response has no Request-URI")
        return parse_uri(self.uri)

    @property
    def top_via(self) -> Via:
        via = self._via or self._parse_top_via()
        return Via(via.transport, via.host, via.port, dict(via.params), via.protocol)

    def _parse_top_via(self) -> Via:
        items = split_header_list(self._required("Via"))
        if not items:
            raise parse_error("empty Via")
        self._via = via = parse_via(items[0])
        return via

    @property
    def from_addr(self) -> NameAddr:
        return parse_name_addr(self._required("From"))

    @property
    def to_addr(self) -> NameAddr:
        return parse_name_addr(self._required("To"))

    @property
    def contacts(self) -> list[NameAddr]:
        return [parse_name_addr(c) for c in self.get_all("Contact")]

    def _required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise parse_error(f"missing {name}")
        return value

    # -- output

    def to_bytes(self) -> bytes:
        return serialise(self)


def _check_value(value: str) -> None:
    # A line break in a value would let it forge headers of its own.
    if "\r" in value or "\n" in value:
        raise parse_error("header value contains a line break")


def _has_tag(to: str) -> bool:
    if "tag" not in to.lower():
        return False  # neither the parser nor the guess below could find one
    try:
        return parse_name_addr(to).tag is not None
    except SipParseError:
        # A To we cannot parse still gets an answer; guess from the text.
        return ";tag=" in to.replace(" ", "").lower()


def make_response(
    request: SipMessage,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers=(),
    body: bytes = b"",
    content_type: str | None = None,
) -> SipMessage:
    """A response to `request` (RFC 3261 §8.2.6.2): Via, From, To, Call-ID, CSeq copied."""
    out: list[tuple[str, str]] = [(n, v) for n, v in request.headers if n == "Via"]
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = request.get(name)
        if value is None:
            continue
        if name == "To" and to_tag and not _has_tag(value):
            value = f"{value};tag={to_tag}"
        out.append((name, value))
    known = KNOWN_HEADERS
    out.extend(((known[n][0] if n in known else canonical_name(n)), v) for n, v in headers)
    if content_type is not None:
        out.append(("Content-Type", content_type))
    return SipMessage(None, None, status, reason if reason is not None else REASONS.get(status, ""), out, body)


def new_branch() -> str:
    """A Via branch with the RFC 3261 magic cookie."""
    return "z9hG4bK" + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id() -> str:
    return secrets.token_hex(12)
