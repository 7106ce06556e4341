"""RTP headers (RFC 3550 §5.1) for the plain side of the bridge: read one, write one. Pure, no I/O."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("!BBHII")
RTCP_TYPES = range(200, 205)   # SR, RR, SDES, BYE, APP: second byte of an RTCP packet (RFC 5761 §4)


@dataclass(frozen=True)
class RtpPacket:
    """The parts of an RTP packet the bridge relays."""

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse(data: bytes) -> RtpPacket | None:
    """An RTP packet, or None for anything else (RTCP, too short, not version 2, bad lengths)."""
    if len(data) < HEADER.size:
        return None
    first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
    if first >> 6 != 2 or second in RTCP_TYPES:
        return None
    start = HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:                                   # a header extension: skip it
        if len(data) < start + 4:
            return None
        start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
    end = len(data)
    if first & 0x20:                                   # padding: its count is the last byte
        end -= data[-1]
    if start > end:
        return None
    return RtpPacket(second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, bytes(data[start:end]))


def build(payload_type: int, marker: bool, sequence: int, timestamp: int, ssrc: int, payload: bytes) -> bytes:
    """A plain RTP packet: no CSRC, no extension, no padding."""
    return HEADER.pack(0x80, (0x80 if marker else 0) | (payload_type & 0x7F), sequence & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload
