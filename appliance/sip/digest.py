"""HTTP Digest authentication for SIP (RFC 7616, RFC 2617, RFC 3261 §22).

Pure: no I/O, time is injected. Nonces are stateless — a timestamp, a random
salt and an HMAC under a key held in memory — so there is no nonce table to
grow, lock or lose on restart (a restart with a new key merely makes phones
re-authenticate once).

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
from collections.abc import Callable
from dataclasses import dataclass

from appliance.errors import SipParseError
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
WRONG_CREDENTIALS = "wrong user name or password"
OK = "ok"

_NONCE_RAW_LEN = 8 + 8 + 16  # timestamp, salt, truncated HMAC-SHA256
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# A nonce stamped this far in the future counts as stale: the clock went back.
_CLOCK_SKEW = 60.0


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of verify(). `user` is the claimed name: trust it only when ok."""

    ok: bool
    user: str | None
    stale: bool
    reason: str


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

    # -- nonces

    def new_nonce(self) -> str:
        stamp = struct.pack(">Q", int(self.clock() * 1000))
        body = stamp + secrets.token_bytes(8)
        mac = self._mac(body)
        return base64.urlsafe_b64encode(body + mac).decode("ascii").rstrip("=")

    def _mac(self, body: bytes) -> bytes:
        """HMAC-SHA256 of a nonce's body under our key, truncated."""
        mac = self._keyed_mac.copy()
        mac.update(body)
        return mac.digest()[:16]

    def _nonce_age(self, nonce: str) -> float | None:
        """Seconds since the nonce was issued, or None when it is not ours."""
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
        body, mac = raw[:16], raw[16:]
        want = self._mac(body)
        if not hmac.compare_digest(mac, want):
            return None
        (millis,) = struct.unpack(">Q", body[:8])
        return self.clock() - millis / 1000.0

    # -- server side

    def challenge(self, stale: bool = False) -> list[str]:
        """WWW-Authenticate (or Proxy-Authenticate) values, preferred algorithm first."""
        nonce = self.new_nonce()
        tail = ', qop="auth"' + (", stale=true" if stale else "")
        return [
            f'Digest realm={self._quoted_realm}, nonce="{nonce}", algorithm={alg}{tail}'
            for alg in self.algorithms
        ]

    def verify(self, method: str, header_value: str) -> AuthResult:
        """Check an Authorization (or Proxy-Authorization) value for `method`."""
        try:
            scheme, p = parse_auth(header_value)
        except SipParseError:
            return AuthResult(False, None, False, MALFORMED)
        if scheme.lower() != "digest":
            return AuthResult(False, None, False, NOT_DIGEST)
        user = p.get("username")
        nonce, uri, response = p.get("nonce"), p.get("uri"), p.get("response")
        if user is None or nonce is None or uri is None or response is None or "realm" not in p:
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

        age = self._nonce_age(nonce)
        if age is None:
            return AuthResult(False, user, False, BAD_NONCE)
        stale = not (-_CLOCK_SKEW <= age <= self.nonce_ttl)

        secret = self.lookup_secret(user)
        known = secret is not None
        expected = compute_response(
            alg, user, self.realm, secret if known else self._dummy_secret,
            method, uri, nonce, qop=qop, nc=nc, cnonce=cnonce,
        )
        match = hmac.compare_digest(expected.encode(), response.lower().encode())
        if not (match and known):
            return AuthResult(False, user, False, WRONG_CREDENTIALS)
        if stale:
            return AuthResult(False, user, True, STALE_NONCE)
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
