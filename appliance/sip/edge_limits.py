"""What the SIP edge allows and what it counts: the limits of its sockets and memories, and its
tallies of what it received, refused, forwarded and relayed."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EdgeLimits", "EdgeStats"]


@dataclass(frozen=True)
class EdgeLimits:
    """Limits of the edge's sockets that are not settings (yet): the defaults are what the box runs."""

    # A TCP message once begun (headers or body) must be complete within this (Kamailio: 20 s).
    tcp_message_timeout_s: float = 10.0
    # A TCP connection that sent nothing this long is closed, unless a live registration was made over it.
    tcp_idle_timeout_s: float = 120.0
    # TCP connections one address may hold (phones behind an office NAT share an address).
    tcp_per_address: int = 64
    # TCP connections in all (the process has 1,024 file descriptors by default).
    tcp_total: int = 512
    # Answers queued for a TCP peer that does not read them: beyond this it is cut off.
    tcp_write_buffer: int = 256 * 1024
    # Forwarded requests whose responses the edge will relay (where each must go).
    relay_paths: int = 20_000
    # How long a forwarded request's responses are relayed: an INVITE may ring for minutes.
    relay_invite_s: float = 300.0
    relay_other_s: float = 64.0
    # Datagrams read from the UDP socket per wake-up (then handled, registered phones first).
    udp_batch: int = 256


@dataclass
class EdgeStats:
    received: int = 0
    malformed: int = 0
    dropped: int = 0
    forwarded: int = 0
    responses_relayed: int = 0
    retransmissions_answered: int = 0
    tcp_refused: int = 0
    tcp_timed_out: int = 0
