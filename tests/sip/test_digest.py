"""Digest authentication: RFC examples, verification, stale nonces, no user enumeration."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.errors import SipParseError
from appliance.sip import digest
from appliance.sip.digest import DigestAuth, client_response, compute_response
from appliance.sip.message import parse_auth


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


SECRETS = {"201": "s3cret-201", "202": "another one", "zoë": "ünïcode"}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def auth(clock):
    return DigestAuth("callbox", SECRETS.get, nonce_ttl=300.0, clock=clock)


def _answer(auth, user, password, alg="SHA-256", method="REGISTER", uri="sip:192.168.1.10", **kw):
    challenge = next(c for c in auth.challenge() if f"algorithm={alg}," in c)
    return client_response(method, uri, user, password, challenge, **kw)


# -- the RFCs' own examples

RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)


@pytest.mark.parametrize("alg, expected", [
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
])
def test_rfc7616_example(alg, expected):
    value = client_response("GET", "/dir/index.html", "Mufasa", "Circle of Life",
                            RFC7616_CHALLENGE.format(alg=alg),
                            cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nc=1)
    scheme, p = parse_auth(value)
    assert scheme == "Digest"
    assert p["response"] == expected
    assert p["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert (p["qop"], p["nc"], p["algorithm"]) == ("auth", "00000001", alg)


def test_rfc2617_example():
    challenge = ('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                 'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    value = client_response("GET", "/dir/index.html", "Mufasa", "Circle Of Life", challenge, cnonce="0a4f113b")
    assert parse_auth(value)[1]["response"] == "6629fae49393a05397450978507c4ef1"
    assert compute_response("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
                            "dcd98b7102dd2f0e8b11d0f600bfb0c093", cnonce="0a4f113b") == \
        "6629fae49393a05397450978507c4ef1"


# -- challenges


def test_challenge_offers_sha256_first_then_md5(auth):
    values = auth.challenge()
    params = [parse_auth(v)[1] for v in values]
    assert [p["algorithm"] for p in params] == ["SHA-256", "MD5"]
    assert all(p["realm"] == "callbox" and p["qop"] == "auth" and "stale" not in p for p in params)
    assert auth.challenge()[0] != values[0]  # a fresh nonce each time
    assert all(parse_auth(v)[1]["stale"] == "true" for v in auth.challenge(stale=True))


def test_realm_with_quotes_is_escaped(clock):
    auth = DigestAuth('Office "A"', SECRETS.get, clock=clock)
    assert parse_auth(auth.challenge()[0])[1]["realm"] == 'Office "A"'
    result = auth.verify("REGISTER", _answer(auth, "201", SECRETS["201"]))
    assert result.ok


# -- verification


@pytest.mark.parametrize("alg", ["SHA-256", "MD5"])
@pytest.mark.parametrize("user", ["201", "zoë"])
def test_right_password_is_accepted(auth, alg, user):
    result = auth.verify("REGISTER", _answer(auth, user, SECRETS[user], alg))
    assert result == digest.AuthResult(True, user, False, digest.OK)


def test_uri_need_not_be_the_request_uri(auth):
    # sipp and some phones put the remote address in uri=; it only feeds HA2.
    result = auth.verify("INVITE", _answer(auth, "201", SECRETS["201"], method="INVITE", uri="sip:127.0.0.1:5060"))
    assert result.ok


def test_method_is_part_of_the_hash(auth):
    result = auth.verify("INVITE", _answer(auth, "201", SECRETS["201"], method="REGISTER"))
    assert not result.ok and result.reason == digest.WRONG_CREDENTIALS


@pytest.mark.parametrize("alg", ["SHA-256", "MD5"])
def test_wrong_password_and_unknown_user_look_the_same(auth, alg):
    wrong = auth.verify("REGISTER", _answer(auth, "201", "guess", alg))
    unknown = auth.verify("REGISTER", _answer(auth, "999", "guess", alg))
    assert (wrong.ok, wrong.stale, wrong.reason) == (False, False, digest.WRONG_CREDENTIALS)
    assert (unknown.ok, unknown.stale, unknown.reason) == (wrong.ok, wrong.stale, wrong.reason)
    assert (wrong.user, unknown.user) == ("201", "999")


def test_unknown_user_is_hashed_like_a_known_one(auth, monkeypatch):
    known, unknown = _answer(auth, "201", "guess"), _answer(auth, "999", "guess")
    calls = []
    real = digest.compute_response
    monkeypatch.setattr(digest, "compute_response", lambda *a, **k: calls.append(a) or real(*a, **k))
    auth.verify("REGISTER", known)
    auth.verify("REGISTER", unknown)
    assert [c[1] for c in calls] == ["201", "999"]
    assert calls[1][3] not in (None, "")  # a dummy secret stands in for the missing one


def test_unknown_user_with_the_dummy_secret_still_fails(auth):
    # Even someone who guessed the dummy secret must not get in as a ghost.
    value = _answer(auth, "999", auth._dummy_secret)
    assert auth.verify("REGISTER", value).reason == digest.WRONG_CREDENTIALS


def test_stale_nonce(auth, clock):
    value = _answer(auth, "201", SECRETS["201"])
    clock.advance(299)
    assert auth.verify("REGISTER", value).ok
    clock.advance(2)
    result = auth.verify("REGISTER", value)
    assert (result.ok, result.stale, result.reason, result.user) == (False, True, digest.STALE_NONCE, "201")
    # A stale nonce with a wrong password is not worth a retry: not stale.
    result = auth.verify("REGISTER", _answer(auth, "201", "guess").replace(
        parse_auth(_answer(auth, "201", "guess"))[1]["nonce"], parse_auth(value)[1]["nonce"]))
    assert not result.stale


def test_nonce_from_the_future_is_stale(auth, clock):
    value = _answer(auth, "201", SECRETS["201"])
    clock.advance(-3600)
    assert auth.verify("REGISTER", value).stale


def test_a_tampered_nonce_never_authenticates(auth):
    # Right for the password, but not a nonce we issued (to this client): a fresh challenge (stale),
    # which tells nothing to someone who did not know the password. A wrong password is a failure.
    value = _answer(auth, "201", SECRETS["201"])
    nonce = parse_auth(value)[1]["nonce"]
    for i in (0, 10, 20, 42):
        flipped = nonce[:i] + ("A" if nonce[i] != "A" else "B") + nonce[i + 1:]
        for password, want in ((SECRETS["201"], (digest.FOREIGN_NONCE, True)),
                               ("wrong", (digest.WRONG_CREDENTIALS, False))):
            forged = client_response("REGISTER", "sip:192.168.1.10", "201", password,
                                     f'Digest realm="callbox", nonce="{flipped}", algorithm=SHA-256, qop="auth"')
            result = auth.verify("REGISTER", forged)
            assert not result.ok
            # The last character has spare bits: flipping it makes something that is no nonce at all.
            assert (result.reason, result.stale) in (want, (digest.BAD_NONCE, False))


def test_nonce_from_another_key_gets_a_fresh_challenge(clock):
    ours = DigestAuth("callbox", SECRETS.get, clock=clock)
    theirs = DigestAuth("callbox", SECRETS.get, clock=clock)
    result = ours.verify("REGISTER", _answer(theirs, "201", SECRETS["201"]))
    assert (result.ok, result.stale, result.reason) == (False, True, digest.FOREIGN_NONCE)
    result = ours.verify("REGISTER", _answer(theirs, "201", "wrong"))
    assert (result.ok, result.stale, result.reason) == (False, False, digest.WRONG_CREDENTIALS)


def test_same_key_survives_restart(clock):
    key = b"k" * 32
    first = DigestAuth("callbox", SECRETS.get, key=key, clock=clock)
    second = DigestAuth("callbox", SECRETS.get, key=key, clock=clock)
    assert second.verify("REGISTER", _answer(first, "201", SECRETS["201"])).ok


def test_legacy_rfc2069_answer_only_for_md5(auth):
    nonce = parse_auth(auth.challenge()[1])[1]["nonce"]
    legacy = client_response("REGISTER", "sip:x", "201", SECRETS["201"],
                             f'Digest realm="callbox", nonce="{nonce}", algorithm=MD5')
    assert "qop" not in parse_auth(legacy)[1]
    assert auth.verify("REGISTER", legacy).ok
    legacy256 = client_response("REGISTER", "sip:x", "201", SECRETS["201"],
                                f'Digest realm="callbox", nonce="{nonce}", algorithm=SHA-256')
    assert auth.verify("REGISTER", legacy256).reason == digest.BAD_QOP


def test_algorithm_defaults_to_md5_and_sess_variant_works(auth):
    nonce = parse_auth(auth.challenge()[0])[1]["nonce"]
    value = client_response("REGISTER", "sip:x", "201", SECRETS["201"],
                            f'Digest realm="callbox", nonce="{nonce}", qop="auth"')
    assert "algorithm=MD5" in value and auth.verify("REGISTER", value).ok
    sess = client_response("REGISTER", "sip:x", "201", SECRETS["201"],
                           f'Digest realm="callbox", nonce="{nonce}", qop="auth", algorithm=SHA-256-sess')
    assert auth.verify("REGISTER", sess).ok


def test_algorithms_can_be_restricted(clock):
    strict = DigestAuth("callbox", SECRETS.get, algorithms=("SHA-256",), clock=clock)
    assert len(strict.challenge()) == 1
    nonce = parse_auth(strict.challenge()[0])[1]["nonce"]
    md5 = client_response("REGISTER", "sip:x", "201", SECRETS["201"],
                          f'Digest realm="callbox", nonce="{nonce}", qop="auth", algorithm=MD5')
    assert strict.verify("REGISTER", md5).reason == digest.BAD_ALGORITHM
    with pytest.raises(ValueError):
        DigestAuth("callbox", SECRETS.get, algorithms=("SHA-512-256",))


def _edit(value: str, name: str, new: str | None) -> str:
    scheme, p = parse_auth(value)
    if new is None:
        p.pop(name)
    else:
        p[name] = new
    return scheme + " " + ", ".join(f'{k}="{v}"' for k, v in p.items())


@pytest.mark.parametrize("name, new, reason", [
    ("realm", "other", digest.WRONG_REALM),
    ("algorithm", "SHA-512", digest.BAD_ALGORITHM),
    ("qop", "auth-int", digest.BAD_QOP),
    ("nc", "1", digest.MALFORMED),
    ("cnonce", None, digest.MALFORMED),
    ("response", "zz" * 32, digest.MALFORMED),
    ("response", "ab" * 16, digest.MALFORMED),
    ("response", "ab" * 32, digest.WRONG_CREDENTIALS),
    ("username", None, digest.MALFORMED),
    ("nonce", None, digest.MALFORMED),
    ("uri", None, digest.MALFORMED),
    ("uri", "sip:elsewhere", digest.WRONG_CREDENTIALS),
    ("nc", "00000002", digest.WRONG_CREDENTIALS),
])
def test_bad_answers(auth, name, new, reason):
    value = _answer(auth, "201", SECRETS["201"])
    assert auth.verify("REGISTER", value).ok  # the unedited answer is fine
    result = auth.verify("REGISTER", _edit(value, name, new))
    assert (result.ok, result.reason) == (False, reason)


@pytest.mark.parametrize("value", ["", "Basic MjAxOnB3", "Digest", 'Digest username="201", username="202"',
                                   "Digest username=201 realm=callbox", "garbage"])
def test_junk_credentials(auth, value):
    result = auth.verify("REGISTER", value)
    assert not result.ok and not result.stale and result.reason in (digest.MALFORMED, digest.NOT_DIGEST)


def test_client_response_refuses_what_it_cannot_answer():
    for challenge in ('Basic realm="x"', 'Digest nonce="n"', 'Digest realm="r"',
                      'Digest realm="r", nonce="n", algorithm=SHA-512', 'Digest realm="r", nonce="n", qop="auth-int"',
                      'Digest realm="r", nonce='):
        with pytest.raises(SipParseError):
            client_response("REGISTER", "sip:x", "u", "p", challenge)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_verify_never_crashes(text):
    auth = DigestAuth("callbox", SECRETS.get, clock=FakeClock())
    result = auth.verify("REGISTER", "Digest " + text)
    assert not result.ok


@settings(max_examples=50, deadline=None)
@given(user=st.text(min_size=1, max_size=20), password=st.text(max_size=20),
       alg=st.sampled_from(["SHA-256", "MD5"]), nc=st.integers(1, 2**32 - 1))
def test_client_response_round_trips_through_verify(user, password, alg, nc):
    secrets = {user: password}
    auth = DigestAuth("callbox", secrets.get, clock=FakeClock())
    value = _answer(auth, user, password, alg, nc=nc)
    assert auth.verify("REGISTER", value) == digest.AuthResult(True, user, False, digest.OK)


# -- replay protection: nonces bound to the client, the Request-URI, nonce counts


def _answer_for(auth, client, *, uri="sip:1002@192.168.1.10", method="INVITE", password=SECRETS["201"], **kw):
    challenge = next(c for c in auth.challenge(client=client) if "algorithm=SHA-256," in c)
    return client_response(method, uri, "201", password, challenge, **kw)


def test_a_nonce_is_bound_to_the_client_it_was_issued_to(auth):
    value = _answer_for(auth, "192.168.1.21")
    request = ("call-1", 2, "INVITE", "z9hG4bK1")
    assert auth.verify("INVITE", value, client="192.168.1.21", uri="sip:1002@192.168.1.10", request=request).ok
    # The same header, captured and sent from another host: a fresh challenge, not a failure.
    result = auth.verify("INVITE", value, client="192.168.1.66", uri="sip:1002@192.168.1.10", request=request)
    assert (result.ok, result.stale, result.reason) == (False, True, digest.FOREIGN_NONCE)


def test_the_digest_uri_must_be_the_request_uri(auth):
    value = _answer_for(auth, "192.168.1.21", uri="sip:1002@192.168.1.10")
    result = auth.verify("INVITE", value, client="192.168.1.21", uri="sip:0088161234567@192.168.1.10")
    assert (result.ok, result.stale, result.reason) == (False, False, digest.URI_MISMATCH)
    # The scheme and host compare without case; the user part does not.
    assert auth.verify("INVITE", value, client="192.168.1.21", uri="SIP:1002@192.168.1.10").ok
    value = _answer_for(auth, "192.168.1.21", uri="sip:alice@192.168.1.10")
    assert not auth.verify("INVITE", value, client="192.168.1.21", uri="sip:ALICE@192.168.1.10").ok


def test_a_nonce_count_answers_one_request_and_its_retransmissions(auth, clock):
    value = _answer_for(auth, "192.168.1.21", cnonce="c1", nc=1)
    first = ("call-1", 2, "INVITE", "z9hG4bK1")
    verify = lambda v, r: auth.verify("INVITE", v, client="192.168.1.21", uri="sip:1002@192.168.1.10",  # noqa: E731
                                      request=r)
    assert verify(value, first).ok
    clock.advance(0.5)
    assert verify(value, first).ok  # the phone sent it again: no answer reached it
    for other in (("call-2", 2, "INVITE", "z9hG4bK1"), ("call-1", 3, "INVITE", "z9hG4bK1"),
                  ("call-1", 2, "INVITE", "z9hG4bK2")):
        result = verify(value, other)
        assert (result.ok, result.stale, result.reason) == (False, True, digest.REPLAYED)
    # The next count of the same nonce is the phone's next request.
    nonce = parse_auth(value)[1]["nonce"]
    challenge = f'Digest realm="callbox", nonce="{nonce}", algorithm=SHA-256, qop="auth"'
    second = client_response("INVITE", "sip:1002@192.168.1.10", "201", SECRETS["201"], challenge, nc=2)
    assert verify(second, ("call-2", 1, "INVITE", "z9hG4bK3")).ok


def test_an_answer_without_qop_makes_its_nonce_single_use(auth):
    challenge = auth.challenge(client="192.168.1.21")[-1]
    nonce = parse_auth(challenge)[1]["nonce"]
    plain = client_response("INVITE", "sip:1002@192.168.1.10", "201", SECRETS["201"],
                            f'Digest realm="callbox", nonce="{nonce}", algorithm=MD5')
    assert "qop" not in plain and "nc=" not in plain
    auth.algorithms = ("MD5",)
    verify = lambda r: auth.verify("INVITE", plain, client="192.168.1.21", uri="sip:1002@192.168.1.10",  # noqa: E731
                                   request=r)
    assert verify(("call-1", 1, "INVITE", "b1")).ok
    assert verify(("call-1", 1, "INVITE", "b1")).ok
    assert verify(("call-2", 1, "INVITE", "b2")).reason == digest.REPLAYED


def test_nonce_counts_are_bounded_and_forgotten_when_the_nonce_goes_stale(clock):
    counts = digest.NonceCounts(ttl=300.0, size=3, per_nonce=4)
    now = clock()
    for i in range(3):
        assert counts.use(f"n{i}", now + i, "00000001", ("r", i), now + i)
    assert len(counts) == 3
    # A fourth pushes out the least recently used; it is then refused (a fresh challenge for it).
    assert counts.use("n3", now + 3, "00000001", ("r", 3), now + 3)
    assert len(counts) == 3
    assert not counts.use("n0", now, "00000002", ("r", 9), now + 4)
    # Counts per nonce are bounded too; the forgotten ones are refused, never answered again.
    for nc in range(2, 8):
        assert counts.use("n3", now + 3, f"{nc:08x}", ("s", nc), now + 5)
    assert not counts.use("n3", now + 3, "00000002", ("other",), now + 5)
    assert counts.use("n3", now + 3, "00000007", ("s", 7), now + 5)
    # Once stale, a nonce is forgotten.
    assert counts.use("n9", now + 400, "00000001", ("t",), now + 400)
    assert len(counts) == 1


def test_verify_without_client_uri_or_request_works_as_before(auth):
    # The provisioning server's HTTP digest passes none of them.
    value = _answer(auth, "201", SECRETS["201"])
    assert auth.verify("REGISTER", value).ok
    assert auth.verify("REGISTER", value).ok
