"""A day at the office: the IVR and a queue across a router, provisioning, a trunk on the LAN,
and the box's address changing under running phones."""

from __future__ import annotations

import base64
import re
import socket
import threading
import time

import pytest

from tests.integration.rawphone import register as raw_register
from tests.integration.sipp import sipp_available
from tests.integration.test_callcenter import FLOWS
from tests.office.lanbox import ns_http
from tests.peers.audio import tone_present, write_sine
from tests.peers.phones import Phone


@pytest.fixture
def lan_phones():
    made: list[Phone] = []

    def make(name: str, host) -> Phone:
        p = Phone(name, host=host)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def registered(box, lan_phones, number: str, host, at: str | None = None) -> Phone:
    ext = box.add_extension(number)
    phone = lan_phones(f"ext{number}", host)
    phone.register(f"sip:{at or box.host.address}:5060", number, ext["secret"])
    phone.wait_for("reg_state", code=200, timeout=15)
    phone.secret = ext["secret"]
    return phone


def audio_both_ways(a: Phone, b: Phone, tmp_path, tag: str, seconds: float = 1.5) -> None:
    a.play_tone(1000)
    b.play_tone(400)
    a.record(tmp_path / f"{tag}-a.wav")
    b.record(tmp_path / f"{tag}-b.wav")
    time.sleep(seconds)
    a.stop_record()
    b.stop_record()
    assert tone_present(tmp_path / f"{tag}-b.wav", 1000, start_s=0.3), f"{tag}: b did not hear a"
    assert tone_present(tmp_path / f"{tag}-a.wav", 400, start_s=0.3), f"{tag}: a did not hear b"


def test_a_phone_behind_a_router_reaches_an_agent_through_the_ivr_and_a_queue(lan, office, lan_phones, tmp_path):
    box = office()
    second, _router = lan.subnet()
    shop = lan.host("shop", bridge=second)          # the customer desk on another subnet
    desk = lan.host("agentdesk")
    box.engine_ready()
    (box.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
    write_sine(box.data_dir / "prompts" / "en" / "menu.wav", 600, 1.0)
    customer = registered(box, lan_phones, "1001", shop)
    agent = registered(box, lan_phones, "1010", desk)
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 15})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] == 200
    assert box.api("POST", "/api/agents/1010/login", {})[1]["status"] == "AVAILABLE"
    customer.call(f"sip:500@{box.host.address}:5060")
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)
    customer.record(tmp_path / "menu.wav")
    time.sleep(1.2)
    customer.stop_record()
    assert tone_present(tmp_path / "menu.wav", 600, start_s=0.2)
    customer.dtmf("1")
    incoming = agent.wait_for("incoming", timeout=15)
    assert "1001" in incoming["from"]
    agent.answer()
    time.sleep(0.5)
    audio_both_ways(customer, agent, tmp_path, "queue")
    customer.hangup()
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    regs = {r["aor"]: r for r in box.registrations()}
    assert shop.address in regs["1001"]["contact"]  # registered from the far subnet, as itself


def test_a_phone_on_the_lan_fetches_its_file_and_registers_with_what_it_got(lan, office, lan_phones):
    box = office()
    desk = lan.host("yealink")
    box.add_extension("2001")
    mac = "001565aabbcc"
    status, bound = box.api("POST", "/api/phones", {"mac": mac, "extension": "2001", "vendor": "yealink"})
    assert status in (200, 201), bound
    status, phones = box.api("GET", "/api/phones")
    url = phones["url"]
    assert url.startswith(f"http://{box.host.address}:"), url      # never 127.0.0.1
    port = int(url.split(":")[2].split("/")[0])
    token = base64.b64encode(f"{mac}:{bound['password']}".encode()).decode()
    status, _, body = ns_http(desk, box.host.address, port, "GET", f"/p/{mac}.cfg",
                              headers={"Authorization": f"Basic {token}"})
    assert status == 200, body
    cfg = dict(re.findall(r"^([\w.]+) = (.*)$", body.decode(), re.M))
    assert cfg["account.1.sip_server.1.address"] == box.host.address
    phone = lan_phones("yealink", desk)
    phone.register(f"sip:{cfg['account.1.sip_server.1.address']}:{cfg['account.1.sip_server.1.port']}",
                   cfg["account.1.user_name"], cfg["account.1.password"])
    phone.wait_for("reg_state", code=200, timeout=15)
    assert any(r["aor"] == "2001" and desk.address in r["contact"] for r in box.registrations())


def test_a_sip_gateway_on_another_host_brings_a_call_to_a_phone(lan, office, lan_phones, tmp_path):
    """An FXO/GSM gateway on the LAN as an IP-authenticated trunk: its call reaches a desk phone."""
    if not sipp_available():
        pytest.skip("sipp is not installed")
    box = office()
    gateway, desk = lan.host("gateway"), lan.host("desk")
    box.engine_ready()
    phone = registered(box, lan_phones, "1002", desk)
    assert box.api("POST", "/api/trunks", {"name": "fxo", "kind": "peer", "host": gateway.address,
                                           "peer_networks": [f"{gateway.address}/32"]})[0] == 201
    status, body = box.api("PUT", "/api/routes", {"inbound": [{"did": "48221234567",
                                                               "destination": "extension:1002"}]})
    assert status == 200, body
    result: dict = {}

    def call_in() -> None:
        result["sipp"] = gateway.run(
            ["sipp", f"{box.host.address}:5060", "-sn", "uac", "-s", "48221234567", "-i", gateway.address,
             "-p", "5060", "-m", "1", "-d", "1000", "-nostdin", "-timeout", "30s", "-timeout_error",
             "-trace_err"], cwd=tmp_path, timeout=60)

    thread = threading.Thread(target=call_in)
    thread.start()
    incoming = phone.wait_for("incoming", timeout=15)
    assert "sipp" in incoming["from"]
    phone.answer()
    thread.join(60)
    assert result["sipp"].returncode == 0, result["sipp"].stdout[-2000:]
    # The record is written once the box has seen the BYE through, which may be just after sipp ends.
    record = box.wait_for("the call's record", lambda: next(iter(box.api("GET", "/api/cdr")[1]["records"]), None), 10)
    assert (record["direction"], record["trunk"], record["callee"]) == ("inbound", "fxo", "1002")


def _engine_on(box, address: str) -> bool:
    status, body = box.api("GET", "/api/engine")
    workers = body.get("workers", []) if status == 200 else []
    return bool(workers) and all(w["alive"] and w["bind"] == address for w in workers)


def test_the_box_moves_to_wifi_then_loses_its_cable_and_calls_go_on(lan, office, lan_phones, tmp_path):
    """A new address in the middle of the day: the call in progress finishes where it is, new calls
    use the new address, phones are told to fetch their settings, and after the old address is gone
    phones that register again at the new one call each other."""
    box = office()
    old = box.host.address
    new = str(lan.net.network_address + 2)
    desk1, desk2, desk3 = lan.host("desk1"), lan.host("desk2"), lan.host("desk3")
    box.engine_ready()
    anna = registered(box, lan_phones, "1001", desk1)
    piotr = registered(box, lan_phones, "1002", desk2)
    # A plain socket as a third desk phone, to see the NOTIFY the box sends it.
    ext3 = box.add_extension("1003")
    raw = desk3.udp_socket()
    raw.settimeout(5)
    assert " 200 " in raw_register(raw, 5060, "1003", ext3["secret"], box=old).split("\r\n")[0]

    anna.call(f"sip:1002@{old}:5060")
    piotr.wait_for("incoming", timeout=15)
    piotr.answer()
    anna.wait_for("call_state", state="CONFIRMED", timeout=15)
    time.sleep(0.5)

    lan.add_leg(box.host, "wlan0", new)          # Wi-Fi comes up and takes the default route
    box.wait_for("the new address", lambda: box.api("GET", "/api/health")[1]["network"]["address"] == new)
    health = box.api("GET", "/api/health")[1]["network"]
    assert (health["interface"], health["engine"]) == ("wlan0", new)
    # The phone is told to fetch its settings again, by a NOTIFY that names the new address.
    data, sender = raw.recvfrom(65535)
    text = data.decode()
    assert text.startswith("NOTIFY ") and "Event: check-sync" in text, (sender, text)
    assert f"Via: SIP/2.0/UDP {new}:5060" in text and f"@{new}>" in text, text
    # The call in progress still has its audio: its worker stays where it was until the call ends.
    audio_both_ways(anna, piotr, tmp_path, "during")
    anna.hangup()
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)
    box.wait_for("every worker on the new address", lambda: _engine_on(box, new), timeout=30)

    # The cable is pulled: only the new address is left. Phones register there again.
    lan_ip = ["ip", "addr", "flush", "dev", "eth0"]
    assert box.host.run(lan_ip).returncode == 0
    for phone, number in ((anna, "1001"), (piotr, "1002")):
        phone.register(f"sip:{new}:5060", number, phone.secret)
        phone.wait_for("reg_state", code=200, timeout=15)
    anna.call(f"sip:1002@{new}:5060")
    piotr.wait_for("incoming", timeout=15)
    piotr.answer()
    anna.wait_for("call_state", state="CONFIRMED", timeout=15)
    time.sleep(0.5)
    audio_both_ways(anna, piotr, tmp_path, "after")
    anna.hangup()
    assert "Traceback" not in box.log()
