"""The test LAN itself: addresses only on its bridge, and nothing left behind, even after a failure."""

from __future__ import annotations

import pytest

from tests.testlan import TestLan, lan_missing, leftovers


def test_a_failing_test_leaves_no_namespace_link_or_bridge_behind():
    why = lan_missing()
    if why:
        pytest.skip(f"no test LAN on this machine: {why}")
    before = set(leftovers())
    with pytest.raises(RuntimeError):
        with TestLan() as lan:
            a, b = lan.host("a"), lan.host("b")
            second, _ = lan.subnet()
            lan.host("c", bridge=second)
            lan.add_leg(a, "wlan0", str(lan.net.network_address + 99))
            assert a.address.startswith("10.231.") and b.address.startswith("10.231.")
            a.popen(["sleep", "60"])
            raise RuntimeError("the test failed here")
    assert set(leftovers()) == before


def test_hosts_reach_each_other_only_on_the_bridge(lan):
    a, b = lan.host("a"), lan.host("b")
    server = b.udp_socket()
    server.settimeout(3)
    client = a.udp_socket()
    client.sendto(b"ping", (b.address, server.getsockname()[1]))
    data, sender = server.recvfrom(100)
    assert (data, sender[0]) == (b"ping", a.address)
    routes = a.run(["ip", "-4", "route"]).stdout
    assert all("10.231." in line for line in routes.splitlines()), routes
