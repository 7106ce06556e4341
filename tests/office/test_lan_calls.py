"""The box on an office LAN exactly as it ships: default settings, phones on other hosts."""

from __future__ import annotations

import time

import pytest

from tests.integration.baresip_peer import Baresip, baresip_available
from tests.peers.audio import tone_present


def test_the_box_tells_phones_its_lan_address_not_loopback(lan, office):
    box = office()
    status, health = box.api("GET", "/api/health")
    assert status == 200
    net = health["network"]
    assert net["address"] == box.host.address
    assert net["interface"] == "eth0" and net["reason"] == "the interface of the default route"
    assert not net["loopback_only"]
    # The engine workers listen where phones can reach them.
    workers = box.engine_ready()
    status, engine = box.api("GET", "/api/engine")
    assert net["engine"] == box.host.address
    assert "127.0.0.1" not in box.log().split("phones reach the box at", 1)[1].splitlines()[0]


def test_two_baresip_phones_on_two_hosts_call_each_other_with_default_settings(lan, office, tmp_path):
    if not baresip_available():
        pytest.skip("baresip is not installed")
    box = office()
    desk1, desk2 = lan.host("desk1"), lan.host("desk2")
    box.engine_ready()
    e1, e2 = box.add_extension("3201"), box.add_extension("3202")
    heard1, heard2 = tmp_path / "heard1", tmp_path / "heard2"
    heard1.mkdir(), heard2.mkdir()
    anna = Baresip(tmp_path / "anna", heard=heard1, host=desk1, tone_hz=1000)
    piotr = Baresip(tmp_path / "piotr", heard=heard2, host=desk2, tone_hz=700)
    try:
        anna.register("3201", e1["secret"], 5060, box=box.host.address)
        piotr.register("3202", e2["secret"], 5060, box=box.host.address)
        anna.wait_event("REGISTER_OK", timeout=15)
        piotr.wait_event("REGISTER_OK", timeout=15)
        anna.command("dial", f"sip:3202@{box.host.address}")
        piotr.wait_event("CALL_INCOMING", timeout=15)
        piotr.command("accept")
        anna.wait_event("CALL_ESTABLISHED", timeout=15)
        time.sleep(3.0)
        anna.command("hangup")
        piotr.wait_event("CALL_CLOSED", timeout=10)
    finally:
        anna.close()
        piotr.close()
    got1, got2 = sorted(heard1.glob("*dec*.wav")), sorted(heard2.glob("*dec*.wav"))
    assert got1 and got2, (list(heard1.iterdir()), list(heard2.iterdir()), box.log())
    assert tone_present(got1[0], 700, start_s=0.5), "desk1 did not hear desk2"
    assert tone_present(got2[0], 1000, start_s=0.5), "desk2 did not hear desk1"
