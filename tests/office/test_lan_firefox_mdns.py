"""An agent in Firefox whose candidates carry only mDNS names, on an office LAN that drops
multicast (Wi-Fi with client isolation, switches that filter it): the box cannot resolve the
names, learns Firefox's address from Firefox's connectivity checks, and the call has audio both
ways (docs/agent-panel.md, "Firefox").

The test LAN's switch stops flooding multicast to every port (`bridge link set dev <port>
mcast_flood off`), checked with a datagram to the mDNS group that must not arrive; Firefox keeps
no microphone permission for the site, so it names its address by mDNS.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import time

import pytest

from tests.office.test_lan_firefox_agent import (AGENT_HZ, INBOUND, _both_hear, _box_with_agent, _call_state,
                                                 _firefox, _ready_for_a_call)
from tests.peers.firefox import MIC_UNASKED, firefox_binary
from tests.webrtc.hearing import heard_by_phone

pytestmark = [pytest.mark.peers,
              pytest.mark.skipif(firefox_binary() is None,
                                 reason="Firefox is not installed (Debian's firefox-esr: "
                                        "tools/install-system-deps.sh test)")]

MDNS_GROUP = "224.0.0.251"
PROBE_PORT = 53531      # the mDNS group on a port of the test's own: link-local multicast all the same


def _multicast_passes(sender, receiver) -> bool:
    """Whether a datagram to the mDNS group from `sender` reaches `receiver`, a member of it."""
    listener = receiver.udp_socket(("0.0.0.0", PROBE_PORT))
    listener.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        socket.inet_aton(MDNS_GROUP) + socket.inet_aton(receiver.address))
    listener.settimeout(0.5)
    talker = sender.udp_socket()
    talker.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sender.address))
    talker.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("b", 1))
    try:
        for _ in range(3):
            talker.sendto(b"probe", (MDNS_GROUP, PROBE_PORT))
            try:
                listener.recvfrom(64)
                return True
            except socket.timeout:
                pass
        return False
    finally:
        listener.close()
        talker.close()


def _drop_multicast(lan) -> None:
    for port in lan.links:
        subprocess.run(["bridge", "link", "set", "dev", port, "mcast_flood", "off"], check=True)


def test_an_agent_in_firefox_named_by_mdns_is_heard_where_multicast_does_not_pass(lan, office, tmp_path):
    from tests.peers.phones import Phone
    box, customer_ext, web, base = _box_with_agent(lan, office, tmp_path)
    desk = lan.host("desk1")
    customer = Phone("customer", host=lan.host("desk9"))
    assert _multicast_passes(desk, box.host), "the test LAN drops multicast before the test does"
    _drop_multicast(lan)
    assert not _multicast_passes(desk, box.host), "mcast_flood off left multicast passing"
    firefox = _firefox(desk, tmp_path, {**MIC_UNASKED, "media.navigator.audio.fake_frequency": AGENT_HZ})
    try:
        page, _ = _ready_for_a_call(box, customer, customer_ext, firefox, base)

        customer.call(f"sip:500@{box.host.address}:5060")
        page.wait_until("the panel ringing", lambda: _call_state(page) == "ringing")
        page.click("#phone-answer")
        page.wait_until("the call up", lambda: _call_state(page) == "talking")
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        answered = time.monotonic()

        _both_hear(page, customer, tmp_path)

        stats = page.run_async(INBOUND)
        (tmp_path / "firefox-stats.txt").write_text(repr(stats))
        assert stats and stats["packets"] > 50, stats
        assert stats["candidates"] and all(c.endswith(".local") for c in stats["candidates"]), stats

        # Past the bridge's wait for a first check (10 s after the answer), the call is still up.
        time.sleep(max(0.0, answered + 11.0 - time.monotonic()))
        assert _call_state(page) == "talking"
        assert abs(heard_by_phone(customer, tmp_path / "customer-later.wav") - AGENT_HZ) <= 30

        page.click("#phone-hangup")
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
        page.wait_for_text("Call ended.")
        assert [r["disposition"] for r in box.api("GET", "/api/cdr")[1]["records"]] == ["ANSWERED"]
        assert "browser unreachable" not in box.log() and "Traceback" not in box.log()
    finally:
        firefox.close()
        customer.close()
        web.terminate()
        web.wait(10)
