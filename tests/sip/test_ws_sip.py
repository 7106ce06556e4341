"""The stand-in browsers' SIP (tests/sip/ws_sip.py): what they write, the box's parser reads."""

from __future__ import annotations

from tests.sip import ws_sip
from tests.sip.ws_sip import Dialog

BOX = "192.0.2.1"


def test_a_register_and_a_call_read_back_as_they_were_written():
    contact = ws_sip.new_contact()
    call_id, text = ws_sip.register("1010", BOX, contact)
    register = ws_sip.read(text)
    assert (register.method, register.uri, register.call_id, register.get("Expires")) == ("REGISTER", f"sip:{BOX}",
                                                                                          call_id, "600")
    assert register.top_via.transport == "WSS" and register.get("Contact") == contact

    d = Dialog.calling("1010", "1001", BOX)
    invite = ws_sip.read(ws_sip.request("INVITE", d, contact, "v=0\r\n"))
    assert ws_sip.first_line(invite) == f"INVITE sip:1001@{BOX} SIP/2.0"
    assert invite.body == b"v=0\r\n" and invite.get("Content-Type") == "application/sdp"
    assert ws_sip.request_of("INVITE", d.call_id)(invite) and not ws_sip.final_reply(d.call_id)(invite)


def test_the_answering_side_tags_its_to_keeps_the_route_set_and_replies_along_the_vias():
    caller = Dialog.calling("1001", "1010", BOX)
    invite = ws_sip.read(ws_sip.request("INVITE", caller, "<sip:1001@192.0.2.9>", "v=0\r\n"))
    invite.add("Record-Route", f"<sip:{BOX};lr>, <sip:{BOX}:7443;transport=ws;lr>")
    called = Dialog.called(invite)
    assert called.local.startswith(f"<sip:1010@{BOX}>;tag=") and called.target == "sip:1001@192.0.2.9"
    assert called.routes == [f"<sip:{BOX};lr>", f"<sip:{BOX}:7443;transport=ws;lr>"]

    ringing = ws_sip.read(ws_sip.reply(invite, 180, "Ringing", to=called.local))
    assert ringing.status == 180 and ringing.get("To") == called.local
    assert ringing.get_all("Record-Route") == called.routes and ringing.get_all("Via") == invite.get_all("Via")
    assert ws_sip.reply_to("INVITE", caller.call_id)(ringing) and not ws_sip.final_reply(caller.call_id)(ringing)

    caller.answered(ws_sip.read(ws_sip.reply(invite, 200, "OK", to=called.local,
                                             extra=[("Contact", "<sip:ab@cd.invalid;transport=ws>")])))
    assert caller.remote == called.local and caller.target == "sip:ab@cd.invalid;transport=ws"
    assert caller.routes == list(reversed(called.routes))


def test_a_keep_alive_is_no_message():
    assert ws_sip.read("\r\n\r\n") is None and ws_sip.read(b"") is None
