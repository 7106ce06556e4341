"""The SIP message parser (RFC 3261 §7): strict and size-limited.

Pure: bytes in, a SipMessage out, no I/O. It splits the header section on CRLF
once and partitions each line; sub-structures (URIs, name-addrs, Via,
credentials) are parsed by appliance.sip.grammar when somebody asks for them.
Everything malformed raises SipParseError and nothing else.
"""

from __future__ import annotations

import re

from appliance.sip.grammar import NO_SPACE_RE, VERSION, is_token, parse_cseq, parse_error, parse_uri
from appliance.sip.headers import CANONICAL_NAMES, KNOWN_HEADERS
from appliance.sip.message import SipMessage

__all__ = ["MAX_MESSAGE_BYTES", "MAX_HEADERS", "MAX_LINE", "MAX_BODY", "parse"]

MAX_MESSAGE_BYTES = 65535
MAX_HEADERS = 80
MAX_LINE = 4096
MAX_BODY = 16384

_REQUIRED_KEYS = ("via", "from", "to", "call-id", "cseq")

# Control characters are never legal in the header section; lone CR or LF
# would let a value smuggle a line break past the CRLF split.
_BAD_CTL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Every byte but those: what deleting them leaves of a header section is its control characters.
_NOT_CTL = bytes(b for b in range(256) if not _BAD_CTL_RE.match(bytes((b,))))
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")

# The methods phones use, each one string: a request's method is kept with its answer and its
# transaction (answers.py) for a while, thousands of them under load.
_METHODS = {m: m for m in ("REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "SUBSCRIBE", "NOTIFY",
                           "REFER", "INFO", "MESSAGE", "UPDATE", "PRACK", "PUBLISH")}

# Phones send their requests to a handful of Request-URIs (the box's address,
# the extensions): the ones found good need no second look.
_GOOD_REQUEST_URIS: dict[str, None] = {}
_GOOD_REQUEST_URIS_MAX = 512


def _parse_start_line(line: str) -> tuple[str | None, str | None, int | None, str | None]:
    if len(line) > MAX_LINE:
        raise parse_error("start line too long", 413)
    if line[:8].upper() == "SIP/2.0 ":
        code, _, reason = line[8:].partition(" ")
        if len(code) != 3 or not (code.isascii() and code.isdigit()):
            raise parse_error("bad status code")
        status = int(code)
        if not 100 <= status <= 699:
            raise parse_error("status code out of range")
        return None, None, status, reason
    parts = line.split(" ")
    if len(parts) != 3:
        if line[:4].upper() == "SIP/":
            raise parse_error("unsupported SIP version")
        raise parse_error("bad start line")
    method, uri, version = parts
    method = _METHODS.get(method, method)
    if version.upper() != VERSION:
        raise parse_error("unsupported SIP version")
    if not is_token(method):
        raise parse_error("bad method")
    if uri not in _GOOD_REQUEST_URIS:
        scheme, colon, rest = uri.partition(":")
        if not colon or not rest or not _SCHEME_RE.fullmatch(scheme) or not NO_SPACE_RE.fullmatch(rest):
            raise parse_error("bad Request-URI")
        if scheme.lower() in ("sip", "sips", "tel"):
            parse_uri(uri)
        if len(_GOOD_REQUEST_URIS) >= _GOOD_REQUEST_URIS_MAX:
            _GOOD_REQUEST_URIS.clear()
        _GOOD_REQUEST_URIS[uri] = None
    return method, uri, None, None


def parse(data: bytes) -> SipMessage:
    """Parse one datagram (or one message cut by StreamFramer)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise parse_error("a message must be bytes")
    data = bytes(data)
    if len(data) > MAX_MESSAGE_BYTES:
        raise parse_error("message too large", 413)
    # RFC 3261 §7.5: CRLFs before the start line are ignored.
    start = 0
    while data.startswith(b"\r\n", start):
        start += 2
    if start == len(data):
        raise parse_error("empty message")
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        raise parse_error("header section is not terminated by an empty line")
    raw = data[start:end]
    crlf = raw.count(b"\r\n")
    if raw.translate(None, _NOT_CTL) or raw.count(b"\r") != crlf or raw.count(b"\n") != crlf:
        raise parse_error("control character in header section")
    try:
        head = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise parse_error("header section is not valid UTF-8") from None
    lines = head.split("\r\n")
    if len(lines) > MAX_HEADERS * 4:
        raise parse_error("too many header lines", 413)
    method, uri, status, reason = _parse_start_line(lines[0])
    # No line (nor a folded value, made of several) can be longer than all of them.
    long_lines = len(head) > MAX_LINE

    headers: list[tuple[str, str]] = []
    # lowercase canonical name -> values, handed to the message as its index
    index: dict[str, list[str]] = {}
    known = KNOWN_HEADERS
    key = ""
    for line in lines[1:]:
        if long_lines and len(line) > MAX_LINE:
            raise parse_error("header line too long", 413)
        if line[:1] in (" ", "\t"):
            # A folded continuation line (RFC 3261 §7.3.1).
            if not headers:
                raise parse_error("continuation line before any header")
            n, v = headers[-1]
            more = line.strip(" \t")
            v = f"{v} {more}" if v else more
            if long_lines and len(v) > MAX_LINE:
                raise parse_error("header line too long", 413)
            headers[-1] = (n, v)
            index[key][-1] = v
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise parse_error("header line without a colon")
        info = known.get(name)
        if info is None:
            name = name.rstrip(" \t")
            low = name.lower()
            info = known.get(low)
            if info is None:
                if not is_token(name):
                    raise parse_error("bad header name")
                info = (name, low, False)
        cname, key, single = info
        value = value.strip(" \t")
        headers.append((cname, value))
        values = index.get(key)
        if values is None:
            index[key] = [value]
        elif single:
            raise parse_error(f"{cname} appears twice")
        else:
            values.append(value)
        if len(headers) > MAX_HEADERS:
            raise parse_error("too many headers", 413)

    for name in _REQUIRED_KEYS:
        if name not in index:
            raise parse_error(f"missing {CANONICAL_NAMES[name]}")
    call_id = index["call-id"][0]
    if not call_id or not NO_SPACE_RE.fullmatch(call_id):
        raise parse_error("bad Call-ID")
    seq_method = parse_cseq(index["cseq"][0])[1]
    if method is not None and seq_method != method:
        raise parse_error("CSeq method does not match the request method")
    mf = index.get("max-forwards")
    # RFC 3261 §20.22: 1*DIGIT, any number of them ("0068" is 68).
    if mf is not None and not (mf[0].isascii() and mf[0].isdigit()):
        raise parse_error("bad Max-Forwards")

    body = data[end + 4:]
    cl = index.get("content-length")
    if cl is not None:
        cl = cl[0]
        if not (cl.isascii() and cl.isdigit()):
            raise parse_error("bad Content-Length")
        if len(cl) > 9 or int(cl) > MAX_BODY:
            raise parse_error("body too large", 413)
        length = int(cl)
        if len(body) < length:
            raise parse_error("body shorter than Content-Length")
        # RFC 3261 §18.3: octets past Content-Length in a datagram are discarded.
        body = body[:length]
    elif len(body) > MAX_BODY:
        raise parse_error("body too large", 413)

    return SipMessage(method, uri, status, reason, headers, body, index=index)
