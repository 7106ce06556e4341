"""The box's address on the office LAN: the one phones and gateways can reach.

An office box gets its address from DHCP, may have Ethernet and Wi-Fi, and its
address can change on any morning. `choose()` is the pure rule (table-tested);
`read_interfaces()` reads what the kernel has (procfs, sysfs and one ioctl: no
packet is sent); `NetworkWatch` keeps the current choice and tells the core
when it changes, woken by the kernel's route/address notifications (netlink)
and, as a backstop, a slow poll.

The rule, first match wins:
1. `sip.bind` set to an address: that address (the demo binds 127.0.0.1).
2. `network.interface` set: that interface's IPv4 address, else its global IPv6.
3. The interface of the IPv4 default route, its IPv4 address.
4. The interface of the IPv6 default route, its global IPv6 address.
5. Any other interface that is up with an address (IPv4 first).
6. Loopback, only when the box has no other address (and that is an alarm).
"""

from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import logging
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
ANY = ("0.0.0.0", "::", "")
POLL_S = 30.0            # backstop when netlink notifications are not available or missed
SETTLE_S = 0.3           # an address change comes as several netlink messages
SIOCGIFADDR = 0x8915
IFF_UP = 0x1
RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE = 0x1, 0x10, 0x40
RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE = 0x100, 0x400


@dataclass(frozen=True)
class Interface:
    name: str
    up: bool = True
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()          # global scope only: link-local is no address for a phone


@dataclass(frozen=True)
class Found:
    """The address the box tells phones, and why it chose it (shown by `callbox check`)."""

    address: str
    interface: str
    reason: str

    @property
    def loopback_only(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    def public(self) -> dict[str, object]:
        return {"address": self.address, "interface": self.interface, "reason": self.reason,
                "loopback_only": self.loopback_only}


@dataclass(frozen=True)
class Routes:
    """What the kernel's routing tables say about the way out."""

    default_v4: str = ""        # interface of the IPv4 default route ('' if none)
    default_v6: str = ""
    interfaces: tuple[Interface, ...] = field(default_factory=tuple)


def choose(routes: Routes, *, bind: str = "", interface: str = "") -> Found:
    """The address phones can reach, by the rule in the module's docstring."""
    if bind not in ANY:
        return Found(bind, "", f"sip.bind is set to {bind}")
    by_name = {i.name: i for i in routes.interfaces if i.name != "lo"}
    note = ""
    if interface:
        wanted = by_name.get(interface)
        if wanted is not None and wanted.up and (wanted.ipv4 or wanted.ipv6):
            return Found((wanted.ipv4 or wanted.ipv6)[0], interface, f"network.interface is set to {interface}")
        note = f"network.interface {interface} has no address; "
    v4 = by_name.get(routes.default_v4)
    if v4 is not None and v4.up and v4.ipv4:
        return Found(v4.ipv4[0], v4.name, f"{note}the interface of the default route")
    v6 = by_name.get(routes.default_v6)
    if v6 is not None and v6.up and v6.ipv6:
        return Found(v6.ipv6[0], v6.name, f"{note}the interface of the IPv6 default route (no IPv4 route)")
    up = sorted((i for i in by_name.values() if i.up), key=lambda i: i.name)
    for family in ("ipv4", "ipv6"):
        for i in up:
            addrs = getattr(i, family)
            if addrs:
                return Found(addrs[0], i.name, f"{note}no default route; the first interface with an address")
    return Found(LOOPBACK, "lo", f"{note}no network address: only loopback (phones on the LAN cannot reach the box)")


# --- reading the kernel's view (Linux) ------------------------------------------------------


def _default_v4(proc: Path) -> str:
    best: tuple[int, str] | None = None
    try:
        lines = (proc / "net" / "route").read_text().splitlines()[1:]
    except OSError:
        return ""
    for line in lines:
        f = line.split()
        if len(f) < 8 or f[1] != "00000000" or f[7] != "00000000" or not int(f[3], 16) & 0x1:
            continue
        metric = int(f[6])
        if best is None or metric < best[0]:
            best = (metric, f[0])
    return best[1] if best else ""


def _default_v6(proc: Path) -> str:
    best: tuple[int, str] | None = None
    try:
        lines = (proc / "net" / "ipv6_route").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        f = line.split()
        if len(f) < 10 or f[0] != "0" * 32 or f[1] != "00" or f[9] == "lo" or not int(f[8], 16) & 0x1:
            continue
        metric = int(f[5], 16)
        if best is None or metric < best[0]:
            best = (metric, f[9])
    return best[1] if best else ""


def _ipv6_addresses(proc: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    try:
        lines = (proc / "net" / "if_inet6").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        f = line.split()
        if len(f) < 6 or f[3] != "00":      # global scope only
            continue
        if int(f[4], 16) & (0x08 | 0x20 | 0x40):  # DAD failed, deprecated, tentative
            continue
        addr = str(ipaddress.IPv6Address(bytes.fromhex(f[0])))
        found.setdefault(f[5], []).append(addr)
    return found


def _ipv4_address(sock: socket.socket, name: str) -> str:
    try:
        packed = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
    except OSError:   # no IPv4 address on it
        return ""
    return socket.inet_ntoa(packed[20:24])


def _is_up(sys: Path, name: str) -> bool:
    try:
        return bool(int((sys / "class" / "net" / name / "flags").read_text(), 16) & IFF_UP)
    except (OSError, ValueError):
        return True


def read_routes(proc: Path = Path("/proc"), sys: Path = Path("/sys")) -> Routes:
    v6 = _ipv6_addresses(proc)
    interfaces = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            v4 = _ipv4_address(s, name)
            interfaces.append(Interface(name, _is_up(sys, name), (v4,) if v4 else (), tuple(v6.get(name, ()))))
    return Routes(_default_v4(proc), _default_v6(proc), tuple(interfaces))


# --- following changes --------------------------------------------------------------------


class NetworkWatch:
    """The current choice; `run()` re-checks when the kernel says routes or addresses changed."""

    def __init__(self, *, bind: str = "", interface: str = "",
                 read: Callable[[], Routes] = read_routes) -> None:
        self.bind = bind
        self.interface = interface
        self._read = read
        self.found = self._choose()
        self._listeners: list[Callable[[Found, Found], None]] = []

    @property
    def address(self) -> str:
        return self.found.address

    def _choose(self) -> Found:
        try:
            return choose(self._read(), bind=self.bind, interface=self.interface)
        except OSError as e:  # nothing readable: say so rather than guess
            return Found(LOOPBACK, "lo", f"could not read the network interfaces: {e}")

    def on_change(self, listener: Callable[[Found, Found], None]) -> None:
        self._listeners.append(listener)

    def check(self) -> bool:
        """Choose again; tell the listeners if the address moved. True if it did."""
        new = self._choose()
        old, self.found = self.found, new
        if new.address == old.address:
            return False
        log.warning("the box's LAN address changed: %s (%s) -> %s (%s; %s)",
                    old.address, old.interface, new.address, new.interface, new.reason)
        for listener in self._listeners:
            try:
                listener(old, new)
            except Exception:  # one listener failing must not keep the others on the old address
                log.exception("could not move to the new address %s", new.address)
        return True

    async def run(self) -> None:
        if self.bind not in ANY:
            return  # a fixed address never moves
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        sock = _netlink_socket()
        if sock is not None:
            def drain() -> None:
                try:
                    while sock.recv(65536):
                        pass
                except (BlockingIOError, OSError):
                    pass
                woken.set()
            loop.add_reader(sock.fileno(), drain)
        try:
            while True:
                try:
                    await asyncio.wait_for(woken.wait(), POLL_S)
                    await asyncio.sleep(SETTLE_S)
                except asyncio.TimeoutError:
                    pass
                woken.clear()
                self.check()
        finally:
            if sock is not None:
                loop.remove_reader(sock.fileno())
                sock.close()


def _netlink_socket() -> socket.socket | None:
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        sock.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE
                   | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE))
        sock.setblocking(False)
        return sock
    except (OSError, AttributeError) as e:  # not Linux, or forbidden: the poll still runs
        log.info("no netlink notifications (%s): checking the address every %.0f s", e, POLL_S)
        return None
