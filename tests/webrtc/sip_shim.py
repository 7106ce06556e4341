"""Just enough SIP over UDP to carry the bridge's plain SDP to and from a pjsua2 test phone.

    shim = SipShim(box.udp_socket())
    dialog = shim.invite(phone.uri, engine_offer)
    phone.wait_for("incoming"); phone.answer()
    shim.answered(dialog)                                 # the phone's SDP in dialog.remote_sdp
    ...
    shim.bye(dialog)

    dialog = shim.take_invite()                           # the phone called us: its offer
    shim.answer(dialog, engine_answer)

No retransmission, no authentication, one call at a time: the test LAN loses nothing and the
phone calls nobody else.
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass, field


class SipShimError(Exception):
    """The phone answered something this shim does not expect, or nothing in time."""


@dataclass
class Message:
    first: str
    headers: list[tuple[str, str]]
    body: str
    source: tuple[str, int] = ("", 0)

    def get(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def status(self) -> int:
        return int(self.first.split()[1]) if self.first.startswith("SIP/2.0") else 0


def parse(data: bytes, source: tuple[str, int]) -> Message:
    head, _, body = data.decode("utf-8", "replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    return Message(lines[0], headers, body, source)


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote: tuple[str, int]
    request_uri: str = ""
    remote_to: str = ""
    remote_from: str = ""
    remote_sdp: str = ""
    invite: Message | None = None
    cseq: int = 1
    extra: dict = field(default_factory=dict)


class SipShim:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.address, self.port = sock.getsockname()[:2]

    def _send(self, text: str, to: tuple[str, int]) -> None:
        self.sock.sendto(text.encode(), to)

    def _receive(self, timeout: float, want) -> Message:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise SipShimError("no SIP message in time")
            self.sock.settimeout(left)
            try:
                data, source = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            message = parse(data, source)
            if want(message):
                return message

    def _via(self) -> str:
        return f"SIP/2.0/UDP {self.address}:{self.port};branch=z9hG4bK{secrets.token_hex(6)};rport"

    def _request(self, method: str, dialog: Dialog, to: str, cseq: int, body: str = "",
                 uri: str | None = None) -> None:
        lines = [f"{method} {uri or dialog.request_uri} SIP/2.0", f"Via: {self._via()}", "Max-Forwards: 70",
                 f"From: <sip:box@{self.address}>;tag={dialog.local_tag}", f"To: {to}",
                 f"Call-ID: {dialog.call_id}", f"CSeq: {cseq} {method}",
                 f"Contact: <sip:box@{self.address}:{self.port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self._send("\r\n".join(lines) + "\r\n\r\n" + body, dialog.remote)

    def invite(self, uri: str, sdp: str) -> Dialog:
        """Send an INVITE with `sdp` to `uri`; `answered` waits for the 200 and ACKs it."""
        host, port = uri.split("@", 1)[1].split(":")
        dialog = Dialog(f"{secrets.token_hex(8)}@{self.address}", secrets.token_hex(4), (host, int(port)),
                        request_uri=uri)
        self._request("INVITE", dialog, f"<{uri}>", 1, sdp)
        return dialog

    def answered(self, dialog: Dialog, timeout: float = 15.0) -> Dialog:
        while True:
            reply = self._receive(timeout, lambda m: m.get("Call-ID") == dialog.call_id and m.status)
            if reply.status >= 300:
                raise SipShimError(f"phone refused the call: {reply.first}")
            if reply.status == 200:
                break
        dialog.remote_to, dialog.remote_sdp = reply.get("To"), reply.body
        contact = reply.get("Contact").strip().lstrip("<").split(">")[0]
        self._request("ACK", dialog, dialog.remote_to, 1, uri=contact)
        dialog.request_uri = contact
        return dialog

    def bye(self, dialog: Dialog, timeout: float = 5.0) -> None:
        dialog.cseq += 1
        self._request("BYE", dialog, dialog.remote_to, dialog.cseq)
        self._receive(timeout, lambda m: m.get("Call-ID") == dialog.call_id and m.status == 200)

    def take_invite(self, timeout: float = 15.0) -> Dialog:
        invite = self._receive(timeout, lambda m: m.first.startswith("INVITE "))
        return Dialog(invite.get("Call-ID"), secrets.token_hex(4), invite.source, remote_from=invite.get("From"),
                      remote_sdp=invite.body, invite=invite)

    def answer(self, dialog: Dialog, sdp: str, timeout: float = 5.0) -> None:
        invite = dialog.invite
        assert invite is not None
        lines = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in invite.all("Via")] + [
            f"From: {invite.get('From')}", f"To: {invite.get('To')};tag={dialog.local_tag}",
            f"Call-ID: {dialog.call_id}", f"CSeq: {invite.get('CSeq')}",
            f"Contact: <sip:box@{self.address}:{self.port}>", "Content-Type: application/sdp",
            f"Content-Length: {len(sdp.encode())}"]
        self._send("\r\n".join(lines) + "\r\n\r\n" + sdp, dialog.remote)
        self._receive(timeout, lambda m: m.first.startswith("ACK ") and m.get("Call-ID") == dialog.call_id)

    def take_bye(self, dialog: Dialog, timeout: float = 5.0) -> None:
        bye = self._receive(timeout, lambda m: m.first.startswith("BYE ") and m.get("Call-ID") == dialog.call_id)
        lines = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in bye.all("Via")] + [
            f"From: {bye.get('From')}", f"To: {bye.get('To')}", f"Call-ID: {dialog.call_id}",
            f"CSeq: {bye.get('CSeq')}", "Content-Length: 0"]
        self._send("\r\n".join(lines) + "\r\n\r\n", bye.source)
