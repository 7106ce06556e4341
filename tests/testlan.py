"""A test LAN: a Linux bridge and network namespaces as the office's other hosts.

    with TestLan() as lan:
        box = lan.host("box")                 # 10.231.N.1, default route on the LAN
        phone = lan.host("desk1")             # 10.231.N.11
        phone.run(["baresip", ...])           # a process inside that host
        sock = box.connect(("127.0.0.1", api_port))   # the box's own loopback

Every name carries a random tag, so runs never meet; addresses live only on the
bridge (10.231.0.0/16 by default, one /24 a LAN) and `close()` removes every
namespace, link and bridge it made, also after a failed test. Nothing here
sends a packet: only the processes a test starts do, to these addresses.
"""

from __future__ import annotations

import ctypes
import ipaddress
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

CLONE_NEWNET = 0x40000000
LAN_PREFIX = "10.231"


class LanUnavailable(Exception):
    """This machine cannot make network namespaces (not root, or no iproute2)."""


def lan_missing() -> str:
    """Why a test LAN cannot be made here, or '' when it can."""
    if os.geteuid() != 0:
        return "making network namespaces needs root (CI runs as root)"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    probe = f"cbxprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` is refused here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def _ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise LanUnavailable(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done


def _subnets_in_use() -> set[int]:
    out = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True).stdout or "[]"
    used = set()
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            parts = a.get("local", "").split(".")
            if len(parts) == 4 and ".".join(parts[:2]) == LAN_PREFIX:
                used.add(int(parts[2]))
    return used


_libc = ctypes.CDLL(None, use_errno=True)


def in_namespace(ns: str, fn: Callable[[], Any]) -> Any:
    """Run fn on a thread that has entered namespace ns; sockets it makes stay there."""
    result: dict[str, Any] = {}

    def body() -> None:
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {ns}")
            result["value"] = fn()
        except BaseException as e:  # handed back to the caller's thread
            result["error"] = e
        finally:
            os.close(fd)

    t = threading.Thread(target=body, name=f"netns-{ns}")
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


@dataclass
class Host:
    """One machine of the office: its own namespace with one leg on a LAN."""

    lan: "TestLan"
    name: str
    ns: str
    address: str
    link: str = "eth0"
    procs: list[subprocess.Popen] = field(default_factory=list)

    def exec_args(self, args: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *args]

    def run(self, args: list[str], **kw: Any) -> subprocess.CompletedProcess:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.exec_args(args), **kw)

    def popen(self, args: list[str], **kw: Any) -> subprocess.Popen:
        proc = subprocess.Popen(self.exec_args(args), **kw)
        self.procs.append(proc)
        return proc

    def connect(self, addr: tuple[str, int], timeout: float = 5.0) -> socket.socket:
        """A TCP connection made from inside this host (to its loopback, say)."""
        return in_namespace(self.ns, lambda: socket.create_connection(addr, timeout=timeout))

    def udp_socket(self, bind: tuple[str, int] | None = None) -> socket.socket:
        def make() -> socket.socket:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(bind or (self.address, 0))
            return s
        return in_namespace(self.ns, make)

    def set_address(self, address: str, prefix: int = 24, gateway: str | None = None) -> None:
        """Renumber this host (a DHCP lease that changed), the old address gone."""
        _ip("addr", "flush", "dev", self.link, "scope", "global", ns=self.ns)
        _ip("addr", "add", f"{address}/{prefix}", "dev", self.link, ns=self.ns)
        _ip("route", "replace", "default", "via", gateway or self.lan.gateway_for(address), ns=self.ns)
        self.address = address

    def add_address(self, address: str, prefix: int = 24) -> None:
        _ip("addr", "add", f"{address}/{prefix}", "dev", self.link, ns=self.ns)

    def stop_processes(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()


class TestLan:
    """A bridge with hosts on it; `subnet(...)` adds a second LAN behind a router host."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        why = lan_missing()
        if why:
            raise LanUnavailable(why)
        self.tag = secrets.token_hex(3)
        self.bridges: list[str] = []
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.hosts: dict[str, Host] = {}
        self._nets: dict[str, ipaddress.IPv4Network] = {}   # bridge -> its /24
        self._next: dict[str, int] = {}
        self._taken = _subnets_in_use()
        self.bridge = self._new_bridge()
        self.net = self._nets[self.bridge]

    # -- building ----------------------------------------------------------------------

    def _new_bridge(self) -> str:
        name = f"cbx{self.tag}b{len(self.bridges)}"
        free = [n for n in range(1, 255) if n not in self._taken]
        if not free:
            raise LanUnavailable(f"no free {LAN_PREFIX}.N.0/24 left")
        n = free[secrets.randbelow(len(free))]
        self._taken.add(n)
        _ip("link", "add", name, "type", "bridge")
        self.bridges.append(name)
        _ip("link", "set", name, "up")
        self._nets[name] = ipaddress.ip_network(f"{LAN_PREFIX}.{n}.0/24")
        self._next[name] = 11
        return name

    def _plug(self, ns: str, bridge: str, name: str, address: str, prefix: int) -> None:
        """A veth pair: one end on `bridge`, the other inside `ns` as `name` with `address`, up."""
        outside, inside = f"cbx{self.tag}v{len(self.links)}", f"cbx{self.tag}w{len(self.links)}"
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        self.links.append(outside)
        _ip("link", "set", outside, "master", bridge)
        _ip("link", "set", outside, "up")
        _ip("link", "set", inside, "netns", ns)
        _ip("link", "set", inside, "name", name, ns=ns)
        _ip("addr", "add", f"{address}/{prefix}", "dev", name, ns=ns)
        _ip("link", "set", name, "up", ns=ns)

    def gateway_for(self, address: str) -> str:
        """The router address of the LAN that holds address (.254; nobody answers unless a router host)."""
        net = ipaddress.ip_network(f"{address}/24", strict=False)
        return str(net.network_address + 254)

    def host(self, name: str, *, bridge: str | None = None, address: str | None = None,
             gateway: str | None = None) -> Host:
        bridge = bridge or self.bridge
        net = self._nets[bridge]
        if address is None:
            if name == "box" and bridge == self.bridge:
                address = str(net.network_address + 1)
            else:
                address = str(net.network_address + self._next[bridge])
                self._next[bridge] += 1
        ns = f"cbx{self.tag}-{name}"
        _ip("netns", "add", ns)
        self.namespaces.append(ns)
        _ip("link", "set", "lo", "up", ns=ns)
        self._plug(ns, bridge, "eth0", address, net.prefixlen)
        _ip("route", "add", "default", "via", gateway or str(net.network_address + 254), ns=ns)
        h = Host(self, name, ns, address)
        self.hosts[name] = h
        return h

    def add_leg(self, host: Host, name: str, address: str, *, default_route: bool = True) -> None:
        """A second interface for `host` on the same LAN (Wi-Fi beside Ethernet), optionally taking
        over the default route, as when a box moves from one to the other."""
        net = self._nets[self.bridge]
        self._plug(host.ns, self.bridge, name, address, net.prefixlen)
        if default_route:
            _ip("route", "replace", "default", "via", str(net.network_address + 254), "dev", name, ns=host.ns)

    def subnet(self, router_name: str = "router") -> tuple[str, Host]:
        """A second LAN (a phone VLAN, say) joined to the first by a router host.

        Returns the new bridge and the router. Hosts made on the new bridge route
        through the router; the router's first-LAN address is the gateway that
        hosts of the first LAN need for the second (see `route_to`)."""
        second = self._new_bridge()
        net2 = self._nets[second]
        router = self.host(router_name, address=str(self.net.network_address + 254))
        ns = router.ns
        self._plug(ns, second, "eth1", str(net2.network_address + 254), 24)
        _ip("route", "del", "default", ns=ns, check=False)
        router.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
        return second, router

    # -- tearing down ------------------------------------------------------------------

    def close(self) -> None:
        for h in self.hosts.values():
            h.stop_processes()
        for ns in self.namespaces:
            # Whatever a test left running in a host dies with it.
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            _ip("netns", "del", ns, check=False)
        for link in self.links:
            _ip("link", "del", link, check=False)
        for br in self.bridges:
            _ip("link", "del", br, check=False)
        self.namespaces.clear()
        self.links.clear()
        self.bridges.clear()

    def __enter__(self) -> "TestLan":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def leftovers() -> list[str]:
    """Namespaces and links of test LANs still on the machine (for the cleanup test)."""
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.split("\n")
    found = [line.split()[0] for line in ns if line.startswith("cbx") and not line.startswith("cbxprobe")]
    found += [line.split(":")[1].strip().split("@")[0] for line in links
              if len(line.split(":")) > 1 and line.split(":")[1].strip().startswith("cbx")]
    return found
