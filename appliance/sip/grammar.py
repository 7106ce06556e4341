"""SIP grammar (RFC 3261 §25): URIs, name-addrs, Via, CSeq, parameters, credentials.

Pure: strings in, objects out, no I/O. The message parser (appliance.sip.parser)
and the message model (appliance.sip.message) hand header values here when
somebody asks for their structure. This is the box's one name-addr parser: the
engine reads a caller's From with it too. Everything malformed raises SipParseError and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from appliance.errors import SipParseError

__all__ = [
    "VERSION", "NO_SPACE_RE", "SipUri", "NameAddr", "Via",
    "parse_error", "is_token", "quote", "split_header_list", "parse_params",
    "parse_uri", "parse_name_addr", "parse_via", "parse_auth", "parse_cseq", "uri_key",
]

VERSION = "SIP/2.0"

_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
NO_SPACE_RE = re.compile(r"[^\x00-\x20\x7f]+")
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_])?\.?")
# '#' is not in RFC 3261's user set, but phones send feature codes like *97# raw.
_USER_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/#]|%[0-9A-Fa-f]{2})+")
_PASSWORD_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*")
_PARAMCHARS_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+")
_HEADERCHARS_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$@]|%[0-9A-Fa-f]{2})*")
_TEL_RE = re.compile(r"[0-9A-Fa-f*#+\-.()pPwW]+")
_DISPLAY_TOKENS_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~ \t]*")
_GENVALUE_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~\[\]:]+")
# The usual shape, sip:user@host:port;params, in one match. Its parts are the
# patterns above, so whatever it accepts parse_uri's general path accepts the
# same way; anything else (and a port out of range) takes the general path.
_SIMPLE_URI_RE = re.compile(
    r"([sS][iI][pP][sS]?):"
    r"(?:((?:[A-Za-z0-9\-_.!~*'()&=+$,;?/#]|%[0-9A-Fa-f]{2})+)@)?"
    r"([A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_])?\.?)"
    r"(?::([0-9]{1,5}))?"
    r"(?:;([^?@]*))?"
)


def parse_error(reason: str, status: int = 400) -> SipParseError:
    """The error for malformed SIP: a reason, and the status that answers it (400 unless said)."""
    return SipParseError(reason, status)


# Messages name the same methods, parameters and schemes over and over.
_TOKENS: set[str] = set()
_TOKENS_MAX = 1024


def is_token(s: str) -> bool:
    if s in _TOKENS:
        return True
    if _TOKEN_RE.fullmatch(s) is None:
        return False
    if len(_TOKENS) >= _TOKENS_MAX:
        _TOKENS.clear()
    _TOKENS.add(s)
    return True


# --------------------------------------------------------------------------
# Lists and parameters


def _split_outside(s: str, sep: str) -> list[str]:
    """Split s on sep where sep is outside quoted strings and <...>."""
    parts: list[str] = []
    start = 0
    quoted = angled = escaped = False
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
        elif ch == "<":
            angled = True
        elif ch == ">":
            angled = False
        elif ch == sep and not angled:
            parts.append(s[start:i])
            start = i + 1
    if quoted or angled:
        raise parse_error("unbalanced quotes or angle brackets")
    parts.append(s[start:])
    return parts


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header value, respecting quotes and <...>."""
    parts = _split_outside(value, ",") if "," in value else [value]
    return [p for p in (part.strip() for part in parts) if p]


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
    for raw in (_split_outside(s, ";") if '"' in s or "<" in s else s.split(";")):
        name, eq, value = raw.partition("=")
        name = name.strip(" \t").lower()
        if not name or not is_token(name):
            raise parse_error("bad parameter name")
        if eq:
            value = value.strip(" \t")
            if value.startswith('"'):
                if len(value) < 2 or not value.endswith('"') or _unquote_end(value, 0) != len(value):
                    raise parse_error("bad quoted parameter value")
            elif not _GENVALUE_RE.fullmatch(value):
                raise parse_error("bad parameter value")
        if name in params:
            raise parse_error(f"parameter {name} appears twice")
        params[name] = value
    return params


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
            raise parse_error("bad IPv6 reference")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise parse_error("bad IPv6 address") from None
        return host
    if not _HOSTNAME_RE.fullmatch(host):
        raise parse_error("bad host")
    return host


def _split_hostport(s: str) -> tuple[str, int | None]:
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise parse_error("bad IPv6 reference")
        host, rest = s[: end + 1], s[end + 1:]
    else:
        host, colon, port = s.partition(":")
        rest = ":" + port if colon else ""
    _check_host(host)
    if not rest:
        return host, None
    if rest[0] != ":" or not rest[1:].isascii() or not rest[1:].isdigit() or len(rest) > 6:
        raise parse_error("bad port")
    port = int(rest[1:])
    if not 0 < port < 65536:
        raise parse_error("port out of range")
    return host, port


def _parse_uri_params(s: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for raw in s.split(";"):
        name, eq, value = raw.partition("=")
        if not _PARAMCHARS_RE.fullmatch(name) or (eq and not _PARAMCHARS_RE.fullmatch(value)):
            raise parse_error("bad URI parameter")
        name = name.lower()
        if name in params:
            raise parse_error(f"URI parameter {name} appears twice")
        params[name] = value
    return params


def parse_uri(s: str) -> SipUri:
    """Parse a sip:, sips: or tel: URI (RFC 3261 §19.1, RFC 3966)."""
    m = _SIMPLE_URI_RE.fullmatch(s)
    if m is not None:
        scheme, user, host, port, params = m.groups()
        if port is None or 0 < int(port) < 65536:
            return SipUri(scheme.lower(), user, None, host, None if port is None else int(port),
                          _parse_uri_params(params) if params is not None else {}, {})
    scheme, colon, rest = s.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("sip", "sips", "tel") or not rest:
        raise parse_error("URI scheme must be sip, sips or tel")
    uri_headers: dict[str, str] = {}
    if scheme == "tel":
        number, _, params = rest.partition(";")
        if not _TEL_RE.fullmatch(number):
            raise parse_error("bad telephone number")
        return SipUri("tel", number, None, "", None, _parse_uri_params(params) if params else {})
    user = password = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1:]
        user, pcolon, pw = userinfo.partition(":")
        if not _USER_RE.fullmatch(user):
            raise parse_error("bad user part in URI")
        if pcolon:
            if not _PASSWORD_RE.fullmatch(pw):
                raise parse_error("bad password in URI")
            password = pw
    rest, q, hdrs = rest.partition("?")
    if q:
        for pair in hdrs.split("&"):
            hname, eq, hvalue = pair.partition("=")
            if not eq or not hname or not _HEADERCHARS_RE.fullmatch(hname) or not _HEADERCHARS_RE.fullmatch(hvalue):
                raise parse_error("bad URI header")
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
        raise parse_error("empty address")
    display = None
    if s[0] == '"':
        end = _unquote_end(s, 0)
        if end < 0:
            raise parse_error("unterminated display name")
        display = _unescape(s[1: end - 1])
        s = s[end:].lstrip(" \t")
        if not s.startswith("<"):
            raise parse_error("display name must be followed by <URI>")
    lt = s.find("<")
    if lt >= 0:
        if lt > 0:
            words = s[:lt]
            if not _DISPLAY_TOKENS_RE.fullmatch(words):
                raise parse_error("bad display name")
            display = " ".join(words.split()) or None
        gt = s.find(">", lt)
        if gt < 0:
            raise parse_error("missing > after URI")
        uri = parse_uri(s[lt + 1: gt])
        rest = s[gt + 1:].strip(" \t")
        if rest and rest[0] != ";":
            raise parse_error("junk after address")
        return NameAddr(uri, display, parse_params(rest))
    # Bare addr-spec: RFC 3261 §20.10 makes every ;param a header parameter.
    uri_s, semi, rest = s.partition(";")
    uri_s = uri_s.rstrip(" \t")
    if not NO_SPACE_RE.fullmatch(uri_s):
        raise parse_error("bad address")
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


_SIMPLE_VIA_RE = re.compile(
    r"[Ss][Ii][Pp]/2\.0/([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+"
    r"([A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_])?\.?)"
    r"(?::([0-9]{1,5}))?[ \t]*"
    r"(?:;(.*))?"
)


def parse_via(s: str) -> Via:
    """Parse one Via value (RFC 3261 §20.42); whitespace around '/' is allowed."""
    s = s.strip(" \t")
    # The usual shape, SIP/2.0/UDP host:port;params, read in one match; the
    # general path below reads it the same way, and reads everything else.
    m = _SIMPLE_VIA_RE.fullmatch(s)
    if m is not None:
        transport, host, port, params = m.groups()
        if port is None or 0 < int(port) < 65536:
            p = parse_params(params) if params is not None else {}
            rport = p.get("rport")
            if rport and (not rport.isdigit() or not rport.isascii()):
                raise parse_error("bad Via rport")
            return Via(transport.upper(), host, None if port is None else int(port), p, VERSION)
    parts = s.split("/", 2)
    if len(parts) != 3:
        raise parse_error("bad Via protocol")
    name, version, rest = parts[0].strip(" \t"), parts[1].strip(" \t"), parts[2].lstrip(" \t")
    if name.upper() != "SIP" or version != "2.0":
        raise parse_error("Via protocol must be SIP/2.0")
    i = 0
    n = len(rest)
    while i < n and rest[i] not in " \t":
        i += 1
    transport = rest[:i].upper()
    if not transport or not is_token(transport):
        raise parse_error("bad Via transport")
    sent_by, semi, params = rest[i:].lstrip(" \t").partition(";")
    sent_by = sent_by.rstrip(" \t")
    if not sent_by:
        raise parse_error("Via without sent-by")
    host, port = _split_hostport(sent_by)
    p = parse_params(params) if semi else {}
    rport = p.get("rport")
    if rport and (not rport.isdigit() or not rport.isascii()):
        raise parse_error("bad Via rport")
    return Via(transport, host, port, p, VERSION)


# --------------------------------------------------------------------------
# CSeq

# CSeq values repeat ("1 REGISTER", "2 REGISTER" ...), and each message is asked for its CSeq several times.
_CSEQS: dict[str, tuple[int, str]] = {}
_CSEQS_MAX = 1024


def parse_cseq(value: str) -> tuple[int, str]:
    """Parse a CSeq value (RFC 3261 §20.16) into (number, method)."""
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
        raise parse_error("CSeq must be a number and a method")
    num, method = parts
    if not (num.isascii() and num.isdigit()) or len(num) > 10:
        raise parse_error("bad CSeq number")
    seq = int(num)
    if seq >= 2**31:
        raise parse_error("CSeq number too large")
    if not is_token(method):
        raise parse_error("bad CSeq method")
    return seq, method


# --------------------------------------------------------------------------
# Credentials and challenges

_AUTH_PARAM = (r"[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*=[ \t]*"
               r"(?:\"((?:[^\"\\]|\\.)*)\"|([A-Za-z0-9\-.!%*_+`'~/:@=]+))[ \t]*")
_AUTH_PARAM_RE = re.compile(_AUTH_PARAM + r"(?:,|$)", re.S)
# The usual list, with no backslash in its quoted values, in one match to check
# it and one findall to take it apart. Each parameter can end in one place only
# (a name has no '=', a token no blank or comma, a quoted string ends at its
# first quote), so the parts are the ones the step-by-step loop below finds.
_AUTH_SIMPLE_PARAM = (r"[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*=[ \t]*"
                      r"(?:\"([^\"\\]*)\"|([A-Za-z0-9\-.!%*_+`'~/:@=]+))[ \t]*")
_AUTH_LIST_RE = re.compile(f"(?:{_AUTH_SIMPLE_PARAM},)*{_AUTH_SIMPLE_PARAM}")
_AUTH_ITEM_RE = re.compile(_AUTH_SIMPLE_PARAM + r"(?:,|\Z)")


def parse_auth(value: str) -> tuple[str, dict[str, str]]:
    """Parse `Digest a="b", c=d` into ("Digest", {"a": "b", "c": "d"})."""
    value = value.strip(" \t")
    scheme, _, rest = value.partition(" ")
    if not scheme or not is_token(scheme):
        raise parse_error("bad authentication scheme")
    params: dict[str, str] = {}
    if rest and _AUTH_LIST_RE.fullmatch(rest) is not None:
        for name, quoted, token in _AUTH_ITEM_RE.findall(rest):
            name = name.lower()
            if name in params:
                raise parse_error(f"authentication parameter {name} appears twice")
            # A token is never empty, so an empty one means the value was quoted.
            params[name] = token or quoted
        return scheme, params
    # Escapes, or malformed, or empty: the step-by-step parse, which also names what is wrong.
    pos, n = 0, len(rest)
    match = _AUTH_PARAM_RE.match
    while pos < n:
        m = match(rest, pos)
        if m is None or m.end() == pos:
            raise parse_error("malformed authentication parameters")
        name = m.group(1).lower()
        if name in params:
            raise parse_error(f"authentication parameter {name} appears twice")
        quoted = m.group(2)
        params[name] = _unescape(quoted) if quoted is not None else m.group(3)
        pos = m.end()
        if rest[pos - 1: pos] != "," and pos < n:
            raise parse_error("malformed authentication parameters")
    if rest.rstrip(" \t").endswith(","):
        raise parse_error("trailing comma in authentication parameters")
    return scheme, params


def uri_key(uri: str) -> str:
    """A URI with its scheme and host part in lower case (the user part and parameters keep theirs):
    the form under which two spellings of one URI compare equal (RFC 3261 §19.1.4, roughly)."""
    text = uri.strip()
    scheme, colon, rest = text.partition(":")
    if not colon:
        return text.lower()
    at = rest.find("@")
    user, hostpart = (rest[: at + 1], rest[at + 1:]) if at >= 0 else ("", rest)
    end = len(hostpart)
    for mark in ";?":
        i = hostpart.find(mark)
        if 0 <= i < end:
            end = i
    return f"{scheme.lower()}:{user}{hostpart[:end].lower()}{hostpart[end:]}"
