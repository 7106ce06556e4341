"""The plug-and-play listener: a multicast socket for the phones' SUBSCRIBEs and a
unicast one for the answers.

Adapter around pnp.PnpResponder. The answers leave from a socket of their own
on the LAN address (not from the group address), so the phone's 200 to the
NOTIFY comes back to it. Port 5060 is usually the SIP edge's: binding the
group address on the same port needs SO_REUSEADDR on both sockets. Where the
edge cannot set it, the edge may instead join the group on its own socket
with `join_group()` and hand ua-profile SUBSCRIBEs to `PnpResponder.receive()`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

from appliance.provisioning.pnp import PNP_GROUP, PNP_PORT, Datagram, PnpResponder

log = logging.getLogger(__name__)

_TICK = 0.1


def join_group(sock: socket.socket, interface: str, group: str = PNP_GROUP) -> None:
    """Make `sock` (bound to the group's port) receive the group's datagrams on `interface`."""
    membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(interface))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)


def open_multicast_socket(interface: str, port: int = PNP_PORT, group: str = PNP_GROUP) -> socket.socket:
    """A UDP socket bound to group:port that hears the group on `interface` only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Bound to the group, not 0.0.0.0: unicast SIP to this port stays the edge's.
        sock.bind((group, port))
        join_group(sock, interface, group)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, listener: PnpListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.listener.handle(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("plug and play socket: %s", exc)


class PnpListener:
    """The running listener: `close()` stops it."""

    def __init__(self, responder: PnpResponder) -> None:
        self.responder = responder
        self.group_transport: asyncio.DatagramTransport | None = None
        self.reply_transport: asyncio.DatagramTransport | None = None
        self._ticker: asyncio.Task | None = None

    def handle(self, data: bytes, source: tuple[str, int]) -> None:
        self._send(self.responder.receive(data, source))

    def _send(self, datagrams: list[Datagram]) -> None:
        if self.reply_transport is None:
            return
        for d in datagrams:
            self.reply_transport.sendto(d.data, d.to)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_TICK)
            self._send(self.responder.due())

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for transport in (self.group_transport, self.reply_transport):
            if transport is not None:
                transport.close()


async def start_pnp_listener(responder: PnpResponder, interface: str, *, port: int = PNP_PORT,
                             group: str = PNP_GROUP) -> PnpListener:
    """Listen on group:port on `interface`; answers leave from `responder.local`
    (port 0 there picks a free port, and `responder.local` is updated to it)."""
    loop = asyncio.get_running_loop()
    listener = PnpListener(responder)
    reply_transport, _ = await loop.create_datagram_endpoint(
        lambda: _Receiver(listener), local_addr=responder.local)
    listener.reply_transport = reply_transport
    responder.local = reply_transport.get_extra_info("sockname")[:2]
    try:
        sock = open_multicast_socket(interface, port, group)
        listener.group_transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(listener), sock=sock)
    except BaseException:
        listener.close()
        raise
    listener._ticker = asyncio.get_running_loop().create_task(listener._tick())
    return listener
