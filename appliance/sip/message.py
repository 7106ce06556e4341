"""SIP messages (RFC 3261): a strict, size-limited parser and a small builder.

Pure: bytes in, objects out, no I/O. The parser splits the header section on
CRLF once and partitions each line; sub-structures (URIs, name-addrs, Via,
credentials) are parsed by appliance.sip.grammar when somebody asks for them,
and re-exported here so callers need only this module.
Everything malformed raises SipParseError and nothing else.
"""

from __future__ import annotations

import re
import secrets

from appliance.errors import SipParseError
from appliance.sip.grammar import (
    _NO_SPACE_RE,
    VERSION,
    NameAddr,
    SipUri,
    Via,
    _fail,
    is_token,
    parse_auth,
    parse_name_addr,
    parse_params,
    parse_uri,
    parse_via,
    quote,
    split_header_list,
)

__all__ = [
    # the message
    "MAX_MESSAGE_BYTES", "MAX_HEADERS", "MAX_LINE", "MAX_BODY", "VERSION",
    "COMPACT_FORMS", "LIST_HEADERS", "REASONS",
    "SipMessage", "StreamFramer",
    "parse", "make_response", "canonical_name",
    "new_branch", "new_tag", "new_call_id",
    # the grammar of header values, from appliance.sip.grammar
    "SipUri", "NameAddr", "Via",
    "is_token", "quote", "split_header_list", "parse_params",
    "parse_uri", "parse_name_addr", "parse_via", "parse_auth",
]

MAX_MESSAGE_BYTES = 65535
MAX_HEADERS = 80
MAX_LINE = 4096
MAX_BODY = 16384

# RFC 3261 §7.3.3 plus the compact forms registered since (IANA SIP parameters).
COMPACT_FORMS = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type",
    "d": "Request-Disposition", "e": "Content-Encoding", "f": "From",
    "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "n": "Identity-Info",
    "o": "Event", "r": "Refer-To", "s": "Subject", "t": "To",
    "u": "Allow-Events", "v": "Via", "x": "Session-Expires", "y": "Identity",
}

_KNOWN_NAMES = """
Accept Accept-Contact Accept-Encoding Accept-Language Alert-Info Allow Allow-Events
Authentication-Info Authorization Call-ID Call-Info Contact Content-Disposition
Content-Encoding Content-Language Content-Length Content-Type CSeq Date Error-Info Event
Expires From Identity Identity-Info In-Reply-To Max-Forwards Min-Expires Min-SE MIME-Version
Organization P-Asserted-Identity P-Preferred-Identity Path Priority Privacy
Proxy-Authenticate Proxy-Authorization Proxy-Require RAck Reason Record-Route Refer-To
Referred-By Reject-Contact Replaces Reply-To Request-Disposition Require Retry-After Route
RSeq Server Service-Route Session-Expires SIP-ETag SIP-If-Match Subject Subscription-State
Supported Timestamp To Unsupported User-Agent Via Warning WWW-Authenticate
""".split()
_CANONICAL = {n.lower(): n for n in _KNOWN_NAMES}
_CANONICAL.update(COMPACT_FORMS)
# What the parser needs to know of a known header name, under its lowercase
# spelling, its compact form and its canonical spelling: the canonical name,
# the key under which a message indexes it (lowercase), whether it may repeat.
_KNOWN: dict[str, tuple[str, str, bool]] = {}

# Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1); the
# others may carry commas inside one value (dates, credentials, free text).
LIST_HEADERS = frozenset("""
via contact route record-route path service-route allow allow-events supported require
proxy-require unsupported accept accept-encoding accept-language content-encoding
content-language in-reply-to alert-info call-info error-info reason warning privacy
p-asserted-identity p-preferred-identity accept-contact reject-contact request-disposition
""".split())

# Headers that must not repeat: two of them make a message ambiguous.
_SINGLE = frozenset(("From", "To", "Call-ID", "CSeq", "Content-Length", "Max-Forwards"))
for _low, _name in _CANONICAL.items():
    _KNOWN[_low] = _KNOWN[_name] = (_name, _name.lower(), _name in _SINGLE)
_REQUIRED_KEYS = ("via", "from", "to", "call-id", "cseq")

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
    500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
    604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}

# Control characters are never legal in the header section; lone CR or LF
# would let a value smuggle a line break past the CRLF split.
_BAD_CTL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Every byte but those: what deleting them leaves of a header section is its control characters.
_NOT_CTL = bytes(b for b in range(256) if not _BAD_CTL_RE.match(bytes((b,))))
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name, compact forms expanded."""
    return _CANONICAL.get(name.lower(), name)


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


# --------------------------------------------------------------------------
# Messages


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
    ):
        self.method = method
        self.uri = uri
        self.status = status
        self.reason = reason
        self._headers = headers if headers is not None else []
        self.body = body
        self._index: dict[str, list[str]] | None = None
        self._via: Via | None = None  # the top Via, parsed once

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
            raise _fail("missing CSeq")
        return _parse_cseq(value)

    # A fresh object on every call: the results are mutable. Only the top Via
    # is kept parsed (parse() needs it anyway); callers get a copy of it.

    @property
    def request_uri(self) -> SipUri:
        if self.uri is None:
            raise _fail("a response has no Request-URI")
        return parse_uri(self.uri)

    @property
    def top_via(self) -> Via:
        via = self._via or self._parse_top_via()
        return Via(via.transport, via.host, via.port, dict(via.params), via.protocol)

    def _parse_top_via(self) -> Via:
        items = split_header_list(self._required("Via"))
        if not items:
            raise _fail("empty Via")
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
            raise _fail(f"missing {name}")
        return value

    # -- output

    def to_bytes(self) -> bytes:
        if self.method is not None:
            lines = [f"{self.method} {self.uri} {VERSION}"]
        else:
            lines = [f"{VERSION} {self.status} {self.reason or ''}"]
        length = f"{len(self.body)}"
        wrote_length = False
        for n, v in self.headers:
            if n.lower() in ("content-length", "l"):
                if wrote_length:
                    continue
                v = length
                wrote_length = True
            lines.append(f"{n}: {v}")
        if not wrote_length:
            lines.append(f"Content-Length: {length}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode() + self.body


def _check_value(value: str) -> None:
    # A line break in a value would let it forge headers of its own.
    if "\r" in value or "\n" in value:
        raise _fail("header value contains a line break")


# CSeq values repeat ("1 REGISTER", "2 REGISTER" ...), and each message is asked for its CSeq several times.
_CSEQS: dict[str, tuple[int, str]] = {}
_CSEQS_MAX = 1024


def _parse_cseq(value: str) -> tuple[int, str]:
    known = _CSEQS.get(value)
    if known is None:
        known = _read_cseq(value)
        if len(_CSEQS) >= _CSEQS_MAX:
            _CSEQS.clear()
        _CSEQS[value] = known
    return known


def _read_cseq(value: str) -> tuple[int, str]:
    parts = value.split()
    if len(parts) != 2:
        raise _fail("CSeq must be a number and a method")
    num, method = parts
    if not (num.isascii() and num.isdigit()) or len(num) > 10:
        raise _fail("bad CSeq number")
    seq = int(num)
    if seq >= 2**31:
        raise _fail("CSeq number too large")
    if not is_token(method):
        raise _fail("bad CSeq method")
    return seq, method


def _parse_start_line(line: str) -> tuple[str | None, str | None, int | None, str | None]:
    if len(line) > MAX_LINE:
        raise _fail("start line too long", 413)
    if line[:8].upper() == "SIP/2.0 ":
        code, _, reason = line[8:].partition(" ")
        if len(code) != 3 or not (code.isascii() and code.isdigit()):
            raise _fail("bad status code")
        status = int(code)
        if not 100 <= status <= 699:
            raise _fail("status code out of range")
        return None, None, status, reason
    parts = line.split(" ")
    if len(parts) != 3:
        if line[:4].upper() == "SIP/":
            raise _fail("unsupported SIP version")
        raise _fail("bad start line")
    method, uri, version = parts
    if version.upper() != VERSION:
        raise _fail("unsupported SIP version")
    if not is_token(method):
        raise _fail("bad method")
    if uri not in _GOOD_REQUEST_URIS:
        scheme, colon, rest = uri.partition(":")
        if not colon or not rest or not _SCHEME_RE.fullmatch(scheme) or not _NO_SPACE_RE.fullmatch(rest):
            raise _fail("bad Request-URI")
        if scheme.lower() in ("sip", "sips", "tel"):
            parse_uri(uri)
        if len(_GOOD_REQUEST_URIS) >= _GOOD_REQUEST_URIS_MAX:
            _GOOD_REQUEST_URIS.clear()
        _GOOD_REQUEST_URIS[uri] = None
    return method, uri, None, None


# Phones send their requests to a handful of Request-URIs (the box's address,
# the extensions): the ones found good need no second look.
_GOOD_REQUEST_URIS: dict[str, None] = {}
_GOOD_REQUEST_URIS_MAX = 512


def parse(data: bytes) -> SipMessage:
    """Parse one datagram (or one message cut by StreamFramer)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _fail("a message must be bytes")
    data = bytes(data)
    if len(data) > MAX_MESSAGE_BYTES:
        raise _fail("message too large", 413)
    # RFC 3261 §7.5: CRLFs before the start line are ignored.
    start = 0
    while data.startswith(b"\r\n", start):
        start += 2
    if start == len(data):
        raise _fail("empty message")
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        raise _fail("header section is not terminated by an empty line")
    raw = data[start:end]
    crlf = raw.count(b"\r\n")
    if raw.translate(None, _NOT_CTL) or raw.count(b"\r") != crlf or raw.count(b"\n") != crlf:
        raise _fail("control character in header section")
    try:
        head = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail("header section is not valid UTF-8") from None
    lines = head.split("\r\n")
    if len(lines) > MAX_HEADERS * 4:
        raise _fail("too many header lines", 413)
    method, uri, status, reason = _parse_start_line(lines[0])
    # No line (nor a folded value, made of several) can be longer than all of them.
    long_lines = len(head) > MAX_LINE

    headers: list[tuple[str, str]] = []
    # lowercase canonical name -> values, handed to the message as its index
    index: dict[str, list[str]] = {}
    known = _KNOWN
    key = ""
    for line in lines[1:]:
        if long_lines and len(line) > MAX_LINE:
            raise _fail("header line too long", 413)
        if line[:1] in (" ", "\t"):
            # A folded continuation line (RFC 3261 §7.3.1).
            if not headers:
                raise _fail("continuation line before any header")
            n, v = headers[-1]
            more = line.strip(" \t")
            v = f"{v} {more}" if v else more
            if long_lines and len(v) > MAX_LINE:
                raise _fail("header line too long", 413)
            headers[-1] = (n, v)
            index[key][-1] = v
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise _fail("header line without a colon")
        info = known.get(name)
        if info is None:
            name = name.rstrip(" \t")
            low = name.lower()
            info = known.get(low)
            if info is None:
                if not is_token(name):
                    raise _fail("bad header name")
                info = (name, low, False)
        cname, key, single = info
        value = value.strip(" \t")
        headers.append((cname, value))
        values = index.get(key)
        if values is None:
            index[key] = [value]
        elif single:
            raise _fail(f"{cname} appears twice")
        else:
            values.append(value)
        if len(headers) > MAX_HEADERS:
            raise _fail("too many headers", 413)

    for name in _REQUIRED_KEYS:
        if name not in index:
            raise _fail(f"missing {_CANONICAL[name]}")
    call_id = index["call-id"][0]
    if not call_id or not _NO_SPACE_RE.fullmatch(call_id):
        raise _fail("bad Call-ID")
    seq_method = _parse_cseq(index["cseq"][0])[1]
    if method is not None and seq_method != method:
        raise _fail("CSeq method does not match the request method")
    mf = index.get("max-forwards")
    # RFC 3261 §20.22: 1*DIGIT, any number of them ("0068" is 68).
    if mf is not None and not (mf[0].isascii() and mf[0].isdigit()):
        raise _fail("bad Max-Forwards")

    body = data[end + 4:]
    cl = index.get("content-length")
    if cl is not None:
        cl = cl[0]
        if not (cl.isascii() and cl.isdigit()):
            raise _fail("bad Content-Length")
        if len(cl) > 9 or int(cl) > MAX_BODY:
            raise _fail("body too large", 413)
        length = int(cl)
        if len(body) < length:
            raise _fail("body shorter than Content-Length")
        # RFC 3261 §18.3: octets past Content-Length in a datagram are discarded.
        body = body[:length]
    elif len(body) > MAX_BODY:
        raise _fail("body too large", 413)

    msg = SipMessage(method, uri, status, reason, headers, body)
    msg._index = index
    # The top Via is where any answer goes; without a usable one there is none.
    msg._parse_top_via()
    return msg


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
    known = _KNOWN
    out.extend(((known[n][0] if n in known else canonical_name(n)), v) for n, v in headers)
    if content_type is not None:
        out.append(("Content-Type", content_type))
    return SipMessage(None, None, status, reason if reason is not None else REASONS.get(status, ""), out, body)


# --------------------------------------------------------------------------
# Stream framing

_CONTENT_LENGTH_RE = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.I)


class StreamFramer:
    """Cut a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).

    Once bytes fail to frame, the stream cannot be resynchronised: the framer
    is broken and every later call reports the same error.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scanned = 0  # where the search for the blank line resumes
        self.error: SipParseError | None = None

    @property
    def pending(self) -> int:
        """Bytes received that are not yet a whole message (a message begun, or junk)."""
        return len(self._buf)

    def rest(self) -> bytes:
        """The bytes not cut into messages: after an error, the garbage (for an answer to it)."""
        return bytes(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by `data`; raises SipParseError when the stream breaks
        (the messages completed before the bad bytes are then lost: use read())."""
        messages, error = self.read(data)
        if error is not None:
            raise error
        return messages

    def read(self, data: bytes) -> tuple[list[bytes], SipParseError | None]:
        """The messages completed by `data`, and the error when bytes after them fail to frame."""
        if self.error is not None:
            return [], self.error
        out: list[bytes] = []
        try:
            self._cut(data, out)
        except SipParseError as e:
            self.error = e
        return out, self.error

    def _cut(self, data: bytes, out: list[bytes]) -> None:
        self._buf += data
        buf = self._buf
        while True:
            skip = 0
            while buf.startswith(b"\r\n", skip):
                skip += 2
            if skip:
                # CRLF keep-alives (RFC 5626 §3.5.1) between messages.
                del buf[:skip]
                self._scanned = 0
            if not buf or buf == b"\r":
                return
            end = buf.find(b"\r\n\r\n", max(0, self._scanned - 3))
            if end < 0:
                if len(buf) > MAX_MESSAGE_BYTES:
                    raise _fail("header section too large", 413)
                self._scanned = len(buf)
                return
            if end > MAX_MESSAGE_BYTES:
                raise _fail("header section too large", 413)
            lengths = {m.group(1).strip(b" \t") for m in _CONTENT_LENGTH_RE.finditer(buf, 0, end + 2)}
            if not lengths:
                raise _fail("Content-Length is required on a stream")
            if len(lengths) > 1:
                raise _fail("conflicting Content-Length headers")
            raw = lengths.pop()
            if not raw.isdigit():
                raise _fail("bad Content-Length")
            if len(raw) > 9 or int(raw) > MAX_BODY:
                raise _fail("body too large", 413)
            total = end + 4 + int(raw)
            if total > MAX_MESSAGE_BYTES:
                raise _fail("message too large", 413)
            if len(buf) < total:
                self._scanned = end
                return
            out.append(bytes(buf[:total]))
            del buf[:total]
            self._scanned = 0


# --------------------------------------------------------------------------
# Identifiers


def new_branch() -> str:
    """A Via branch with the RFC 3261 magic cookie."""
    return "z9hG4bK" + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id() -> str:
    return secrets.token_hex(12)
