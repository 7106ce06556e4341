"""How many REGISTERs one core can parse and authenticate per second.

    .venv/bin/python bench/bench_sip_parse.py
"""

from __future__ import annotations

import time

from appliance.sip.digest import DigestAuth, client_response
from appliance.sip.parser import parse

REGISTER = (
    "REGISTER sip:192.168.1.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.51:5062;branch=z9hG4bK2097398870;rport\r\n"
    'From: "Reception" <sip:201@192.168.1.10:5060>;tag=1594843412\r\n'
    'To: "Reception" <sip:201@192.168.1.10:5060>\r\n'
    "Call-ID: 2016463352@192.168.1.51\r\n"
    "CSeq: 2 REGISTER\r\n"
    'Contact: <sip:201@192.168.1.51:5062>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-805ec0a1b2c3>";reg-id=1\r\n'
    "{auth}"
    "Max-Forwards: 70\r\n"
    "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
    "Expires: 3600\r\n"
    "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, UPDATE, MESSAGE\r\n"
    "Content-Length: 0\r\n\r\n"
)


def _rate(fn, seconds: float) -> float:
    """Calls per second of fn, measured for about `seconds`."""
    n, batch = 0, 200
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def run(seconds: float = 1.0) -> dict:
    auth = DigestAuth("callbox", {"201": "s3cret-201"}.get)
    results = {}
    for alg in ("SHA-256", "MD5"):
        challenge = next(c for c in auth.challenge() if f"algorithm={alg}," in c)
        value = client_response("REGISTER", "sip:192.168.1.10:5060", "201", "s3cret-201", challenge)
        data = REGISTER.format(auth=f"Authorization: {value}\r\n").encode()
        msg = parse(data)
        header = msg.get("Authorization")
        assert auth.verify("REGISTER", header).ok
        results[alg] = (
            _rate(lambda: parse(data), seconds),
            _rate(lambda: auth.verify("REGISTER", header), seconds),
            _rate(lambda: auth.verify("REGISTER", parse(data).get("Authorization")), seconds),
        )
    print(f"{'algorithm':<10} {'parse/s':>10} {'verify/s':>10} {'parse+verify/s':>15}")
    for alg, (p, v, both) in results.items():
        print(f"{alg:<10} {p:>10.0f} {v:>10.0f} {both:>15.0f}")
    parse_rate, verify_rate, _ = results["SHA-256"]
    return {"sip_parse_per_s": parse_rate, "digest_verify_per_s": verify_rate}


if __name__ == "__main__":
    run()
