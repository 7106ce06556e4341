"""Engine workers obey only the edge: an INVITE sent straight to a worker, from anywhere, gets nothing."""

from __future__ import annotations

import socket
import time

from tests.integration.rawphone import final_statuses, invite
from tests.integration.test_calls import call_records, connect, hear_each_other, registered_phone


def test_an_invite_straight_to_a_worker_is_refused_there_and_never_becomes_a_call(box, phones):
    worker = box.api("GET", "/api/engine")[1]["workers"][0]
    src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # From the edge's own port on another loopback address: a source port proves nothing.
    src.bind(("127.0.0.2", box.sip_port))
    forged = "X-Callbox-Auth: 1001;ts=%d;mac=%s\r\n" % (time.time(), "0" * 32)
    for i in range(20):
        extra = forged if i % 2 else ""
        src.sendto(invite(f"127.0.0.1:{worker['sip_port']}", src, "0088161234567", f"attack-{i}", extra),
                   ("127.0.0.1", worker["sip_port"]))
    codes = final_statuses(src, 3.0, final_only=True)
    assert codes and set(codes) == {403}, codes
    # The core never saw them: no refused call of its own, no record, and the worker is all free.
    assert "did not come through the edge" not in box.log()
    status, engine = box.api("GET", "/api/engine")
    assert all(w["free"] == w["max_calls"] for w in engine["workers"]), engine
    assert box.api("GET", "/api/cdr")[1]["records"] == []
    # And a real call through the edge still goes through.
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    connect(box, anna, piotr, "1002")
    anna.hangup()
    assert call_records(box)[0]["answered_by"] == "1002"


def test_a_refer_with_replaces_cannot_take_over_a_strangers_call(box, phones, tmp_path):
    anna, piotr, li, marta = (registered_phone(box, phones, n) for n in ("1001", "1002", "1003", "1004"))
    connect(box, anna, piotr, "1002")
    connect(box, li, marta, "1004")
    victim = next(c for c in box.api("GET", "/api/engine")[1]["calls"] if c["caller"] == "1003")
    # Anna asks the box to join Piotr with "her" consultation call: it is Li's call with Marta.
    anna.transfer(f"sip:1004@127.0.0.1:{box.sip_port}?Replaces={victim['call_id']}")
    anna.wait_for("call_state", state="DISCONNECTED", timeout=15)
    time.sleep(1.0)
    assert not [e for e in marta.events("call_state") if e["state"] == "DISCONNECTED"]
    assert not [e for e in li.events("call_state") if e["state"] == "DISCONNECTED"]
    hear_each_other(li, marta, tmp_path)  # still each other's
    assert "attended transfer by 1001 refused" in box.log()
