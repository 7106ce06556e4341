"""The names of SIP headers and the words of SIP status codes (RFC 3261 §7.3.3, §21).

Pure tables: which spelling of a header name is canonical, its compact form,
whether its grammar is a comma-separated list, whether it may repeat, and the
reason phrase that goes with each status code.
"""

from __future__ import annotations

__all__ = ["COMPACT_FORMS", "CANONICAL_NAMES", "LIST_HEADERS", "SINGLE_HEADERS", "KNOWN_HEADERS", "REASONS",
           "canonical_name"]

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
# lowercase name or compact form -> canonical spelling
CANONICAL_NAMES = {n.lower(): n for n in _KNOWN_NAMES}
CANONICAL_NAMES.update(COMPACT_FORMS)

# Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1); the
# others may carry commas inside one value (dates, credentials, free text).
LIST_HEADERS = frozenset("""
via contact route record-route path service-route allow allow-events supported require
proxy-require unsupported accept accept-encoding accept-language content-encoding
content-language in-reply-to alert-info call-info error-info reason warning privacy
p-asserted-identity p-preferred-identity accept-contact reject-contact request-disposition
""".split())

# Headers that must not repeat: two of them make a message ambiguous.
SINGLE_HEADERS = frozenset(("From", "To", "Call-ID", "CSeq", "Content-Length", "Max-Forwards"))

# What the parser needs to know of a known header name, under its lowercase
# spelling, its compact form and its canonical spelling: the canonical name,
# the key under which a message indexes it (lowercase), whether it may repeat.
KNOWN_HEADERS: dict[str, tuple[str, str, bool]] = {}
for _low, _name in CANONICAL_NAMES.items():
    KNOWN_HEADERS[_low] = KNOWN_HEADERS[_name] = (_name, _name.lower(), _name in SINGLE_HEADERS)

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


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name, compact forms expanded."""
    return CANONICAL_NAMES.get(name.lower(), name)
