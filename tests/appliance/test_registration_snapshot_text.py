"""The registrations snapshot is written as json.dumps(registrar.snapshot()) would write it, though
each binding's text is made once while the binding stays the same."""

from __future__ import annotations

import json

from appliance.registration_snapshot import RegistrationSnapshot
from appliance.sip.bindings import ContactRequest, RegisterRequest
from appliance.sip.registrar import Registrar
from appliance.sip.source import Source


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def register(registrar: Registrar, ext: str, call_id: str, cseq: int = 1) -> None:
    source = Source("udp", "192.168.1.50", 5060 + int(ext) % 100)
    result = registrar.register(RegisterRequest(
        aor=ext, call_id=call_id, cseq=cseq, expires_header=3600, source=source, user_agent="desk phone",
        contacts=[ContactRequest(f"sip:{ext}@192.168.1.50:{source.port}", None, None, "")]))
    assert result.ok


def test_the_text_is_the_snapshot_as_json_through_changes_and_a_clock_step(tmp_path):
    mono, wall = Clock(1000.0), Clock(1_800_000_000.0)
    registrar = Registrar(mono, wall_clock=wall)
    for n in range(20):
        register(registrar, str(1000 + n), f"call-{n}")
    snapshot = RegistrationSnapshot(registrar, tmp_path / "registrations.json")
    assert snapshot.encoded() == json.dumps(registrar.snapshot()).encode()
    mono.now += 30
    wall.now += 30
    register(registrar, "1003", "call-3", cseq=2)  # a refresh: a new binding object
    register(registrar, "1005", "rebooted")  # a new Call-ID
    assert snapshot.encoded() == json.dumps(registrar.snapshot()).encode()
    wall.now += 3600  # the wall clock was set
    assert snapshot.encoded() == json.dumps(registrar.snapshot()).encode()
    registrar.remove_aor("1007")
    assert snapshot.encoded() == json.dumps(registrar.snapshot()).encode()


def test_what_is_written_restores(tmp_path):
    mono, wall = Clock(50.0), Clock(1_800_000_000.0)
    registrar = Registrar(mono, wall_clock=wall)
    for n in range(5):
        register(registrar, str(2000 + n), f"c{n}")
    path = tmp_path / "registrations.json"
    RegistrationSnapshot(registrar, path).close()  # the last snapshot, written at once
    again = Registrar(Clock(10.0), wall_clock=Clock(1_800_000_100.0))
    RegistrationSnapshot(again, path).restore()
    assert sorted(b.aor for b in again.all_bindings()) == [str(2000 + n) for n in range(5)]
