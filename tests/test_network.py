"""Which address the box tells phones: the rule, table-tested, and the kernel's view read from files."""

from __future__ import annotations

import pytest

from appliance.network import Found, Interface, NetworkWatch, Routes, choose, read_routes

ETH = Interface("eth0", True, ("192.168.1.20",), ("2001:db8::20",))
WLAN = Interface("wlan0", True, ("10.0.0.7",), ())
V6ONLY = Interface("eth0", True, (), ("2001:db8::5",))
DOWN = Interface("eth1", False, ("172.16.0.9",), ())
LO = Interface("lo", True, ("127.0.0.1",), ("::1",))

CASES = [
    # (routes, bind, interface) -> (address, interface, reason starts with)
    (Routes("eth0", "", (LO, ETH, WLAN)), "0.0.0.0", "", ("192.168.1.20", "eth0", "the interface of the default route")),
    (Routes("wlan0", "", (LO, ETH, WLAN)), "0.0.0.0", "", ("10.0.0.7", "wlan0", "the interface of the default route")),
    (Routes("eth0", "", (LO, ETH, WLAN)), "0.0.0.0", "wlan0", ("10.0.0.7", "wlan0", "network.interface is set")),
    (Routes("eth0", "", (LO, ETH)), "0.0.0.0", "wlan0", ("192.168.1.20", "eth0", "network.interface wlan0 has no")),
    (Routes("", "eth0", (LO, V6ONLY)), "::", "", ("2001:db8::5", "eth0", "the interface of the IPv6 default")),
    (Routes("", "", (LO, DOWN, WLAN)), "0.0.0.0", "", ("10.0.0.7", "wlan0", "no default route")),
    (Routes("eth1", "", (LO, DOWN)), "0.0.0.0", "", ("127.0.0.1", "lo", "no network address")),
    (Routes("", "", (LO,)), "0.0.0.0", "", ("127.0.0.1", "lo", "no network address")),
    (Routes("eth0", "", (LO, ETH)), "127.0.0.1", "", ("127.0.0.1", "", "sip.bind is set to 127.0.0.1")),
    (Routes("eth0", "", (LO, ETH)), "10.9.9.9", "", ("10.9.9.9", "", "sip.bind is set")),
]


@pytest.mark.parametrize("routes,bind,interface,want", CASES)
def test_the_address_phones_reach(routes, bind, interface, want):
    found = choose(routes, bind=bind, interface=interface)
    assert (found.address, found.interface) == want[:2]
    assert found.reason.startswith(want[2]), found.reason


def test_loopback_is_only_the_last_resort_and_says_so():
    assert choose(Routes("", "", (LO,))).loopback_only
    assert not choose(Routes("eth0", "", (LO, ETH))).loopback_only


def test_the_kernel_view_is_read_from_proc(tmp_path):
    net = tmp_path / "net"
    net.mkdir()
    (net / "route").write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "wlan0\t00000000\t0100000A\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n")
    (net / "ipv6_route").write_text(
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
        "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n")
    (net / "if_inet6").write_text(
        "20010db8000000000000000000000020 02 40 00 80 eth0\n"
        "fe800000000000000000000000000020 02 40 20 80 eth0\n"
        "20010db8000000000000000000000099 02 40 00 c0 eth0\n")   # tentative: not yet usable
    routes = read_routes(proc=tmp_path, sys=tmp_path)
    assert routes.default_v4 == "eth0"      # the lower metric wins over Wi-Fi
    assert routes.default_v6 == "eth0"


def test_a_change_of_address_is_told_once_to_every_listener():
    now = {"routes": Routes("eth0", "", (LO, ETH))}
    watch = NetworkWatch(bind="0.0.0.0", read=lambda: now["routes"])
    seen: list[tuple[str, str]] = []
    watch.on_change(lambda old, new: seen.append((old.address, new.address)))
    watch.on_change(lambda old, new: 1 / 0)           # a failing listener does not stop the rest
    watch.on_change(lambda old, new: seen.append(("second", new.address)))
    assert watch.check() is False
    now["routes"] = Routes("wlan0", "", (LO, ETH, WLAN))
    assert watch.check() is True
    assert seen == [("192.168.1.20", "10.0.0.7"), ("second", "10.0.0.7")]
    assert watch.check() is False and watch.address == "10.0.0.7"


def test_an_unreadable_kernel_view_is_said_not_guessed():
    def broken() -> Routes:
        raise OSError("no /proc")
    found = NetworkWatch(read=broken).found
    assert found == Found("127.0.0.1", "lo", "could not read the network interfaces: no /proc")


def test_this_machine_has_an_answer():
    found = NetworkWatch().found
    assert found.address and found.reason


def test_an_event_may_carry_a_field_called_kind():
    from appliance.events import EventBus
    bus = EventBus(clock=lambda: 0.0)
    event = bus.publish("alarm", kind="network", text="the box lost its LAN address")
    assert event.kind == "alarm" and event.data["kind"] == "network"
