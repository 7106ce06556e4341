"""The test phone itself: it registers with digest credentials like a desk phone."""

import hashlib
import re
import socket
import threading

import pytest

pytestmark = pytest.mark.peers


class ChallengingRegistrar:
    """Just enough registrar to check a phone's digest answer (RFC 2617 MD5)."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("REGISTER"):
                continue
            heads = "".join(line + "\r\n" for line in text.split("\r\n")[1:]
                            if line.split(":")[0].lower() in ("via", "from", "to", "call-id",
                                                              "cseq"))
            auth = re.search(r"^Authorization: Digest (.*)$", text, re.M)
            if auth and self._valid(auth.group(1)):
                self.accepted.append(text)
                status = "200 OK"
                extra = "Expires: 300\r\n"
            else:
                status = "401 Unauthorized"
                extra = 'WWW-Authenticate: Digest realm="box", nonce="n0nce", algorithm=MD5\r\n'
            to = re.sub(r"^(To: [^\r\n]*)", r"\1;tag=reg1", heads, flags=re.M) \
                if ";tag=" not in heads.split("To:")[1].split("\r\n")[0] else heads
            self.sock.sendto(f"SIP/2.0 {status}\r\n{to}{extra}Content-Length: 0\r\n\r\n"
                             .encode(), addr)

    def _valid(self, params: str) -> bool:
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', params))
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1 = md5(f"{self.user}:box:{self.password}")
        ha2 = md5(f"REGISTER:{fields.get('uri')}")
        return fields.get("username") == self.user and \
            fields.get("response") == md5(f"{ha1}:n0nce:{ha2}")

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.mark.parametrize("password, code", [("secret", 200), ("wrong", 401)])
def test_phone_registers_with_digest(make_phone, password, code):
    registrar = ChallengingRegistrar("201", "secret")
    try:
        phone = make_phone("desk")
        phone.register(f"sip:127.0.0.1:{registrar.port}", "201", password)
        assert phone.wait_for("reg_state", timeout=10)["code"] == code
        assert bool(registrar.accepted) == (code == 200)
    finally:
        registrar.close()
