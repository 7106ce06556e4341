"""The answers kept for retransmissions (RFC 3261 §17.2): the same bytes again, for a while, a bounded number."""

from __future__ import annotations

from appliance.sip.answers import AnswerCache, Answers
from appliance.sip.parser import parse
from appliance.sip.source import Source


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_kept_until_it_expires():
    clock = Clock()
    cache = AnswerCache(clock, ttl=32.0, size=3)
    cache.put(("udp", "192.168.1.5", 5060, "z9hG4bK1", "REGISTER"), b"SIP/2.0 200 OK\r\n\r\n")
    clock.now += 31.9
    assert cache.get(("udp", "192.168.1.5", 5060, "z9hG4bK1", "REGISTER")) == b"SIP/2.0 200 OK\r\n\r\n"
    clock.now += 0.2
    assert cache.get(("udp", "192.168.1.5", 5060, "z9hG4bK1", "REGISTER")) is None


def test_the_oldest_answer_goes_beyond_the_size():
    cache = AnswerCache(Clock(), size=2)
    for n in range(3):
        cache.put(("udp", "192.168.1.5", 5060, f"b{n}", "REGISTER"), f"answer {n}".encode())
    assert cache.get(("udp", "192.168.1.5", 5060, "b0", "REGISTER")) is None
    assert cache.get(("udp", "192.168.1.5", 5060, "b2", "REGISTER")) == b"answer 2"


def test_a_retransmitted_request_gets_the_same_bytes():
    sent: list[bytes] = []
    answers = Answers(lambda data, transport, addr: sent.append(data), Clock())
    phone = Source("udp", "192.168.1.5", 5062)
    req = parse(b"REGISTER sip:192.168.1.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.5:5062;branch=z9hG4bKab;rport\r\n"
                b"From: <sip:1001@192.168.1.10>;tag=1\r\nTo: <sip:1001@192.168.1.10>\r\nCall-ID: c1\r\n"
                b"CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
    answers.reply(req, phone, 401, headers=[("WWW-Authenticate", 'Digest realm="callbox", nonce="n"')])
    assert answers.send_again(req, phone)
    assert len(sent) == 2 and sent[0] == sent[1] and sent[0].startswith(b"SIP/2.0 401")
