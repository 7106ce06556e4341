"""The registrar under random sequences of REGISTERs, expiries, removals and restarts (Hypothesis)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from appliance.sip.bindings import contact_key
from appliance.sip.registrar import Registrar
from appliance.sip.source import Source
from tests.sip.registrations import FakeClock, contact, register, star, state

# ---- stateful: random sequences keep the invariants -------------------------

AORS = ["1001", "1002", "1003"]
SOURCES = [Source("udp", "127.0.0.1", p) for p in (5062, 5064)] + [Source("tcp", "127.0.0.1", 5062)]
# A host in capitals (the same binding as in small letters) that still points at the phone: a snapshot
# restored keeps only Contacts that do (contact_rules.contact_refusal).
URIS = ["sip:{aor}@127.0.0.1:5062", "sip:{aor}@127.0.0.1:5064", "sip:{aor}@[::FFFF:127.0.0.1]:5066",
        "sip:x@127.0.0.1:7000"]
MAX_CONTACTS = 3
EXPIRY_CHOICES = [None, 0, 30, 60, 61, 300, 5000]


class RegistrarMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.wall = FakeClock(1_700_000_000.0)
        self.registrar = Registrar(
            self.clock,
            wall_clock=self.wall,
            min_expires=60,
            max_expires=3600,
            default_expires=600,
            max_contacts_per_aor=MAX_CONTACTS,
        )

    def snapshot_state(self) -> list[dict]:
        return state(self.registrar)

    @rule(
        aor=st.sampled_from(AORS),
        picks=st.lists(st.tuples(st.sampled_from(URIS), st.sampled_from(EXPIRY_CHOICES)), max_size=4),
        header=st.sampled_from(EXPIRY_CHOICES),
        call_id=st.sampled_from(["a", "b", "c"]),
        cseq=st.integers(1, 12),
        source=st.sampled_from(SOURCES),
    )
    def register(self, aor, picks, header, call_id, cseq, source):
        before = self.snapshot_state()
        had = {contact_key(b.contact): b for b in self.registrar.bindings(aor)}
        contacts = [contact(uri.format(aor=aor), expires=e) for uri, e in picks]
        result = self.registrar.register(register(*contacts, aor=aor, call_id=call_id, cseq=cseq,
                                                  expires=header, source=source))
        if result.status != 200 or not contacts:
            assert self.snapshot_state() == before
            assert not result.changed
        if result.status == 423:
            assert result.min_expires == 60
        if result.status == 200:
            now = self.clock()
            listed = {contact_key(b.contact): b.expires_in(now) for b in result.bindings}
            wanted = {}
            for c in contacts:
                e = c.expires if c.expires is not None else header if header is not None else 600
                wanted[contact_key(c.uri)] = min(e, 3600)
            resent = all(
                key in had and (had[key].call_id, had[key].cseq, had[key].source)
                == (call_id, cseq, source)
                for key in wanted
            )
            if resent:  # the same REGISTER again: the first answer, nothing changed
                wanted = {key: had[key].expires_in(now) for key in wanted}
                assert self.snapshot_state() == before
            for key, expiry in wanted.items():
                assert listed.get(key, 0) == expiry

    @rule(aor=st.sampled_from(AORS), call_id=st.sampled_from(["a", "b", "c"]), cseq=st.integers(1, 12))
    def unregister_all(self, aor, call_id, cseq):
        result = self.registrar.register(register(star(), aor=aor, call_id=call_id, cseq=cseq, expires=0))
        if result.status == 200:
            assert self.registrar.bindings(aor) == []

    @rule(seconds=st.sampled_from([1, 59, 60, 61, 300, 599, 600, 3600, 5000]))
    def advance(self, seconds):
        self.clock.advance(seconds)
        self.wall.advance(seconds)

    @rule()
    def expire(self):
        now = self.clock()
        for binding in self.registrar.expire():
            assert binding.expires_at <= now

    @rule(aor=st.sampled_from(AORS))
    def remove_aor(self, aor):
        self.registrar.remove_aor(aor)
        assert self.registrar.bindings(aor) == []

    @rule()
    def restart(self):
        before = self.snapshot_state()
        self.registrar.restore(self.registrar.snapshot())
        assert self.snapshot_state() == before

    @invariant()
    def no_expired_binding_is_returned(self):
        now = self.clock()
        for binding in self.registrar.all_bindings():
            assert binding.expires_at > now
        for aor in AORS:
            for binding in self.registrar.lookup(aor) + self.registrar.bindings(aor):
                assert binding.expires_at > now

    @invariant()
    def source_index_agrees_with_a_full_scan(self):
        live = self.registrar.all_bindings()
        for source in SOURCES:
            owners = {b.aor for b in live if b.source == source}
            found = self.registrar.is_registered_source(source)
            if owners:
                assert found in owners
            else:
                assert found is None

    @invariant()
    def contacts_per_aor_stay_within_the_limit(self):
        for aor in AORS:
            assert len(self.registrar.bindings(aor)) <= MAX_CONTACTS


TestRegistrarMachine = RegistrarMachine.TestCase
TestRegistrarMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
