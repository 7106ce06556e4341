"""Registering to a SIP provider: the pure machine against a fake provider
(appliance.sip.digest on the server side) and against sipp as the provider."""

from __future__ import annotations

import logging
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.errors import StateMachineError, ValidationError
from appliance.logic.routing import validate_trunk
from appliance.sip import message as sipmsg
from appliance.sip.digest import DigestAuth
from appliance.sip.parser import parse
from appliance.sip.trunk_registration import (
    KEEPALIVE_S,
    TIMER_F,
    PublicAddressChanged,
    RegistrationState,
    Send,
    StatusChanged,
    TrunkRegistration,
)
from tests.conftest import free_port

SCENARIOS = Path(__file__).parent / "scenarios"
SECRET = "Prov1derSecret"
REALM = "provider.test"


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def make_trunk(**over):
    data = dict(name="provider", kind="register", host=REALM, username="4822000111",
                secret=SECRET, register_expires=300)
    data.update(over)
    return validate_trunk(data)


def sends(actions) -> list[Send]:
    return [a for a in actions if isinstance(a, Send)]


def requests(actions) -> list[sipmsg.SipMessage]:
    """What went on the wire, parsed back from bytes as the provider would see it."""
    return [parse(a.to_bytes()) for a in sends(actions) if not isinstance(a.payload, bytes)]


def states(actions) -> list[RegistrationState]:
    return [a.state for a in actions if isinstance(a, StatusChanged)]


class FakeProvider:
    """A registrar with real digest checking: answers one REGISTER at a time."""

    def __init__(self, clock: FakeClock, secret: str = SECRET, *, min_expires: int = 0,
                 grant: int | None = None, via_report: tuple[str, int] | None = None):
        self.auth = DigestAuth(REALM, lambda user: secret if user == "4822000111" else None,
                               algorithms=("MD5",), clock=clock)
        self.min_expires = min_expires
        self.grant = grant
        self.via_report = via_report
        self.seen: list[sipmsg.SipMessage] = []

    def answer(self, req: sipmsg.SipMessage, status: int | None = None, **headers) -> sipmsg.SipMessage:
        self.seen.append(req)
        if status is None:
            status, headers = self._decide(req)
        via = req.top_via
        if status == 200 and self.via_report:
            via.params["received"], via.params["rport"] = self.via_report[0], str(self.via_report[1])
        out = [("Via", str(via)), ("From", req.get("From")), ("To", req.get("To") + ";tag=p1"),
               ("Call-ID", req.call_id), ("CSeq", req.get("CSeq"))]
        out += [(k.replace("_", "-"), v) for k, v in headers.items()]
        return parse(sipmsg.SipMessage.response(status, None, out).to_bytes())

    def _decide(self, req):
        cred = req.get("Authorization")
        if cred is None:
            return 401, {"WWW_Authenticate": self.auth.challenge()[0]}
        result = self.auth.verify("REGISTER", cred)
        if result.stale:
            return 401, {"WWW_Authenticate": self.auth.challenge(stale=True)[0]}
        if not result.ok:
            return 403, {}
        expires = int(req.get("Expires"))
        if expires and expires < self.min_expires:
            return 423, {"Min_Expires": str(self.min_expires)}
        granted = self.grant if self.grant is not None else expires
        contact = req.contacts[-1]
        return 200, {"Contact": f"<{contact.uri}>;expires={granted}"}


def register(reg: TrunkRegistration, provider: FakeProvider, limit: int = 6) -> list:
    """Run requests and answers until the machine stops sending; all actions seen."""
    seen = reg.start()
    pending = requests(seen)
    while pending and limit:
        limit -= 1
        actions = reg.on_response(provider.answer(pending[-1]))
        seen += actions
        pending = requests(actions)
    return seen


@pytest.fixture
def clock():
    return FakeClock()


def test_first_register_is_well_formed(clock):
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    actions = reg.start()
    assert states(actions) == [RegistrationState.REGISTERING]
    (req,) = requests(actions)
    assert (req.method, req.uri) == ("REGISTER", "sip:provider.test")
    via = req.top_via
    assert "rport" in via.params and via.branch.startswith("z9hG4bK")
    assert (via.host, via.port) == ("192.168.1.10", 5060)
    assert str(req.from_addr.uri) == str(req.to_addr.uri) == "sip:4822000111@provider.test"
    assert req.from_addr.tag and req.to_addr.tag is None
    assert str(req.contacts[0].uri) == "sip:4822000111@192.168.1.10:5060"
    assert req.get("Expires") == "300"
    assert req.get("Authorization") is None
    (send,) = sends(actions)
    assert (send.host, send.port, send.transport) == ("provider.test", 5060, "udp")


def test_external_address_goes_into_contact_and_via(clock):
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060", external_address="203.0.113.7")
    (req,) = requests(reg.start())
    assert str(req.contacts[0].uri) == "sip:4822000111@203.0.113.7:5060"
    assert req.top_via.host == "203.0.113.7"


def test_challenge_is_answered_and_verifies_against_the_server_side(clock):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    actions = register(reg, provider)
    assert states(actions) == [RegistrationState.REGISTERING, RegistrationState.REGISTERED]
    first, second = provider.seen
    assert second.call_id == first.call_id
    assert second.cseq[0] == first.cseq[0] + 1
    assert second.top_via.branch != first.top_via.branch
    assert second.from_addr.tag == first.from_addr.tag
    # The server side of our own digest code accepts what the client side wrote.
    result = provider.auth.verify("REGISTER", second.get("Authorization"))
    assert result.ok and result.user == "4822000111"
    assert reg.status()["state"] == "registered"


def test_proxy_challenge_is_answered_with_proxy_authorization(clock):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    challenge = provider.auth.challenge()[0]
    (again,) = requests(reg.on_response(provider.answer(req, 407, Proxy_Authenticate=challenge)))
    assert again.get("Authorization") is None
    assert provider.auth.verify("REGISTER", again.get("Proxy-Authorization")).ok


def test_wrong_secret_fails_once_without_looping(clock):
    provider = FakeProvider(clock, secret="SomethingElse9")
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    (answered,) = requests(reg.on_response(provider.answer(req)))
    # The provider challenges again (not stale): the password is wrong; do not answer twice.
    again = provider.answer(answered, 401, WWW_Authenticate=provider.auth.challenge()[0])
    actions = reg.on_response(again)
    assert requests(actions) == []
    assert states(actions) == [RegistrationState.FAILED]
    status = reg.status()
    assert "user name or password" in status["last_error"]
    assert status["next_attempt"] >= clock.now + 600  # the long backoff: providers ban hammering


def test_stale_nonce_is_retried_with_the_new_nonce(clock):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    (answered,) = requests(reg.on_response(provider.answer(req)))
    stale = provider.auth.challenge(stale=True)[0]
    (retry,) = requests(reg.on_response(provider.answer(answered, 401, WWW_Authenticate=stale)))
    assert sipmsg.parse_auth(retry.get("Authorization"))[1]["nonce"] == sipmsg.parse_auth(stale)[1]["nonce"]
    assert provider.auth.verify("REGISTER", retry.get("Authorization")).ok
    reg.on_response(provider.answer(retry))
    assert reg.state is RegistrationState.REGISTERED


def test_foreign_realm_is_not_answered_when_the_trunk_names_its_realm(clock):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(realm="other.example"), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    actions = reg.on_response(provider.answer(req))
    assert requests(actions) == []
    assert reg.state is RegistrationState.FAILED and "realm" in reg.last_error


def test_refresh_at_eighty_percent_of_contact_expires(clock):
    provider = FakeProvider(clock, grant=60)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    register(reg, provider)
    start = clock.now
    assert reg.status()["registered_until"] == start + 60
    assert reg.next_wakeup() <= start + 48
    clock.advance(47.9)
    assert requests(reg.on_timer(clock.now)) == []
    clock.advance(0.1)
    (refresh,) = requests(reg.on_timer(clock.now))
    assert refresh.call_id == provider.seen[0].call_id
    assert refresh.cseq[0] == provider.seen[-1].cseq[0] + 1
    # The refresh reuses the nonce with the next count, and it still verifies.
    params = sipmsg.parse_auth(refresh.get("Authorization"))[1]
    assert params["nc"] == "00000002"
    assert provider.auth.verify("REGISTER", refresh.get("Authorization")).ok
    reg.on_response(provider.answer(refresh))
    assert reg.status()["registered_until"] == clock.now + 60


def test_expires_header_is_used_when_the_contact_has_none(clock):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    (answered,) = requests(reg.on_response(provider.answer(req)))
    reg.on_response(provider.answer(answered, 200, Contact=f"<{answered.contacts[0].uri}>", Expires="120"))
    assert reg.status()["registered_until"] == clock.now + 120
    clock.advance(96)
    assert len(requests(reg.on_timer(clock.now))) == 1


def test_interval_too_brief_retries_with_min_expires(clock):
    provider = FakeProvider(clock, min_expires=600)
    reg = TrunkRegistration(make_trunk(register_expires=120), clock, "192.168.1.10:5060")
    actions = register(reg, provider)
    assert reg.state is RegistrationState.REGISTERED
    assert [r.get("Expires") for r in provider.seen] == ["120", "120", "600"]
    assert RegistrationState.FAILED not in states(actions)
    assert reg.status()["registered_until"] == clock.now + 600


def test_interval_too_brief_without_a_usable_minimum_fails(clock):
    reg = TrunkRegistration(make_trunk(register_expires=120), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    provider = FakeProvider(clock)
    reg.on_response(provider.answer(req, 423, Min_Expires="60"))
    assert reg.state is RegistrationState.FAILED


def test_udp_retransmits_then_times_out_with_growing_backoff(clock):
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (first,) = requests(reg.start())
    # T1 doubling up to T2: 0.5, 1, 2, 4, 4 ... all the same request.
    gaps = []
    last = clock.now
    while reg.state is RegistrationState.REGISTERING:
        clock.now = reg.next_wakeup()
        actions = reg.on_timer(clock.now)
        for req in requests(actions):
            assert req.to_bytes() == first.to_bytes()
            gaps.append(clock.now - last)
            last = clock.now
    assert gaps[:5] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert reg.state is RegistrationState.FAILED and "no answer" in reg.last_error
    delays = []
    for _ in range(9):
        failed_at = clock.now
        delays.append(reg.status()["next_attempt"] - failed_at)
        clock.now = reg.status()["next_attempt"]
        assert len(requests(reg.on_timer(clock.now))) == 1
        assert reg.state is RegistrationState.REGISTERING
        clock.now += TIMER_F
        reg.on_timer(clock.now)
        assert reg.state is RegistrationState.FAILED
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_success_resets_the_backoff(clock):
    provider = FakeProvider(clock, grant=60)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    reg.start()
    for _ in range(3):  # three timeouts: backoff reaches 20 s
        clock.now += TIMER_F
        reg.on_timer(clock.now)
        clock.now = reg.status()["next_attempt"]
        pending = requests(reg.on_timer(clock.now))
    while pending:
        pending = requests(reg.on_response(provider.answer(pending[-1])))
    assert reg.state is RegistrationState.REGISTERED
    clock.now = reg.next_wakeup()
    while reg.state is RegistrationState.REGISTERED:
        clock.now = reg.next_wakeup()
        reg.on_timer(clock.now)  # keep-alives, then a refresh that nobody answers
    assert reg.status()["next_attempt"] - clock.now == 5


def test_forbidden_fails_with_the_longer_backoff(clock):
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    actions = reg.on_response(FakeProvider(clock).answer(req, 403))
    assert states(actions) == [RegistrationState.FAILED]
    status = reg.status()
    assert "403" in status["last_error"]
    assert status["registered_until"] is None
    assert status["next_attempt"] - clock.now >= 600


def test_server_error_counts_as_no_answer_and_honours_retry_after(clock):
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    reg.on_response(FakeProvider(clock).answer(req, 503, Retry_After="120"))
    assert reg.state is RegistrationState.FAILED
    assert reg.status()["next_attempt"] - clock.now == 120


def test_responses_to_other_transactions_are_ignored(clock):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    (req,) = requests(reg.start())
    (answered,) = requests(reg.on_response(provider.answer(req)))
    # A retransmitted 401 for the first request arrives late: no second answer.
    assert reg.on_response(provider.answer(req, 401, WWW_Authenticate=provider.auth.challenge()[0])) == []
    other = provider.answer(answered, 200)
    other.set("Call-ID", "someone-else")
    assert reg.on_response(other) == []
    assert reg.state is RegistrationState.REGISTERING


def test_keepalive_every_25_seconds_while_registered(clock):
    provider = FakeProvider(clock, grant=3600)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    register(reg, provider)
    clock.advance(KEEPALIVE_S - 1)
    assert reg.on_timer(clock.now) == []
    clock.advance(1)
    (ka,) = sends(reg.on_timer(clock.now))
    assert ka.payload == b"\r\n\r\n" and (ka.host, ka.port) == ("provider.test", 5060)
    clock.advance(KEEPALIVE_S)
    assert [s.payload for s in sends(reg.on_timer(clock.now))] == [b"\r\n\r\n"]


def test_nat_binding_is_learnt_and_the_contact_moves(clock):
    provider = FakeProvider(clock, grant=60, via_report=("198.51.100.9", 40123))
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    actions = register(reg, provider)
    assert [a.address for a in actions if isinstance(a, PublicAddressChanged)] == [("198.51.100.9", 40123)]
    assert reg.public_address == ("198.51.100.9", 40123)
    moved = provider.seen[-1]
    contacts = [(str(c.uri), c.params.get("expires")) for c in moved.contacts]
    assert contacts == [("sip:4822000111@192.168.1.10:5060", "0"), ("sip:4822000111@198.51.100.9:40123", None)]
    assert reg.contact_address == ("198.51.100.9", 40123)
    assert reg.status()["public_address"] == "198.51.100.9:40123"
    assert len(provider.seen) == 3  # no loop: the same report does not move it again


def test_configured_external_address_wins_over_the_report(clock):
    provider = FakeProvider(clock, grant=60, via_report=("198.51.100.9", 40123))
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060", external_address="203.0.113.7:5070")
    register(reg, provider)
    assert reg.public_address == ("198.51.100.9", 40123)
    assert reg.contact_address == ("203.0.113.7", 5070)
    assert len(provider.seen) == 2


def test_stop_unregisters_with_expires_zero(clock):
    provider = FakeProvider(clock, grant=60)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    register(reg, provider)
    actions = reg.stop()
    (req,) = requests(actions)
    assert req.get("Expires") == "0" and req.get("Contact") == "*"
    assert provider.auth.verify("REGISTER", req.get("Authorization")).ok
    reg.on_response(provider.answer(req, 200))
    assert reg.state is RegistrationState.UNREGISTERED
    assert reg.next_wakeup() is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(
    st.integers(100, 699),
    st.sampled_from([{}, {"Min_Expires": "900"}, {"Min_Expires": "x"}, {"Retry_After": "30"},
                     {"WWW_Authenticate": 'Digest realm="provider.test", nonce="n1", qop="auth"'},
                     {"WWW_Authenticate": 'Digest realm="provider.test", nonce="n2", stale=true'},
                     {"WWW_Authenticate": "Basic realm=x"}, {"Contact": "<sip:x@y>;expires=30"},
                     {"Contact": "garbage <<"}, {"Expires": "abc"}]),
    st.floats(0, 400)), max_size=12))
def test_any_answer_leaves_a_consistent_machine(script):
    clock = FakeClock()
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    pending = requests(reg.start())
    for status, headers, wait in script:
        if pending:
            pending = requests(reg.on_response(provider.answer(pending[-1], status, **headers))) or pending
        clock.advance(wait)
        pending = requests(reg.on_timer(clock.now)) or pending
        assert reg.state in RegistrationState
        wake = reg.next_wakeup()
        assert wake is not None or reg.state is RegistrationState.UNREGISTERED
        if reg.state is RegistrationState.FAILED:
            assert reg.last_error and reg.next_attempt is not None


def test_a_trunk_that_does_not_register_has_no_registration(clock):
    gateway = validate_trunk(dict(name="gsm", kind="peer", host="192.168.1.50"))
    with pytest.raises(ValidationError, match="does not register"):
        TrunkRegistration(gateway, clock, "192.168.1.10:5060")


def test_transitions_outside_the_table_are_refused(clock):
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    from appliance.sip.trunk_registration import Ev
    with pytest.raises(StateMachineError, match="trunk registration provider: event accepted is not allowed "
                                                "in state unregistered"):
        reg._fire(Ev.ACCEPTED)
    assert reg.state is RegistrationState.UNREGISTERED


def test_each_change_is_logged_once_and_a_refresh_is_not(clock, caplog):
    provider = FakeProvider(clock)
    reg = TrunkRegistration(make_trunk(), clock, "192.168.1.10:5060")
    with caplog.at_level(logging.INFO, logger="callbox.sip.trunk"):
        register(reg, provider)
        clock.now = reg.registered_until - 1
        pending = requests(reg.on_timer(clock.now))
        while pending:
            pending = requests(reg.on_response(provider.answer(pending[-1])))
        reg.stop()
    changes = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert changes == ["trunk provider: unregistered -> registering",
                       "trunk provider: registering -> registered",
                       "trunk provider: registered -> unregistering"]
    assert reg.state is RegistrationState.UNREGISTERING


# --------------------------------------------------------------------------
# Against sipp as the provider

def wait_udp_bound(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Wait until something listens on the UDP port (sipp takes a moment to start)."""
    deadline = time.monotonic() + timeout
    needle = f":{port:04X}"
    while time.monotonic() < deadline:
        rows = Path("/proc/net/udp").read_text().splitlines()[1:]
        if any(row.split()[1].endswith(needle) for row in rows):
            return
        assert proc.poll() is None, proc.communicate()[0].decode()[-2000:]
        time.sleep(0.05)
    raise AssertionError(f"nothing bound UDP port {port}")


class SippProvider:
    """sipp running provider_register.xml, and the box's side of the wire: one UDP socket."""

    def __init__(self, tmp_path: Path, secret: str):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.our_port = self.sock.getsockname()[1]
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["sipp", f"127.0.0.1:{self.our_port}", "-sf", str(SCENARIOS / "provider_register.xml"),
             "-i", "127.0.0.1", "-p", str(self.port), "-m", "1", "-t", "u1", "-nostdin",
             "-set", "user", "4822000111", "-set", "secret", secret,
             "-timeout", "30s", "-timeout_error", "-trace_err", "-trace_msg"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)

    def run(self, reg: TrunkRegistration, clock: FakeClock, actions: list, until, seen: list) -> None:
        """Move bytes between the machine and sipp until `until()` holds."""
        for _ in range(200):
            for a in actions:
                seen.append(a)
                if isinstance(a, Send):
                    self.sock.sendto(a.to_bytes(), ("127.0.0.1", self.port))
            if until():
                return
            ready, _, _ = select.select([self.sock], [], [], 0.5)
            if not ready:
                assert self.proc.poll() is None, f"sipp ended early; state {reg.status()}"
                actions = []
                if reg.in_flight:
                    # Nothing yet: let the transaction's own timer retransmit.
                    clock.now = max(clock.now, reg.next_wakeup())
                    actions = reg.on_timer(clock.now)
                continue
            data, _ = self.sock.recvfrom(65535)
            actions = reg.on_response(parse(data))
        raise AssertionError(f"no progress; state {reg.status()}")

    def finish(self) -> tuple[int, str]:
        out, err = self.proc.communicate(timeout=40)
        return self.proc.returncode, out.decode()[-3000:] + err.decode()[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.sock.close()


@pytest.fixture
def sipp_provider(tmp_path):
    made: list[SippProvider] = []

    def start(secret: str = SECRET) -> SippProvider:
        made.append(SippProvider(tmp_path, secret))
        wait_udp_bound(made[-1].port, made[-1].proc)
        return made[-1]

    yield start
    for p in made:
        p.close()


def sipp_trunk(provider: SippProvider, secret: str = SECRET):
    return make_trunk(host="127.0.0.1", port=provider.port, from_domain=REALM, realm=REALM, secret=secret)


@pytest.mark.peers
@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")
def test_registers_to_sipp_as_provider(sipp_provider):
    provider = sipp_provider()
    clock = FakeClock()
    # The Contact names a port we do not listen on: the provider's rport shows the real one.
    reg = TrunkRegistration(sipp_trunk(provider), clock, "127.0.0.1:5999")
    seen: list = []
    provider.run(reg, clock, reg.start(),
                 lambda: reg.contact_address == ("127.0.0.1", provider.our_port) and not reg.in_flight, seen)
    assert reg.public_address == ("127.0.0.1", provider.our_port)
    assert reg.status()["registered_until"] == clock.now + 60
    assert reg.last_error is None

    # The refresh, due at 48 s of the 60 granted; the clock is ours to move.
    clock.advance(48)
    refreshed_at = clock.now
    refresh = reg.on_timer(clock.now)
    assert len(requests(refresh)) == 1
    provider.run(reg, clock, refresh, lambda: not reg.in_flight, seen)
    assert reg.status()["registered_until"] == refreshed_at + 60
    assert reg.state is RegistrationState.REGISTERED
    assert states(seen) == [RegistrationState.REGISTERING, RegistrationState.REGISTERED]
    code, output = provider.finish()
    assert code == 0, output


@pytest.mark.peers
@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")
def test_sipp_provider_refuses_a_wrong_secret(sipp_provider):
    provider = sipp_provider()
    clock = FakeClock()
    reg = TrunkRegistration(sipp_trunk(provider, secret="NotTheSecret42"), clock, "127.0.0.1:5999")
    seen: list = []
    provider.run(reg, clock, reg.start(), lambda: reg.state is RegistrationState.FAILED, seen)
    assert "403" in reg.last_error
    assert reg.public_address is None
    code, _ = provider.finish()
    assert code != 0
