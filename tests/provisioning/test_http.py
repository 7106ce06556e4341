"""The provisioning server over a real TCP socket on 127.0.0.1, with stdlib HTTP clients."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import re
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from appliance.provisioning.http import PROVISIONING, create_provisioning_app, start_provisioning_server
from appliance.provisioning.macs import Vendor
from appliance.provisioning.registry import PhoneRegistry
from appliance.provisioning.service import FetchOutcome, ProvisioningService, ProvisioningSettings
from appliance.provisioning.store import RegistryStore
from tests.provisioning.conftest import EXTENSIONS

YEALINK = "001565aaaaaa"
SNOM = "000413bbbbbb"


@dataclass
class Server:
    port: int
    service: ProvisioningService
    registry: PhoneRegistry
    store: RegistryStore

    def url(self, file: str) -> str:
        return f"http://127.0.0.1:{self.port}/p/{file}"

    def password(self, mac: str) -> str:
        return self.registry.binding(mac).password


def serve(tmp_path, **settings) -> tuple[Server, callable]:
    store = RegistryStore(tmp_path / "phones.json")
    registry = store.load()
    registry.bind(YEALINK, "1001", Vendor.YEALINK)
    registry.bind(SNOM, "1002", Vendor.SNOM)
    store.save(registry)
    prov = ProvisioningSettings(**({"box_address": "192.0.2.10", "allow_networks": ["127.0.0.0/8"],
                                    "ban_failures": 3} | settings))
    app = create_provisioning_app(registry, prov, extensions=EXTENSIONS.get, store=store)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict = {}

    def run():
        asyncio.set_event_loop(loop)
        box["runner"], box["port"] = loop.run_until_complete(start_provisioning_server(app, "127.0.0.1", 0))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)

    def stop():
        asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

    return Server(box["port"], app[PROVISIONING], registry, store), stop


@pytest.fixture
def server(tmp_path):
    srv, stop = serve(tmp_path)
    yield srv
    stop()


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    m = re.match(r"http://([^/:]+):(\d+)(/.*)", url)
    conn = http.client.HTTPConnection(m[1], int(m[2]), timeout=10)
    try:
        conn.request("GET", m[3], headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()} | {
            "www-authenticate*": r.headers.get_all("WWW-Authenticate") or []}, r.read()
    finally:
        conn.close()


def fetch_with_digest(url: str, user: str, password: str) -> bytes:
    """urllib's own Digest client: a peer that shares no code with the server."""
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, url, user, password)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
    with opener.open(url, timeout=10) as r:
        return r.read()


def digest_header(challenge: str, user: str, password: str, path: str) -> str:
    """An RFC 2617 answer, computed here by hand."""
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    ha1, ha2 = md5(f"{user}:{p['realm']}:{password}"), md5(f"GET:{path}")
    response = md5(f"{ha1}:{p['nonce']}:00000001:abcdef:auth:{ha2}")
    return (f'Digest username="{user}", realm="{p["realm"]}", nonce="{p["nonce"]}", uri="{path}", '
            f'algorithm=MD5, qop=auth, nc=00000001, cnonce="abcdef", response="{response}"')


def test_a_bound_phone_fetches_its_file_with_digest(server):
    body = fetch_with_digest(server.url(f"{YEALINK}.cfg"), YEALINK, server.password(YEALINK))
    assert body.startswith(b"#!version:1.0.0.1")
    assert f"account.1.password = {EXTENSIONS['1001']['secret']}".encode() in body
    assert f"account.1.display_name = {EXTENSIONS['1001']['name']}".encode("utf-8") in body
    outcomes = [r.outcome for r in server.service.fetch_log(mac=YEALINK)]
    assert outcomes[:2] == [FetchOutcome.SENT, FetchOutcome.CHALLENGED]
    last = server.service.fetch_log(1)[0]
    assert (last.ip, last.file, last.ok) == ("127.0.0.1", f"{YEALINK}.cfg", True)
    # From now on plug and play will not hand this password out again; that is saved.
    assert server.registry.binding(YEALINK).fetched is not None
    assert RegistryStore(server.store.path).load().binding(YEALINK).fetched is not None


@pytest.mark.parametrize("user", ["00:04:13:BB:BB:BB", "00-04-13-bb-bb-bb", SNOM])
def test_basic_credentials_work_too_and_the_mac_may_be_written_any_way(server, user):
    token = base64.b64encode(f"{user}:{server.password(SNOM)}".encode()).decode()
    status, headers, body = get(server.url(f"{SNOM.upper()}.xml"), {"Authorization": f"Basic {token}"})
    assert status == 200
    assert headers["content-type"].startswith("application/xml")
    root = ET.fromstring(body)
    assert root.find("phone-settings/user_realname").text == EXTENSIONS["1002"]["name"]


def test_without_credentials_the_phone_is_challenged_for_digest_and_basic(server):
    status, headers, body = get(server.url(f"{YEALINK}.cfg"))
    assert status == 401 and body == b""
    schemes = [v.split()[0] for v in headers["www-authenticate*"]]
    assert schemes == ["Digest", "Basic"]
    assert "server" not in headers  # the server does not name itself


def test_an_unknown_mac_gets_an_empty_404_and_becomes_pending(server):
    status, _, body = get(server.url("cfg000b82123456.xml"), {"User-Agent": "Grandstream GXP2170 1.0.11.3"})
    assert (status, body) == (404, b"")
    # Even with credentials that are right for another phone.
    token = base64.b64encode(f"{YEALINK}:{server.password(YEALINK)}".encode()).decode()
    status, _, body = get(server.url("cfg000b82123456.xml"), {"Authorization": f"Basic {token}"})
    assert (status, body) == (404, b"")
    [pending] = server.registry.pending()
    assert (pending.mac, pending.vendor, pending.ip, pending.requests) == (
        "000b82123456", Vendor.GRANDSTREAM, "127.0.0.1", 2)
    assert server.service.fetch_log(1)[0].outcome is FetchOutcome.UNKNOWN_PHONE
    # ... and it was saved for the admin's list.
    assert [p.mac for p in RegistryStore(server.store.path).load().pending()] == ["000b82123456"]


def test_wrong_credentials_get_401_and_enough_of_them_a_ban(server):
    path = f"/p/{YEALINK}.cfg"
    for _ in range(3):
        status, headers, _ = get(server.url(f"{YEALINK}.cfg"))
        challenge = headers["www-authenticate*"][0]
        status, _, body = get(server.url(f"{YEALINK}.cfg"),
                              {"Authorization": digest_header(challenge, YEALINK, "WrongWrong1234", path)})
        assert (status, body) == (401, b"")
    assert server.service.fetch_log(1)[0].outcome is FetchOutcome.DENIED
    # Banned now: even the right password is refused.
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch_with_digest(server.url(f"{YEALINK}.cfg"), YEALINK, server.password(YEALINK))
    assert refused.value.code == 403
    assert server.service.fetch_log(1)[0].outcome is FetchOutcome.REFUSED


def test_a_phone_cannot_fetch_another_phones_file_with_its_own_credentials(server):
    path = f"/p/{SNOM}.xml"
    _, headers, _ = get(server.url(f"{SNOM}.xml"))
    answer = digest_header(headers["www-authenticate*"][0], YEALINK, server.password(YEALINK), path)
    status, _, body = get(server.url(f"{SNOM}.xml"), {"Authorization": answer})
    assert (status, body) == (401, b"")
    assert server.service.fetch_log(1)[0].outcome is FetchOutcome.DENIED


def test_an_answer_for_one_file_does_not_open_another(server):
    _, headers, _ = get(server.url(f"{YEALINK}.cfg"))
    answer = digest_header(headers["www-authenticate*"][0], YEALINK, server.password(YEALINK), "/p/other.cfg")
    status, _, _ = get(server.url(f"{YEALINK}.cfg"), {"Authorization": answer})
    assert status == 401


def test_files_and_paths_that_name_no_phone_learn_nothing(server):
    token = base64.b64encode(f"{YEALINK}:{server.password(YEALINK)}".encode()).decode()
    auth = {"Authorization": f"Basic {token}"}
    for path in ("/p/y000000000044.cfg", f"/p/{YEALINK}-local.cfg", "/p/..%2Fphones.json", "/", "/admin",
                 f"/p/{YEALINK}.cfg%0aforged", "/p/%2e%2e"):
        status, _, body = get(f"http://127.0.0.1:{server.port}{path}", auth)
        assert (status, body) == (404, b""), path
    assert server.registry.pending() == []
    assert all("\n" not in r.file for r in server.service.fetch_log())


def test_the_log_never_holds_a_password(server, caplog):
    caplog.set_level("DEBUG")
    fetch_with_digest(server.url(f"{YEALINK}.cfg"), YEALINK, server.password(YEALINK))
    text = caplog.text + repr([r.public() for r in server.service.fetch_log()])
    assert server.password(YEALINK) not in text
    assert EXTENSIONS["1001"]["secret"] not in text
    assert f"{YEALINK}.cfg" in caplog.text  # it did log the fetch


def test_a_client_outside_the_allowed_networks_is_refused(tmp_path):
    srv, stop = serve(tmp_path, allow_networks=["192.168.0.0/16", "10.0.0.0/8"])
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch_with_digest(srv.url(f"{YEALINK}.cfg"), YEALINK, srv.password(YEALINK))
        assert refused.value.code == 403 and refused.value.read() == b""
        assert srv.service.fetch_log(1)[0].outcome is FetchOutcome.REFUSED
    finally:
        stop()


def test_the_default_networks_are_the_lan_ones_without_loopback(tmp_path):
    prov = ProvisioningSettings(box_address="192.0.2.10")
    service = ProvisioningService(PhoneRegistry(), prov, EXTENSIONS.get)
    assert service.guard.check("192.168.1.20").allowed
    assert not service.guard.check("127.0.0.1").allowed
    assert not service.guard.check("203.0.113.7").allowed


def test_settings_come_from_the_box_settings():
    from appliance.settings import Settings

    prov = ProvisioningSettings.from_settings(
        Settings({"box.timezone": "Europe/Berlin", "sip.port": 5070}), box_address="192.0.2.10")
    assert (prov.timezone, prov.sip_port, prov.box_address) == ("Europe/Berlin", 5070, "192.0.2.10")
    assert prov.base_url() == "http://192.0.2.10:8088/p/"


def test_a_request_with_a_body_or_huge_headers_is_refused_unread(server):
    """Phones only GET: a body (or a pile of headers) is an attacker's, refused before it is read."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", f"/p/{YEALINK}.cfg", body=b"x" * (1 << 20))
    reply = conn.getresponse()
    assert reply.status == 413 and reply.read() == b""
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("GET", f"/p/{YEALINK}.cfg")
    for n in range(40):
        conn.putheader(f"X-Junk-{n}", "j" * 1000)
    conn.endheaders()
    assert conn.getresponse().status == 431
    conn.close()
