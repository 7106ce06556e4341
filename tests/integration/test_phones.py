"""Desk phones fetch their configuration from the running box: bound phones with their own
credentials get their account; unknown phones get an empty 404 and show up for approval."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request


def fetch(url: str, user: str | None = None, password: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"User-Agent": "Yealink SIP-T46U 108.86.0.20"})
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_a_bound_phone_gets_its_account_and_an_unknown_one_learns_nothing(core_factory):
    core = core_factory({"provisioning.allow_networks": ["127.0.0.0/8"]})
    ext = core.add_extension("1001", name="Anna")
    status, bound = core.api("POST", "/api/phones", {"mac": "00:15:65:AA:BB:01", "extension": "1001",
                                                     "vendor": "yealink"})
    assert status == 201, bound
    base = core.api("GET", "/api/phones")[1]["url"]
    status, body = fetch(base + "001565aabb01.cfg", "001565aabb01", bound["password"])
    assert status == 200
    values = dict(line.split("=", 1) for line in body.decode().splitlines() if "=" in line)
    values = {k.strip(): v.strip() for k, v in values.items()}
    assert values["account.1.user_name"] == "1001" and values["account.1.password"] == ext["secret"]
    # Wrong credentials: refused. Unknown MAC: an empty 404, and the admin sees it waiting.
    assert fetch(base + "001565aabb01.cfg", "001565aabb01", "wrong-password")[0] == 401
    status, body = fetch(base + "001565aabb02.cfg")
    assert (status, body) == (404, b"")
    listing = core.api("GET", "/api/phones")[1]
    assert [p["mac"] for p in listing["pending"]] == ["001565aabb02"]
    assert any(f["mac"] == "001565aabb01" for f in core.api("GET", "/api/phones/log")[1]["fetches"])


def test_phones_outside_the_lan_are_refused(core_factory):
    core = core_factory({"provisioning.allow_networks": ["192.168.0.0/16"]})
    core.add_extension("1001")
    status, bound = core.api("POST", "/api/phones", {"mac": "000413aabb01", "extension": "1001",
                                                     "vendor": "snom"})
    base = core.api("GET", "/api/phones")[1]["url"]
    assert fetch(base + "000413aabb01.xml", "000413aabb01", bound["password"])[0] == 403


def test_plug_and_play_on_the_sip_port_beside_the_edge(core_factory):
    """A factory-fresh Snom multicasts its ua-profile SUBSCRIBE; the box (edge on the same port)
    answers with the provisioning URL, and normal SIP on that port still works."""
    import socket

    from appliance.sip.parser import parse
    from tests.conftest import free_port
    from tests.provisioning.test_pnp import snom_subscribe
    port = free_port()
    core = core_factory({"provisioning.allow_networks": ["127.0.0.0/8"], "provisioning.pnp": True,
                         "provisioning.pnp_port": port}, sip_port=port)
    core.add_extension("1001")
    core.api("POST", "/api/phones", {"mac": "000413874B49", "extension": "1001", "vendor": "snom"})
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.bind(("127.0.0.1", 0))
    phone.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    phone.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    phone.settimeout(5)
    phone.sendto(snom_subscribe(host="127.0.0.1", port=phone.getsockname()[1]), ("224.0.1.75", port))
    got = [parse(phone.recv(65535)) for _ in range(2)]
    ok = next(m for m in got if not m.is_request)
    notify = next(m for m in got if m.is_request)
    assert ok.status == 200 and notify.method == "NOTIFY"
    assert f":{core.api('GET', '/api/phones')[1]['url'].split(':')[-1].split('/')[0]}/p/" in notify.body.decode()
    # The edge still answers unicast SIP on the same port.
    phone.sendto(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKo1\r\n"
                 b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: pnp-o\r\nCSeq: 1 OPTIONS\r\n"
                 b"Content-Length: 0\r\n\r\n", ("127.0.0.1", port))
    while True:
        answer = parse(phone.recv(65535))
        if not answer.is_request and answer.call_id == "pnp-o":
            break
    assert answer.status == 200
    phone.close()
