"""Attackers on the office LAN, against the box as it ships: other hosts, not loopback.

The box runs with default settings on its own host; an IP-trusted SIP gateway (the kind that
places any call it is sent) sits on another host with an outbound route `00.` to it; the
attacker is a third host. Nothing the attacker does may reach the gateway, and the office's
own phones keep working.
"""

from __future__ import annotations

import secrets
import socket
import sys
import time
from pathlib import Path

import pytest

from appliance.sip.digest import client_response
from tests.integration.rawphone import final_statuses, invite, register as raw_register

BIN = Path(sys.executable).parent


def office_with_gateway(lan, office):
    box = office()
    gateway = lan.host("gateway")
    attacker = lan.host("attacker")
    desk = lan.host("desk")
    assert box.api("POST", "/api/trunks", {"name": "fxo", "kind": "peer", "host": gateway.address,
                                           "port": 5060, "peer_networks": [f"{gateway.address}/32"]})[0] == 201
    assert box.api("PUT", "/api/routes", {"outbound": [
        {"name": "abroad", "patterns": ["00."], "trunks": ["fxo"]}]})[0] == 200
    ears = gateway.udp_socket((gateway.address, 5060))   # the gateway hears whatever the box sends it
    ears.settimeout(0.2)
    return box, gateway, attacker, desk, ears


def heard(sock: socket.socket, seconds: float) -> list[str]:
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(65535).decode(errors="replace"))
        except socket.timeout:
            pass
    return got


def test_an_unauthenticated_invite_from_a_phones_own_address_never_reaches_the_gateway(lan, office):
    """The forged source: the address and port where an `international` phone registered (malware on
    that PC, or a forged UDP source) proves nothing; the INVITE must carry its own credentials."""
    box, gateway, attacker, desk, ears = office_with_gateway(lan, office)
    box.engine_ready()
    ext = box.add_extension("1001", class_of_service="international")
    sock = desk.udp_socket()
    sock.settimeout(5)
    assert " 200 " in raw_register(sock, 5060, "1001", ext["secret"], box=box.host.address).split("\r\n")[0]
    for i in range(3):
        sock.sendto(invite(f"{box.host.address}:5060", sock, "0088161234567", f"toll-{i}"),
                    (box.host.address, 5060))
    assert set(final_statuses(sock, 2.0)) == {407}       # challenged, never forwarded
    # Straight to an engine worker's LAN port: refused there, whatever the source port.
    worker = box.api("GET", "/api/engine")[1]["workers"][0]
    direct = attacker.udp_socket((attacker.address, 5060))
    direct.sendto(invite(f"{worker['bind']}:{worker['sip_port']}", direct, "0088161234567", "direct",
                         f"X-Callbox-Auth: 1001;ts={int(time.time())};mac={'0' * 32}\r\n"),
                  (worker["bind"], worker["sip_port"]))
    assert 403 in final_statuses(direct, 2.0)
    assert heard(ears, 1.0) == []


def test_a_registration_replayed_from_another_host_does_not_steal_the_extension(lan, office):
    box, _, attacker, desk, _ = office_with_gateway(lan, office)
    ext = box.add_extension("1002")
    phone = desk.udp_socket()
    phone.settimeout(5)
    call_id = secrets.token_hex(6)
    port = phone.getsockname()[1]
    uri = f"sip:{box.host.address}:5060"

    def register(sock, contact_host, contact_port, cseq, auth=""):
        msg = (f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {contact_host}:{contact_port};"
               f"branch=z9hG4bK{secrets.token_hex(6)}\r\nFrom: <sip:1002@{box.host.address}>;tag=r\r\n"
               f"To: <sip:1002@{box.host.address}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
               f"Contact: <sip:1002@{contact_host}:{contact_port}>\r\n{auth}Content-Length: 0\r\n\r\n")
        sock.sendto(msg.encode(), (box.host.address, 5060))
        return sock.recv(65535).decode()

    challenge = register(phone, desk.address, port, 1)
    www = next(line.split(":", 1)[1].strip() for line in challenge.split("\r\n")
               if line.startswith("WWW-Authenticate:"))
    captured = f"Authorization: {client_response('REGISTER', uri, '1002', ext['secret'], www)}\r\n"
    assert " 200 " in register(phone, desk.address, port, 2, captured).split("\r\n")[0]
    # The attacker replays the captured header from its own host, with its own Contact.
    thief = attacker.udp_socket()
    thief.settimeout(5)
    answer = register(thief, attacker.address, thief.getsockname()[1], 3, captured).split("\r\n")[0]
    assert " 200 " not in answer
    contacts = [r["contact"] for r in box.registrations() if r["aor"] == "1002"]
    assert contacts and all(desk.address in c for c in contacts), contacts


def test_a_contact_pointing_at_the_gateway_is_refused(lan, office):
    box, gateway, attacker, _, ears = office_with_gateway(lan, office)
    ext = box.add_extension("1003", class_of_service="internal")
    sock = attacker.udp_socket()
    sock.settimeout(5)
    uri = f"sip:{box.host.address}:5060"
    host, port = sock.getsockname()[:2]

    def register(cseq, auth=""):
        msg = (f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
               f"From: <sip:1003@{box.host.address}>;tag=r\r\nTo: <sip:1003@{box.host.address}>\r\n"
               f"Call-ID: inject\r\nCSeq: {cseq} REGISTER\r\n"
               f"Contact: <sip:0088161234567@{gateway.address}:5060>\r\n{auth}Content-Length: 0\r\n\r\n")
        sock.sendto(msg.encode(), (box.host.address, 5060))
        return sock.recv(65535).decode()
    challenge = register(1)
    www = next(line.split(":", 1)[1].strip() for line in challenge.split("\r\n")
               if line.startswith("WWW-Authenticate:"))
    answer = register(2, f"Authorization: {client_response('REGISTER', uri, '1003', ext['secret'], www)}\r\n")
    assert answer.startswith("SIP/2.0 403"), answer.split("\r\n")[0]
    assert not [r for r in box.registrations() if r["aor"] == "1003"]
    assert heard(ears, 0.5) == []


def test_svcrack_from_the_lan_is_banned_and_the_office_phone_still_registers(lan, office, tmp_path):
    exe = BIN / "sipvicious_svcrack"
    if not exe.exists():
        pytest.skip("sipvicious is not installed")
    box, _, attacker, desk, _ = office_with_gateway(lan, office)
    box.api("PATCH", "/api/settings", {"security.scanner_user_agents": []})   # the ban, not the UA list
    secret = "Correct-horse-42"
    box.add_extension("1004", secret=secret)
    words = tmp_path / "words.txt"
    words.write_text("\n".join([f"Wrong-guess-{i:02d}" for i in range(8)] + [secret]) + "\n")
    out = attacker.run([str(exe), "-u", "1004", "-d", str(words), "-p", "5060", box.host.address],
                       timeout=90)
    assert secret not in out.stdout + out.stderr
    assert [b["ip"] for b in box.api("GET", "/api/bans")[1]["bans"]] == [attacker.address]
    # Another host of the office is not locked out by the attacker's ban.
    ext = box.add_extension("1005")
    phone = desk.udp_socket()
    phone.settimeout(5)
    assert " 200 " in raw_register(phone, 5060, "1005", ext["secret"], box=box.host.address).split("\r\n")[0]
