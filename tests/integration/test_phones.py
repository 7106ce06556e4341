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
