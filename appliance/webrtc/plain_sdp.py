"""The engine side of a browser call: plain RTP SDP (RTP/AVP), read and written. Pure, no I/O.

An engine worker (pjsua2) speaks plain RTP with G.711 or G.722 and RFC 4733 DTMF. The bridge
offers it exactly one voice codec (the one the browser side uses, so audio passes through
without transcoding) plus telephone-event, or answers the engine's offer the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.webrtc.errors import MediaBridgeError

MAX_SDP_BYTES = 16 * 1024
# The voice codecs the bridge carries, best first: both Chromium and the pjsua2 wheel have them.
# G.722 first because it is wideband at the same bit rate; then the two G.711 laws.
VOICE_CODECS = ("G722", "PCMU", "PCMA")
STATIC_PT = {0: "PCMU", 8: "PCMA", 9: "G722"}
PT_FOR = {name: pt for pt, name in STATIC_PT.items()}
DTMF = "telephone-event"
DTMF_PT = 101
RTP_CLOCK = 8000   # every codec above, G.722 included (RFC 3551 §4.5.2), and telephone-event


@dataclass(frozen=True)
class PlainMedia:
    """What one plain-RTP SDP says about its audio: where to send, which codecs, which DTMF type."""

    address: str
    port: int
    codecs: tuple[tuple[int, str], ...]      # (payload type, codec name), in the sender's order
    dtmf_pt: int | None
    direction: str = "sendrecv"

    def voice(self) -> list[str]:
        """The voice codecs the bridge can carry, in this SDP's order."""
        return [name for _, name in self.codecs if name in VOICE_CODECS]

    def pt_of(self, name: str) -> int:
        for pt, codec in self.codecs:
            if codec == name:
                return pt
        raise MediaBridgeError(f"engine SDP has no {name}")


def choose_codec(offered: list[str], preference: tuple[str, ...] = VOICE_CODECS) -> str:
    """The codec both sides can carry: the first of `preference` that was offered."""
    for name in preference:
        if name in offered:
            return name
    raise MediaBridgeError(
        f"no common codec: offered {', '.join(offered) or 'none'}; the bridge carries {', '.join(preference)}")


def parse_plain(sdp: str, what: str = "engine SDP") -> PlainMedia:
    """Read the audio of a plain-RTP SDP; MediaBridgeError names what is wrong."""
    if not isinstance(sdp, str) or not sdp.strip():
        raise MediaBridgeError(f"{what} is empty")
    if len(sdp.encode("utf-8", "replace")) > MAX_SDP_BYTES:
        raise MediaBridgeError(f"{what} is larger than {MAX_SDP_BYTES} bytes")
    lines = [line.strip() for line in sdp.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines[0].startswith("v=0"):
        raise MediaBridgeError(f"{what} does not start with v=0")
    session_address = None
    media: dict | None = None
    for line in lines:
        if len(line) < 2 or line[1] != "=":
            raise MediaBridgeError(f"{what}: malformed line {line[:40]!r}")
        kind, value = line[0], line[2:]
        if kind == "m":
            if media is not None:
                break           # the first audio stream is the call's; later ones are not ours
            media = _media_line(value, what)
        elif kind == "c":
            address = _connection(value, what)
            if media is None:
                session_address = address
            else:
                media["address"] = address
        elif kind == "a" and media is not None:
            _attribute(media, value, what)
    if media is None:
        raise MediaBridgeError(f"{what} has no audio stream (m=audio)")
    address = media.get("address") or session_address
    if not address:
        raise MediaBridgeError(f"{what} has no connection address (c=)")
    codecs = tuple((pt, media["names"].get(pt) or STATIC_PT.get(pt, f"pt{pt}")) for pt in media["pts"])
    dtmf = next((pt for pt, name in codecs if name == DTMF), None)
    return PlainMedia(address, media["port"], codecs, dtmf, media.get("direction", "sendrecv"))


def _media_line(value: str, what: str) -> dict:
    parts = value.split()
    if len(parts) < 4 or parts[0] != "audio":
        raise MediaBridgeError(f"{what}: the first stream is not audio ({value[:40]!r})")
    if parts[2] != "RTP/AVP":
        raise MediaBridgeError(f"{what}: profile {parts[2]} is not plain RTP (RTP/AVP)")
    try:
        port = int(parts[1])
        pts = [int(p) for p in parts[3:]]
    except ValueError:
        raise MediaBridgeError(f"{what}: malformed m= line {value[:60]!r}") from None
    if not 0 < port < 65536:
        raise MediaBridgeError(f"{what}: audio port {port} is refused or out of range")
    if any(not 0 <= pt <= 127 for pt in pts):
        raise MediaBridgeError(f"{what}: payload type out of range in {value[:60]!r}")
    return {"port": port, "pts": pts, "names": {}}


def _connection(value: str, what: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] != "IP4":
        raise MediaBridgeError(f"{what}: connection {value[:40]!r} is not IN IP4")
    octets = parts[2].split("/")[0].split(".")
    if len(octets) != 4 or not all(o.isdigit() and int(o) < 256 for o in octets):
        raise MediaBridgeError(f"{what}: connection address {parts[2][:40]!r} is not an IPv4 address")
    return parts[2].split("/")[0]


def _attribute(media: dict, value: str, what: str) -> None:
    name, _, rest = value.partition(":")
    if name == "rtpmap":
        pt_text, _, encoding = rest.partition(" ")
        try:
            pt = int(pt_text)
        except ValueError:
            raise MediaBridgeError(f"{what}: malformed rtpmap {value[:40]!r}") from None
        codec, _, rate = encoding.partition("/")
        media["names"][pt] = DTMF if codec.lower() == DTMF else codec.upper()
        if codec.upper() in VOICE_CODECS + (DTMF.upper(),) and rate.split("/")[0] != str(RTP_CLOCK):
            media["names"][pt] = f"{codec.upper()}/{rate}"   # e.g. telephone-event/48000: not ours
    elif name in ("sendrecv", "sendonly", "recvonly", "inactive"):
        media["direction"] = name


def build_plain(address: str, port: int, codec: str, dtmf_pt: int | None, session_id: int,
                version: int = 1, direction: str = "sendrecv", codec_pt: int | None = None) -> str:
    """A plain-RTP SDP with one voice codec and, when given, telephone-event."""
    pt = PT_FOR[codec] if codec_pt is None else codec_pt
    pts = [str(pt)] + ([str(dtmf_pt)] if dtmf_pt is not None else [])
    lines = [
        "v=0",
        f"o=callbox {session_id} {version} IN IP4 {address}",
        "s=callbox",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(pts)}",
        f"a=rtpmap:{pt} {codec}/{RTP_CLOCK}",
    ]
    if dtmf_pt is not None:
        lines += [f"a=rtpmap:{dtmf_pt} {DTMF}/{RTP_CLOCK}", f"a=fmtp:{dtmf_pt} 0-16"]
    # RTCP to the RTP port (RFC 3605), where the bridge drops it: no stray packets to port + 1,
    # which may be another call's.
    lines += [f"a=rtcp:{port} IN IP4 {address}", "a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"
