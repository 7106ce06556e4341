"""Trunks with sipp as the outside world: an inbound DID reaches an extension, an outbound call
passes the provider's digest challenge, a provider answering 503 fails over to the next trunk,
and class of service keeps an internal-only extension off the trunks."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from tests.conftest import free_port
from tests.integration.sipp import sipp_available
from tests.integration.sipp_providers import start_provider
from tests.integration.test_calls import call_records, registered_phone

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = [pytest.mark.peers, pytest.mark.skipif(not sipp_available(), reason="sipp is not installed")]


def provider(sipp_procs, tmp_path, ip: str, scenario: str) -> int:
    """A provider for one call, listening by the time this returns."""
    port = start_provider(sipp_procs, tmp_path, ip, scenario, one_call=True)
    time.sleep(0.3)
    return port


def test_inbound_did_reaches_the_extension(box, phones, sipp_procs, tmp_path):
    phone = registered_phone(box, phones, "1001")
    assert box.api("POST", "/api/trunks", {"name": "gw", "kind": "peer", "host": "127.0.0.2",
                                           "peer_networks": ["127.0.0.2/32"]})[0] == 201
    status, body = box.api("PUT", "/api/routes", {"inbound": [{"did": "48221234567",
                                                               "destination": "extension:1001"}]})
    assert status == 200, body
    result: dict = {}

    def call_in() -> None:
        result["sipp"] = subprocess.run(
            ["sipp", f"127.0.0.1:{box.sip_port}", "-sn", "uac", "-s", "48221234567", "-i", "127.0.0.2",
             "-p", str(free_port(host="127.0.0.2")), "-m", "1", "-d", "1000", "-nostdin", "-timeout", "30s",
             "-timeout_error", "-trace_err"], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    thread = threading.Thread(target=call_in)
    thread.start()
    incoming = phone.wait_for("incoming", timeout=15)
    assert "sipp" in incoming["from"]
    phone.answer()
    thread.join(60)
    assert result["sipp"].returncode == 0, result["sipp"].stdout[-2000:]
    record = call_records(box)[0]
    assert (record["direction"], record["trunk"], record["callee"]) == ("inbound", "gw", "1001")
    assert record["disposition"] == "ANSWERED"


def _outbound_setup(box, trunks: list[dict], route_trunks: list[str]) -> None:
    for t in trunks:
        status, body = box.api("POST", "/api/trunks", t)
        assert status == 201, body
    status, body = box.api("PUT", "/api/routes", {"outbound": [
        {"name": "national", "patterns": ["0XXXXXXXXX"], "trunks": route_trunks}]})
    assert status == 200, body


def test_outbound_call_passes_the_providers_digest_challenge(box, phones, sipp_procs, tmp_path):
    port = provider(sipp_procs, tmp_path, "127.0.0.3", "provider_uas_auth.xml")
    _outbound_setup(box, [{"name": "prov", "kind": "peer", "host": "127.0.0.3", "port": port,
                           "username": "boxuser", "secret": "Provider-secret-1"}], ["prov"])
    phone = registered_phone(box, phones, "1001")
    phone.call(f"sip:0221234567@127.0.0.1:{box.sip_port}")
    phone.wait_for("call_state", state="CONFIRMED", timeout=20)
    phone.hangup()
    assert sipp_procs[0].wait(timeout=30) == 0, sipp_procs[0].stdout.read()[-2000:]
    record = call_records(box)[0]
    assert (record["direction"], record["trunk"], record["disposition"]) == ("outbound", "prov", "ANSWERED")


def test_a_provider_answering_503_fails_over_to_the_next_trunk(box, phones, sipp_procs, tmp_path):
    down = provider(sipp_procs, tmp_path, "127.0.0.4", "provider_503.xml")
    up = provider(sipp_procs, tmp_path, "127.0.0.3", "provider_uas_auth.xml")
    _outbound_setup(box, [
        {"name": "down", "kind": "peer", "host": "127.0.0.4", "port": down},
        {"name": "prov", "kind": "peer", "host": "127.0.0.3", "port": up, "username": "boxuser",
         "secret": "Provider-secret-1"}], ["down", "prov"])
    phone = registered_phone(box, phones, "1001")
    phone.call(f"sip:0221234567@127.0.0.1:{box.sip_port}")
    phone.wait_for("call_state", state="CONFIRMED", timeout=25)
    phone.hangup()
    assert sipp_procs[0].wait(timeout=30) == 0  # the 503 provider was tried
    assert sipp_procs[1].wait(timeout=30) == 0  # and the call went through the second
    assert call_records(box)[0]["trunk"] == "prov"


def test_class_of_service_keeps_an_internal_extension_off_the_trunks(box, phones, sipp_procs, tmp_path):
    port = provider(sipp_procs, tmp_path, "127.0.0.3", "provider_uas_auth.xml")
    _outbound_setup(box, [{"name": "prov", "kind": "peer", "host": "127.0.0.3", "port": port,
                           "username": "boxuser", "secret": "Provider-secret-1"}], ["prov"])
    phone = registered_phone(box, phones, "1001")
    box.api("PATCH", "/api/extensions/1001", {"class_of_service": "internal"})
    phone.call(f"sip:0221234567@127.0.0.1:{box.sip_port}")
    assert phone.wait_for("call_state", state="DISCONNECTED", timeout=15)["last_status"] == 403
    time.sleep(0.5)
    assert sipp_procs[0].poll() is None  # the provider never heard of it
    # Emergency numbers are always allowed through.
    status, body = box.api("PUT", "/api/routes", {"outbound": [
        {"name": "emergency", "patterns": ["112"], "trunks": ["prov"]}]})
    assert status == 200, body
    phone.call(f"sip:112@127.0.0.1:{box.sip_port}")
    phone.wait_for("call_state", state="CONFIRMED", timeout=20)
    phone.hangup()


def test_the_box_registers_to_its_sip_provider(box, sipp_procs, tmp_path):
    from tests.integration.test_events import EventReader
    port = provider(sipp_procs, tmp_path, "127.0.0.3", "provider_registrar.xml")
    reader = EventReader(box, kinds="trunk")
    try:
        status, body = box.api("POST", "/api/trunks", {"name": "prov", "kind": "register", "host": "127.0.0.3",
                                                       "port": port, "username": "boxuser",
                                                       "secret": "Provider-secret-1", "register": True})
        assert status == 201, body
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            event = reader.next("trunk", timeout=15)
            if event.get("state") == "registered":
                break
        else:
            raise AssertionError("no registered event")
    finally:
        reader.close()
    trunk = box.api("GET", "/api/trunks")[1]["trunks"][0]
    assert trunk["status"]["state"] == "registered"
    assert sipp_procs[0].wait(timeout=15) == 0  # the provider checked the digest


def test_behind_nat_the_provider_is_given_the_public_address(core_factory, phones, sipp_procs, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2, "sip.external_address": "127.0.0.9"})
    port = provider(sipp_procs, tmp_path, "127.0.0.3", "provider_nat_check.xml")
    _outbound_setup(box, [{"name": "prov", "kind": "peer", "host": "127.0.0.3", "port": port,
                           "username": "boxuser", "secret": "Provider-secret-1"}], ["prov"])
    phone = registered_phone(box, phones, "1001")
    phone.call(f"sip:0221234567@127.0.0.1:{box.sip_port}")
    phone.wait_for("call_state", state="CONFIRMED", timeout=20)  # the SDP named the public address
    phone.hangup()
    assert sipp_procs[0].wait(timeout=30) == 0, sipp_procs[0].stdout.read()[-2000:]
