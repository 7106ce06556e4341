"""HTTP Digest authentication for SIP (RFC 7616, RFC 2617, RFC 3261 §22).

Pure: no I/O, time is injected. Nonces are stateless — a timestamp, a random
salt and an HMAC under a key held in memory — so issuing a challenge costs no
memory (a restart with a new key merely makes phones re-authenticate once).

Replay protection, when the caller gives what it needs:

- `client`: the HMAC of a nonce covers the address it was issued to, so an
  Authorization captured on one host is worth nothing sent from another.
- `uri`: the digest's `uri` must be the request's Request-URI (RFC 3261
  §22.4, RFC 7616 §3.4.6), so credentials for one call cannot dial another.
- `request`: each (nonce, nc) pair answers one request only. The same pair
  again with the same request (a retransmission) is accepted as before; with
  another request it is a replay. Only nonces that authenticated somebody are
  remembered, until they go stale, at most `max_nonces` of them (the least
  recently used forgotten first; a nonce forgotten that way is then treated
  as stale, so memory pressure costs a phone a challenge, never safety).
  An answer without qop (RFC 2069 style, no nc) makes its nonce single use.

A nonce that is not ours for this client (another host, or from before a
restart) with a digest that is right for the password, a stale one, and a
replayed one get `stale`: the caller answers with a fresh challenge, and a
phone (or a replayer, who gains nothing) starts again. They are not failures.

No user enumeration: an unknown user is checked against a dummy secret with
the same work and gets the same answer as a wrong password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from appliance.errors import SipParseError
from appliance.sip.grammar import uri_key
from appliance.sip.message import parse_auth, quote

_HASHES: dict[str, Callable] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_HEX_LEN = {"MD5": 32, "SHA-256": 64}
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")

# Reasons, in the words a log reader needs. WRONG_CREDENTIALS is shared by
# unknown users and wrong passwords on purpose.
MALFORMED = "malformed credentials"
NOT_DIGEST = "authentication scheme is not Digest"
WRONG_REALM = "wrong realm"
BAD_ALGORITHM = "unsupported algorithm"
BAD_QOP = "unsupported qop"
BAD_NONCE = "invalid nonce"
STALE_NONCE = "stale nonce"
FOREIGN_NONCE = "nonce issued to another client"
REPLAYED = "nonce count used for another request"
URI_MISMATCH = "digest uri is not the Request-URI"
WRONG_CREDENTIALS = "wrong user name or password"
OK = "ok"

_NONCE_RAW_LEN = 8 + 8 + 16  # timestamp, salt, truncated HMAC-SHA256
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# A nonce stamped this far in the future counts as stale: the clock went back.
_CLOCK_SKEW = 60.0
# Nonces remembered for nc tracking, and nonce counts per nonce (a phone spends one per request).
MAX_NONCES = 10_000
MAX_COUNTS_PER_NONCE = 64


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of verify(). `user` is the claimed name: trust it only when ok."""

    ok: bool
    user: str | None
    stale: bool
    reason: str


@dataclass(slots=True)
class _NonceUse:
    """What a nonce that answered several requests has answered: nonce count -> the fingerprint of
    the request it answered (a count is an int, -1 for an answer without qop, which has none)."""

    issued: float  # seconds, as the nonce's stamp says
    seen: dict[int, bytes]
    # Counts at or below this were forgotten (MAX_COUNTS_PER_NONCE): refused unless still in `seen`.
    floor: int = -1


# Thousands of nonces are remembered and most answer a single request (a REGISTER's): such a nonce
# is 32 bytes (when it was issued, its count, the 16-byte fingerprint of the request), and becomes a
# _NonceUse at its second count. No string of the message stays behind in memory.
_ONE_USE = struct.Struct("<dq16s")


def _issued(entry: bytes | _NonceUse) -> float:
    return _ONE_USE.unpack(entry)[0] if isinstance(entry, bytes) else entry.issued


def _order(count: int) -> int:
    # An answer without qop counts as nonce count 0, as RFC 2069 clients had none.
    return count if count > 0 else 0


def _fingerprint(request: Hashable) -> bytes:
    """A request's identity (a tuple of text and numbers) in 16 bytes: what is kept of it."""
    return hashlib.blake2b(repr(request).encode("utf-8", "backslashreplace"), digest_size=16).digest()


class NonceCounts:
    """The (nonce, nc) pairs that authenticated a request, so each answers that request only.

    Bounded: a nonce is forgotten once stale (`ttl` after it was issued), and beyond `size` nonces
    the least recently used one is; a nonce issued no later than one forgotten early is refused
    when it comes back (its holder gets a fresh challenge)."""

    def __init__(self, ttl: float, size: int = MAX_NONCES, per_nonce: int = MAX_COUNTS_PER_NONCE):
        self.ttl, self.size, self.per_nonce = ttl, size, per_nonce
        # Least recently used first: a plain dict keeps its insertion order, and a nonce used again
        # is put back at the end (an OrderedDict's links would cost 45 bytes more per nonce).
        self._items: dict[Hashable, bytes | _NonceUse] = {}
        self._forgotten_until = float("-inf")

    def __len__(self) -> int:
        return len(self._items)

    def use(self, nonce: Hashable, issued: float, nc: str, request: Hashable, now: float) -> bool:
        """Whether `nc` of `nonce` (the nonce, or what identifies it) may answer `request` (and
        remember that it did)."""
        self._forget_stale(now)
        count = int(nc, 16) if nc else -1
        fingerprint = _fingerprint(request)
        items = self._items
        entry = items.get(nonce)
        if entry is None:
            if issued <= self._forgotten_until:
                return False
            items[nonce] = _ONE_USE.pack(issued, count, fingerprint)
            while len(items) > self.size:
                gone = items.pop(next(iter(items)))
                self._forgotten_until = max(self._forgotten_until, _issued(gone))
            return True
        items[nonce] = items.pop(nonce)  # now the most recently used
        if isinstance(entry, bytes):
            first_issued, first_count, first_fingerprint = _ONE_USE.unpack(entry)
            if first_count == count:
                return first_fingerprint == fingerprint  # a retransmission, or a replay for another request
            entry = items[nonce] = _NonceUse(first_issued, {first_count: first_fingerprint})
        known = entry.seen.get(count)
        if known is not None:
            return known == fingerprint
        if _order(count) <= entry.floor:
            return False
        entry.seen[count] = fingerprint
        if len(entry.seen) > self.per_nonce:
            lowest = min(entry.seen, key=_order)
            del entry.seen[lowest]
            entry.floor = max(entry.floor, _order(lowest))
        return True

    def _forget_stale(self, now: float) -> None:
        # Oldest used first; a nonce used again moves to the end, so the front may hold a younger
        # one before an older: those are forgotten a little later, or by the size limit.
        items = self._items
        limit = now - self.ttl - _CLOCK_SKEW
        while items:
            nonce, entry = next(iter(items.items()))
            if _issued(entry) > limit:
                break
            del items[nonce]


def same_uri(digest_uri: str, request_uri: str) -> bool:
    """Whether a digest's `uri` names the Request-URI (scheme and host compared without case)."""
    return digest_uri == request_uri or uri_key(digest_uri) == uri_key(request_uri)


def _h(algorithm: str, data: str) -> str:
    return _HASHES[algorithm](data.encode("utf-8")).hexdigest()


def compute_response(
    algorithm: str,
    user: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    *,
    qop: str | None = "auth",
    nc: str = "00000001",
    cnonce: str = "",
) -> str:
    """The request-digest of RFC 7616 §3.4.1 (qop=auth) or RFC 2069 (qop=None).

    `algorithm` is MD5, SHA-256, MD5-sess or SHA-256-sess (any case).
    """
    alg = algorithm.upper()
    sess = alg.endswith("-SESS")
    base = alg[:-5] if sess else alg
    if base not in _HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm}")
    ha1 = _h(base, f"{user}:{realm}:{password}")
    if sess:
        ha1 = _h(base, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _h(base, f"{method}:{uri}")
    if qop is None:
        return _h(base, f"{ha1}:{nonce}:{ha2}")
    return _h(base, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


class DigestAuth:
    """The server side: challenges and verification for one realm."""

    def __init__(
        self,
        realm: str,
        lookup_secret: Callable[[str], str | None],
        *,
        key: bytes | None = None,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        clock: Callable[[], float] = time.time,
    ):
        for alg in algorithms:
            if alg.upper() not in _HASHES:
                raise ValueError(f"unsupported digest algorithm {alg}")
        if not algorithms:
            raise ValueError("at least one digest algorithm is needed")
        self.realm = realm
        self.lookup_secret = lookup_secret
        self.nonce_ttl = nonce_ttl
        self.algorithms = tuple(a.upper() for a in algorithms)
        self.clock = clock
        self._key = key if key is not None else secrets.token_bytes(32)
        # Keyed once: copying it is cheaper than keying an HMAC for every nonce.
        self._keyed_mac = hmac.new(self._key, digestmod=hashlib.sha256)
        # Unknown users are checked against this, so they cost the same.
        self._dummy_secret = secrets.token_urlsafe(16)
        self._quoted_realm = quote(realm)
        self.counts = NonceCounts(nonce_ttl)

    # -- nonces

    def new_nonce(self, client: str = "") -> str:
        """A nonce for `client` (the address it is sent to; "" when it does not matter)."""
        stamp = struct.pack(">Q", int(self.clock() * 1000))
        body = stamp + secrets.token_bytes(8)
        mac = self._mac(body, client)
        return base64.urlsafe_b64encode(body + mac).decode("ascii").rstrip("=")

    def _mac(self, body: bytes, client: str = "") -> bytes:
        """HMAC-SHA256 of a nonce's body and its client's address under our key, truncated."""
        mac = self._keyed_mac.copy()
        mac.update(body)
        if client:
            mac.update(b"|" + client.encode("utf-8", "replace"))
        return mac.digest()[:16]

    def _open_nonce(self, nonce: str) -> tuple[bytes, bytes] | None:
        """A nonce's body and MAC, or None when it cannot be one of ours."""
        if len(nonce) != 43:
            return None
        # base64.urlsafe_b64decode and _b64encode without their wrappers (they cost more than the work).
        try:
            raw = binascii.a2b_base64((nonce + "=").encode("ascii").translate(_FROM_URLSAFE))
        except (UnicodeEncodeError, binascii.Error):
            return None
        # Re-encoding rejects the spare bits and stray characters that a
        # lenient base64 decoder would overlook.
        if len(raw) != _NONCE_RAW_LEN or \
                binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE)[:43] != nonce.encode():
            return None
        return raw[:16], raw[16:]

    # -- server side

    def challenge(self, stale: bool = False, client: str = "") -> list[str]:
        """WWW-Authenticate (or Proxy-Authenticate) values, preferred algorithm first."""
        nonce = self.new_nonce(client)
        tail = ', qop="auth"' + (", stale=true" if stale else "")
        return [
            f'Digest realm={self._quoted_realm}, nonce="{nonce}", algorithm={alg}{tail}'
            for alg in self.algorithms
        ]

    def verify(self, method: str, header_value: str, *, client: str = "", uri: str | None = None,
               request: Hashable | None = None) -> AuthResult:
        """Check an Authorization (or Proxy-Authorization) value for `method`.

        `client`: the address the request came from (the nonce must have been issued to it);
        `uri`: the Request-URI the digest must name; `request`: what identifies this request among
        others (Call-ID, CSeq, method, branch), for nonce-count tracking. Each check is skipped
        when its argument is not given.
        """
        try:
            scheme, p = parse_auth(header_value)
        except SipParseError:
            return AuthResult(False, None, False, MALFORMED)
        if scheme.lower() != "digest":
            return AuthResult(False, None, False, NOT_DIGEST)
        user = p.get("username")
        nonce, digest_uri, response = p.get("nonce"), p.get("uri"), p.get("response")
        if user is None or nonce is None or digest_uri is None or response is None or "realm" not in p:
            return AuthResult(False, user, False, MALFORMED)
        if p["realm"] != self.realm:
            return AuthResult(False, user, False, WRONG_REALM)

        alg = p.get("algorithm", "MD5").upper()
        base = alg[:-5] if alg.endswith("-SESS") else alg
        if base not in self.algorithms:
            return AuthResult(False, user, False, BAD_ALGORITHM)
        if len(response) != _HEX_LEN[base] or not _HEXDIGITS.issuperset(response):
            return AuthResult(False, user, False, MALFORMED)

        qop = p.get("qop")
        nc = p.get("nc", "")
        cnonce = p.get("cnonce", "")
        if qop is None:
            # RFC 2069 style answers exist only in the MD5 world.
            if alg != "MD5" or "nc" in p or "cnonce" in p:
                return AuthResult(False, user, False, BAD_QOP)
        elif qop.lower() != "auth":
            return AuthResult(False, user, False, BAD_QOP)
        elif len(nc) != 8 or not _HEXDIGITS.issuperset(nc) or not cnonce:
            return AuthResult(False, user, False, MALFORMED)

        if uri is not None and not same_uri(digest_uri, uri):
            # Credentials made for another request (another number): a replay, or a broken client.
            return AuthResult(False, user, False, URI_MISMATCH)

        opened = self._open_nonce(nonce)
        if opened is None:
            return AuthResult(False, user, False, BAD_NONCE)
        body, mac = opened
        genuine = hmac.compare_digest(mac, self._mac(body, client))
        (millis,) = struct.unpack(">Q", body[:8])
        issued = millis / 1000.0
        age = self.clock() - issued

        secret = self.lookup_secret(user)
        known = secret is not None
        expected = compute_response(
            alg, user, self.realm, secret if known else self._dummy_secret,
            method, digest_uri, nonce, qop=qop, nc=nc, cnonce=cnonce,
        )
        match = hmac.compare_digest(expected.encode(), response.lower().encode())
        if not (match and known):
            return AuthResult(False, user, False, WRONG_CREDENTIALS)
        if not genuine:
            # Right for the password, but the nonce was issued to another client (or by the box
            # before a restart): a fresh challenge, never a failure.
            return AuthResult(False, user, True, FOREIGN_NONCE)
        if not (-_CLOCK_SKEW <= age <= self.nonce_ttl):
            return AuthResult(False, user, True, STALE_NONCE)
        if request is not None:
            self.counts.ttl = self.nonce_ttl
            # A genuine nonce is known by its body (stamp and random salt, 16 bytes): its text, three
            # times longer, need not stay in memory for as long as it is remembered.
            if not self.counts.use(body, issued, nc.lower() if qop is not None else "", request,
                                   self.clock()):
                return AuthResult(False, user, True, REPLAYED)
        return AuthResult(True, user, False, OK)

    @staticmethod
    def client_response(method, uri, user, password, challenge_value, *, cnonce=None, nc=1) -> str:
        return client_response(method, uri, user, password, challenge_value, cnonce=cnonce, nc=nc)


# -- client side (our own registrations to SIP providers)


def client_response(
    method: str,
    uri: str,
    user: str,
    password: str,
    challenge_value: str,
    *,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """An Authorization value answering one WWW-/Proxy-Authenticate challenge.

    Raises SipParseError when the challenge is malformed or asks for
    something we cannot do (another scheme, algorithm or qop).
    """
    scheme, p = parse_auth(challenge_value)
    if scheme.lower() != "digest":
        raise SipParseError("challenge is not Digest")
    realm, nonce = p.get("realm"), p.get("nonce")
    if realm is None or nonce is None:
        raise SipParseError("challenge without realm or nonce")
    algorithm = p.get("algorithm", "MD5")
    alg = algorithm.upper()
    if (alg[:-5] if alg.endswith("-SESS") else alg) not in _HASHES:
        raise SipParseError(f"unsupported digest algorithm {algorithm}")
    qop = None
    if "qop" in p:
        offered = [q.strip().lower() for q in p["qop"].split(",")]
        if "auth" not in offered:
            raise SipParseError("challenge offers no qop=auth")
        qop = "auth"
    if cnonce is None:
        cnonce = secrets.token_hex(8)
    nc_s = f"{nc:08x}"
    response = compute_response(
        alg, user, realm, password, method, uri, nonce, qop=qop, nc=nc_s, cnonce=cnonce
    )
    parts = [
        f"username={quote(user)}",
        f"realm={quote(realm)}",
        f"nonce={quote(nonce)}",
        f"uri={quote(uri)}",
        f'response="{response}"',
        f"algorithm={algorithm}",
    ]
    if qop is not None or alg.endswith("-SESS"):
        parts.append(f"cnonce={quote(cnonce)}")
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc_s}"]
    if "opaque" in p:
        parts.append(f"opaque={quote(p['opaque'])}")
    return "Digest " + ", ".join(parts)
