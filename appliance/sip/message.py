"""SIP messages (RFC 3261): a strict, size-limited parser and a small builder.

Pure: bytes in, objects out, no I/O. The parser splits the header section on
CRLF once and partitions each line; sub-structures (URIs, name-addrs, Via,
credentials) are parsed by their own functions when somebody asks for them.
Everything malformed raises SipParseError and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field

from appliance.errors import SipParseError

MAX_MESSAGE_BYTES = 65535
MAX_HEADERS = 80
MAX_LINE = 4096
MAX_BODY = 16384

VERSION = "SIP/2.0"

# RFC 3261 §7.3.3 plus the compact forms registered since (IANA SIP parameters).
COMPACT_FORMS = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type",
    "d": "Request-Disposition", "e": "Content-Encoding", "f": "From",
    "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "n": "Identity-Info",
    "o": "Event", "r": "Refer-To", "s": "Subject", "t": "To",
    "u": "Allow-Events", "v": "Via", "x": "Session-Expires", "y": "Identity",
}

_KNOWN_NAMES = (
    "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language",
    "Alert-Info", "Allow", "Allow-Events", "Authentication-Info",
    "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition",
    "Content-Encoding", "Content-Language", "Content-Length", "Content-Type",
    "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "Identity",
    "Identity-Info", "In-Reply-To", "Max-Forwards", "Min-Expires", "Min-SE",
    "MIME-Version", "Organization", "P-Asserted-Identity",
    "P-Preferred-Identity", "Path", "Priority", "Privacy", "Proxy-Authenticate",
    "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route",
    "Refer-To", "Referred-By", "Reject-Contact", "Replaces", "Reply-To",
    "Request-Disposition", "Require", "Retry-After", "Route", "RSeq",
    "Server", "Service-Route", "Session-Expires", "SIP-ETag", "SIP-If-Match",
    "Subject", "Subscription-State", "Supported", "Timestamp", "To",
    "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
)
_CANONICAL = {n.lower(): n for n in _KNOWN_NAMES}
_CANONICAL.update(COMPACT_FORMS)

# Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1); the
# others may carry commas inside one value (dates, credentials, free text).
LIST_HEADERS = frozenset(n.lower() for n in (
    "Via", "Contact", "Route", "Record-Route", "Path", "Service-Route",
    "Allow", "Allow-Events", "Supported", "Require", "Proxy-Require",
    "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
    "Content-Encoding", "Content-Language", "In-Reply-To", "Alert-Info",
    "Call-Info", "Error-Info", "Reason", "Warning", "Privacy",
    "P-Asserted-Identity", "P-Preferred-Identity", "Accept-Contact",
    "Reject-Contact", "Request-Disposition",
))

# Headers that must not repeat: two of them make a message ambiguous.
_SINGLE = frozenset(("From", "To", "Call-ID", "CSeq", "Content-Length", "Max-Forwards"))
_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded",
    182: "Queued", 183: "Session Progress", 200: "OK", 202: "Accepted",
    300: "Multiple Choices", 301: "Moved Permanently",
    302: "Moved Temporarily", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required",
    408: "Request Timeout", 410: "Gone", 413: "Request Entity Too Large",
    414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete",
    485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
    500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
# Control characters are never legal in the header section; lone CR or LF
# would let a value smuggle a line break past the CRLF split.
_BAD_CTL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_NO_SPACE_RE = re.compile(r"[^\x00-\x20\x7f]+")
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_])?\.?")
_USER_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+")
_PASSWORD_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*")
_PARAMCHARS_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+")
_HEADERCHARS_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$@]|%[0-9A-Fa-f]{2})*")
_TEL_RE = re.compile(r"[0-9A-Fa-f*#+\-.()pPwW]+")
_DISPLAY_TOKENS_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~ \t]*")
_GENVALUE_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~\[\]:]+")


def _fail(reason: str, status: int = 400) -> SipParseError:
    return SipParseError(reason, status)


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name, compact forms expanded."""
    return _CANONICAL.get(name.lower(), name)


def is_token(s: str) -> bool:
    return _TOKEN_RE.fullmatch(s) is not None


# --------------------------------------------------------------------------
# Lists and parameters


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header value, respecting quotes and <...>."""
    if "," not in value:
        v = value.strip()
        return [v] if v else []
    out: list[str] = []
    start = 0
    quoted = angled = escaped = False
    for i, ch in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            angled = True
        elif ch == ">":
            angled = False
        elif ch == "," and not angled:
            part = value[start:i].strip()
            if part:
                out.append(part)
            start = i + 1
    if quoted or angled:
        raise _fail("unbalanced quotes or angle brackets in a header list")
    part = value[start:].strip()
    if part:
        out.append(part)
    return out


def parse_params(s: str) -> dict[str, str]:
    """Header parameters (`;a=b;c`) into a dict with lowercase keys.

    A parameter without a value maps to ''; a quoted value is kept with its
    quotes so that the header renders back unchanged.
    """
    params: dict[str, str] = {}
    s = s.strip(" \t")
    if not s:
        return params
    if s[0] == ";":
        s = s[1:]
    for raw in _split_semis(s):
        name, eq, value = raw.partition("=")
        name = name.strip(" \t").lower()
        if not name or not is_token(name):
            raise _fail("bad parameter name")
        if eq:
            value = value.strip(" \t")
            if value.startswith('"'):
                if len(value) < 2 or not value.endswith('"') or _unquote_end(value, 0) != len(value):
                    raise _fail("bad quoted parameter value")
            elif not _GENVALUE_RE.fullmatch(value):
                raise _fail("bad parameter value")
        if name in params:
            raise _fail(f"parameter {name} appears twice")
        params[name] = value
    return params


def _split_semis(s: str) -> list[str]:
    if '"' not in s:
        return s.split(";")
    parts: list[str] = []
    start = 0
    quoted = escaped = False
    for i, ch in enumerate(s):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ";":
            parts.append(s[start:i])
            start = i + 1
    if quoted:
        raise _fail("unterminated quoted string")
    parts.append(s[start:])
    return parts


def _unquote_end(s: str, i: int) -> int:
    """Index just past the quoted string starting at s[i] == '"', or -1."""
    i += 1
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        i += 1
    return -1


def _unescape(quoted_inner: str) -> str:
    if "\\" not in quoted_inner:
        return quoted_inner
    return re.sub(r"\\(.)", r"\1", quoted_inner, flags=re.S)


def quote(s: str) -> str:
    """A quoted-string for s."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_params(params: dict[str, str]) -> str:
    return "".join(f";{k}={v}" if v else f";{k}" for k, v in params.items())


# --------------------------------------------------------------------------
# URIs


@dataclass(slots=True)
class SipUri:
    """A sip:, sips: or tel: URI. For tel: the number is in `user`."""

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.scheme == "tel":
            out = f"tel:{self.user}"
        else:
            out = self.scheme + ":"
            if self.user is not None:
                out += self.user
                if self.password is not None:
                    out += ":" + self.password
                out += "@"
            out += self.host
            if self.port is not None:
                out += f":{self.port}"
        out += _render_params(self.params)
        if self.headers:
            out += "?" + "&".join(f"{k}={v}" for k, v in self.headers.items())
        return out

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


def _check_host(host: str) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise _fail("bad IPv6 reference")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _fail("bad IPv6 address") from None
        return host
    if not _HOSTNAME_RE.fullmatch(host):
        raise _fail("bad host")
    return host


def _split_hostport(s: str) -> tuple[str, int | None]:
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise _fail("bad IPv6 reference")
        host, rest = s[: end + 1], s[end + 1:]
    else:
        host, colon, port = s.partition(":")
        rest = ":" + port if colon else ""
    _check_host(host)
    if not rest:
        return host, None
    if rest[0] != ":" or not rest[1:].isascii() or not rest[1:].isdigit() or len(rest) > 6:
        raise _fail("bad port")
    port = int(rest[1:])
    if not 0 < port < 65536:
        raise _fail("port out of range")
    return host, port


def _parse_uri_params(s: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for raw in s.split(";"):
        name, eq, value = raw.partition("=")
        if not _PARAMCHARS_RE.fullmatch(name) or (eq and not _PARAMCHARS_RE.fullmatch(value)):
            raise _fail("bad URI parameter")
        name = name.lower()
        if name in params:
            raise _fail(f"URI parameter {name} appears twice")
        params[name] = value
    return params


def parse_uri(s: str) -> SipUri:
    """Parse a sip:, sips: or tel: URI (RFC 3261 §19.1, RFC 3966)."""
    scheme, colon, rest = s.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("sip", "sips", "tel") or not rest:
        raise _fail("URI scheme must be sip, sips or tel")
    uri_headers: dict[str, str] = {}
    if scheme == "tel":
        number, _, params = rest.partition(";")
        if not _TEL_RE.fullmatch(number):
            raise _fail("bad telephone number")
        return SipUri("tel", number, None, "", None, _parse_uri_params(params) if params else {})
    user = password = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1:]
        user, pcolon, pw = userinfo.partition(":")
        if not _USER_RE.fullmatch(user):
            raise _fail("bad user part in URI")
        if pcolon:
            if not _PASSWORD_RE.fullmatch(pw):
                raise _fail("bad password in URI")
            password = pw
    rest, q, hdrs = rest.partition("?")
    if q:
        for pair in hdrs.split("&"):
            hname, eq, hvalue = pair.partition("=")
            if not eq or not hname or not _HEADERCHARS_RE.fullmatch(hname) or not _HEADERCHARS_RE.fullmatch(hvalue):
                raise _fail("bad URI header")
            uri_headers[hname] = hvalue
    hostport, semi, params = rest.partition(";")
    host, port = _split_hostport(hostport)
    return SipUri(scheme, user, password, host, port, _parse_uri_params(params) if semi else {}, uri_headers)


# --------------------------------------------------------------------------
# Name-addr (From, To, Contact, Route, Refer-To ...)


@dataclass(slots=True)
class NameAddr:
    """A name-addr or addr-spec with header parameters; `star` for Contact: *."""

    uri: SipUri | None
    display: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    star: bool = False

    @property
    def tag(self) -> str | None:
        return self.params.get("tag") or None

    def __str__(self) -> str:
        if self.star:
            return "*"
        out = f"{quote(self.display)} " if self.display else ""
        return f"{out}<{self.uri}>{_render_params(self.params)}"


def parse_name_addr(s: str) -> NameAddr:
    """Parse `"Name" <sip:...>;tag=x`, `Name <sip:...>` or bare `sip:...;tag=x`."""
    s = s.strip(" \t")
    if s == "*":
        return NameAddr(None, None, {}, True)
    if not s:
        raise _fail("empty address")
    display = None
    if s[0] == '"':
        end = _unquote_end(s, 0)
        if end < 0:
            raise _fail("unterminated display name")
        display = _unescape(s[1: end - 1])
        s = s[end:].lstrip(" \t")
        if not s.startswith("<"):
            raise _fail("display name must be followed by <URI>")
    lt = s.find("<")
    if lt >= 0:
        if lt > 0:
            words = s[:lt]
            if not _DISPLAY_TOKENS_RE.fullmatch(words):
                raise _fail("bad display name")
            display = " ".join(words.split()) or None
        gt = s.find(">", lt)
        if gt < 0:
            raise _fail("missing > after URI")
        uri = parse_uri(s[lt + 1: gt])
        rest = s[gt + 1:].strip(" \t")
        if rest and rest[0] != ";":
            raise _fail("junk after address")
        return NameAddr(uri, display, parse_params(rest))
    # Bare addr-spec: RFC 3261 §20.10 makes every ;param a header parameter.
    uri_s, semi, rest = s.partition(";")
    uri_s = uri_s.rstrip(" \t")
    if not _NO_SPACE_RE.fullmatch(uri_s):
        raise _fail("bad address")
    return NameAddr(parse_uri(uri_s), None, parse_params(rest) if semi else {})


# --------------------------------------------------------------------------
# Via


@dataclass(slots=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=...`."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    protocol: str = VERSION

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.protocol}/{self.transport} {self.sent_by}{_render_params(self.params)}"


def parse_via(s: str) -> Via:
    """Parse one Via value (RFC 3261 §20.42); whitespace around '/' is allowed."""
    s = s.strip(" \t")
    parts = s.split("/", 2)
    if len(parts) != 3:
        raise _fail("bad Via protocol")
    name, version, rest = parts[0].strip(" \t"), parts[1].strip(" \t"), parts[2].lstrip(" \t")
    if name.upper() != "SIP" or version != "2.0":
        raise _fail("Via protocol must be SIP/2.0")
    i = 0
    n = len(rest)
    while i < n and rest[i] not in " \t":
        i += 1
    transport = rest[:i].upper()
    if not transport or not is_token(transport):
        raise _fail("bad Via transport")
    sent_by, semi, params = rest[i:].lstrip(" \t").partition(";")
    sent_by = sent_by.rstrip(" \t")
    if not sent_by:
        raise _fail("Via without sent-by")
    host, port = _split_hostport(sent_by)
    p = parse_params(params) if semi else {}
    rport = p.get("rport")
    if rport and (not rport.isdigit() or not rport.isascii()):
        raise _fail("bad Via rport")
    return Via(transport, host, port, p, VERSION)


# --------------------------------------------------------------------------
# Credentials and challenges

_AUTH_PARAM_RE = re.compile(
    r"[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*=[ \t]*"
    r"(?:\"((?:[^\"\\]|\\.)*)\"|([A-Za-z0-9\-.!%*_+`'~/:@=]+))[ \t]*(?:,|$)",
    re.S,
)


def parse_auth(value: str) -> tuple[str, dict[str, str]]:
    """Parse `Digest a="b", c=d` into ("Digest", {"a": "b", "c": "d"})."""
    value = value.strip(" \t")
    scheme, _, rest = value.partition(" ")
    if not scheme or not is_token(scheme):
        raise _fail("bad authentication scheme")
    params: dict[str, str] = {}
    pos, n = 0, len(rest)
    match = _AUTH_PARAM_RE.match
    while pos < n:
        m = match(rest, pos)
        if m is None or m.end() == pos:
            raise _fail("malformed authentication parameters")
        name = m.group(1).lower()
        if name in params:
            raise _fail(f"authentication parameter {name} appears twice")
        quoted = m.group(2)
        params[name] = _unescape(quoted) if quoted is not None else m.group(3)
        pos = m.end()
        if rest[pos - 1: pos] != "," and pos < n:
            raise _fail("malformed authentication parameters")
    if rest.rstrip(" \t").endswith(","):
        raise _fail("trailing comma in authentication parameters")
    return scheme, params


# --------------------------------------------------------------------------
# Messages


class SipMessage:
    """A request (method, uri) or a response (status, reason) with headers and body."""

    __slots__ = ("method", "uri", "status", "reason", "headers", "body")

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
        self.headers = headers if headers is not None else []
        self.body = body

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
        key = canonical_name(name).lower()
        for n, v in self.headers:
            if n.lower() == key:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        key = canonical_name(name).lower()
        values = [v for n, v in self.headers if n.lower() == key]
        if key in LIST_HEADERS:
            return [item for v in values for item in split_header_list(v)]
        return values

    def set(self, name: str, value: str) -> None:
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
        cname = canonical_name(name)
        key = cname.lower()
        idx = [i for i, (n, _) in enumerate(self.headers) if n.lower() == key]
        if first:
            self.headers.insert(idx[0] if idx else 0, (cname, value))
        else:
            self.headers.insert(idx[-1] + 1 if idx else len(self.headers), (cname, value))

    def remove(self, name: str) -> None:
        key = canonical_name(name).lower()
        self.headers = [(n, v) for n, v in self.headers if n.lower() != key]

    def remove_first(self, name: str) -> str | None:
        """Remove the first value of a header, also from a comma-joined line;
        returns it (None when absent)."""
        key = canonical_name(name).lower()
        for i, (n, v) in enumerate(self.headers):
            if n.lower() != key:
                continue
            items = split_header_list(v) if key in LIST_HEADERS else [v]
            if len(items) <= 1:
                del self.headers[i]
                return items[0] if items else v
            self.headers[i] = (n, ", ".join(items[1:]))
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

    # Parsed fresh on every call: the results are mutable and the headers
    # may change, so a cache would go stale.

    @property
    def request_uri(self) -> SipUri:
        if self.uri is None:
            raise _fail("a response has no Request-URI")
        return parse_uri(self.uri)

    @property
    def top_via(self) -> Via:
        items = split_header_list(self._required("Via"))
        if not items:
            raise _fail("empty Via")
        return parse_via(items[0])

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


def _parse_cseq(value: str) -> tuple[int, str]:
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
    scheme, colon, rest = uri.partition(":")
    if not colon or not rest or not _SCHEME_RE.fullmatch(scheme) or not _NO_SPACE_RE.fullmatch(rest):
        raise _fail("bad Request-URI")
    if scheme.lower() in ("sip", "sips", "tel"):
        parse_uri(uri)
    return method, uri, None, None


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
    if _BAD_CTL_RE.search(raw) or raw.count(b"\r") != crlf or raw.count(b"\n") != crlf:
        raise _fail("control character in header section")
    try:
        head = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail("header section is not valid UTF-8") from None
    lines = head.split("\r\n")
    if len(lines) > MAX_HEADERS * 4:
        raise _fail("too many header lines", 413)
    method, uri, status, reason = _parse_start_line(lines[0])

    headers: list[tuple[str, str]] = []
    single: dict[str, str] = {}
    canon = _CANONICAL
    for line in lines[1:]:
        if len(line) > MAX_LINE:
            raise _fail("header line too long", 413)
        if line[:1] in (" ", "\t"):
            # A folded continuation line (RFC 3261 §7.3.1).
            if not headers:
                raise _fail("continuation line before any header")
            n, v = headers[-1]
            more = line.strip(" \t")
            v = f"{v} {more}" if v else more
            if len(v) > MAX_LINE:
                raise _fail("header line too long", 413)
            headers[-1] = (n, v)
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise _fail("header line without a colon")
        name = name.rstrip(" \t")
        cname = canon.get(name.lower())
        if cname is None:
            if not is_token(name):
                raise _fail("bad header name")
            cname = name
        if cname in _SINGLE:
            if cname in single:
                raise _fail(f"{cname} appears twice")
            single[cname] = ""
        headers.append((cname, value.strip(" \t")))
        if len(headers) > MAX_HEADERS:
            raise _fail("too many headers", 413)
    for n, v in headers:
        if n in single:
            single[n] = v

    for name in _REQUIRED:
        if name not in single and not any(n == name for n, _ in headers):
            raise _fail(f"missing {name}")
    if not single["Call-ID"] or not _NO_SPACE_RE.fullmatch(single["Call-ID"]):
        raise _fail("bad Call-ID")
    seq_method = _parse_cseq(single["CSeq"])[1]
    if method is not None and seq_method != method:
        raise _fail("CSeq method does not match the request method")
    mf = single.get("Max-Forwards")
    if mf is not None and (not (mf.isascii() and mf.isdigit()) or len(mf) > 3):
        raise _fail("bad Max-Forwards")

    body = data[end + 4:]
    cl = single.get("Content-Length")
    if cl is not None:
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
    # The top Via is where any answer goes; without a usable one there is none.
    msg.top_via  # noqa: B018 - parsed to validate it
    return msg


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
        if name == "To" and to_tag and parse_name_addr(value).tag is None:
            value = f"{value};tag={to_tag}"
        out.append((name, value))
    out.extend((canonical_name(n), v) for n, v in headers)
    if content_type is not None:
        out.append(("Content-Type", content_type))
    return SipMessage(None, None, status, reason if reason is not None else REASONS.get(status, ""), out, body)


# --------------------------------------------------------------------------
# Stream framing

_CONTENT_LENGTH_RE = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.I)


class StreamFramer:
    """Cut a TCP byte stream into messages by Content-Length (RFC 3261 §18.3)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scanned = 0  # where the search for the blank line resumes

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
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
                return out
            end = buf.find(b"\r\n\r\n", max(0, self._scanned - 3))
            if end < 0:
                if len(buf) > MAX_MESSAGE_BYTES:
                    raise _fail("header section too large", 413)
                self._scanned = len(buf)
                return out
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
                return out
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
