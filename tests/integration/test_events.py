"""The event stream (Server-Sent Events) tells about registrations and bans as they happen."""

from __future__ import annotations

import json
import queue
import socket
import threading
import urllib.request

from tests.integration.rawphone import register


class EventReader:
    def __init__(self, core, kinds: str = ""):
        url = core.info["url"] + "/api/events" + (f"?kinds={kinds}" if kinds else "")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {core.info['token']}"})
        self.resp = urllib.request.urlopen(req, timeout=30)
        assert self.resp.headers["Content-Type"].startswith("text/event-stream")
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind, data = None, None
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and kind:
                    self.events.put((kind, data))
                    kind, data = None, None
        except (OSError, ValueError, AttributeError):  # the socket was shut down under us
            pass

    def next(self, kind: str, timeout: float = 10) -> dict:
        while True:
            got_kind, data = self.events.get(timeout=timeout)
            if got_kind == kind:
                return data

    def close(self) -> None:
        # Shut the socket down first: a plain close() would wait for the reader thread's recv().
        sock = self.resp.fp.raw._sock  # type: ignore[attr-defined]
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.resp.close()


def test_registration_and_unregistration_are_events(core):
    ext = core.add_extension("1001")
    reader = EventReader(core, kinds="registration,unregistration")
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.bind(("127.0.0.1", 0))
    phone.settimeout(3)
    try:
        assert register(phone, core.sip_port, "1001", ext["secret"]).startswith("SIP/2.0 200 ")
        event = reader.next("registration")
        assert event["aor"] == "1001" and event["source"] == f"udp:127.0.0.1:{phone.getsockname()[1]}"
        core.api("DELETE", "/api/extensions/1001")
        assert core.registrations() == []
    finally:
        reader.close()
        phone.close()


def test_ban_is_an_event_and_shows_in_the_api(core_factory):
    core = core_factory({"security.ban_failures": 3})
    core.add_extension("1001")
    reader = EventReader(core, kinds="ban")
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.bind(("127.0.0.1", 0))
    phone.settimeout(3)
    try:
        answers = [register(phone, core.sip_port, "1001", f"Wrong-password-{i}") for i in range(3)]
        assert all(a.startswith("SIP/2.0 403 ") for a in answers)
        ban = reader.next("ban")
        assert ban["ip"] == "127.0.0.1"
        assert core.api("GET", "/api/bans")[1]["bans"][0]["ip"] == "127.0.0.1"
        # Banned: even the right password gets no answer now.
        phone.sendto(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKo\r\n"
                     b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n"
                     b"Content-Length: 0\r\n\r\n", ("127.0.0.1", core.sip_port))
        phone.settimeout(1)
        try:
            phone.recv(65535)
            raise AssertionError("a banned address got an answer")
        except socket.timeout:
            pass
    finally:
        reader.close()
        phone.close()
