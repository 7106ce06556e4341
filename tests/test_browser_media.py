"""A browser phone's SDP through the media bridge (appliance/browser_media.py), with a bridge that
records what it was asked and answers like the real one's client: each way a call can be set up,
retransmissions, hold, the end of a call, a bridge that refuses or is not there."""

from __future__ import annotations

import asyncio

import pytest

from appliance.browser_media import BridgedMedia, direction_of, with_direction
from appliance.sip.message import SipMessage
from appliance.webrtc.errors import MediaBridgeError

BROWSER_OFFER = "v=0\r\no=- 7 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 9 0 8\r\na=sendrecv\r\n"
BROWSER_ANSWER = "v=0\r\no=- 8 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=sendrecv\r\n"
ENGINE_OFFER = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8 101\r\na=sendrecv\r\n"
ENGINE_ANSWER = "v=0\r\no=- 2 1 IN IP4 10.0.0.1\r\nm=audio 4002 RTP/AVP 9 101\r\na=sendrecv\r\n"


class FakeBridge:
    """Answers as BridgeClient does; `refuse` makes every command fail like a refusal."""

    def __init__(self):
        self.asked: list[tuple[str, str]] = []
        self.refuse = False
        self.gate: asyncio.Event | None = None   # set: commands wait for it

    async def _step(self, cmd: str, call: str) -> None:
        self.asked.append((cmd, call))
        if self.gate is not None:
            await self.gate.wait()
        if self.refuse:
            raise MediaBridgeError("no common codec: offered 96")

    async def browser_calls(self, call, offer):
        await self._step("browser_calls", call)
        return "bridge-answer-for-browser", "bridge-offer-for-engine"

    async def engine_answers(self, call, answer):
        await self._step("engine_answers", call)

    async def ring_browser(self, call, engine_offer):
        await self._step("ring_browser", call)
        return "bridge-offer-for-browser"

    async def browser_answers(self, call, answer):
        await self._step("browser_answers", call)
        return "bridge-answer-for-engine"

    async def hang_up(self, call):
        await self._step("hang_up", call)


def _invite(body: str, cseq: int = 1, call_id: str = "c1") -> SipMessage:
    return SipMessage.request("INVITE", "sip:1002@box", [("Call-ID", call_id), ("CSeq", f"{cseq} INVITE"),
                                                        ("Content-Type", "application/sdp")], body.encode())


def _ok(body: str, cseq: int = 1, status: int = 200, call_id: str = "c1") -> SipMessage:
    return SipMessage.response(status, None, [("Call-ID", call_id), ("CSeq", f"{cseq} INVITE"),
                                              ("Content-Type", "application/sdp")], body.encode())


def _plain(method_or_status, cseq: int = 1, call_id: str = "c1") -> SipMessage:
    if isinstance(method_or_status, str):
        return SipMessage.request(method_or_status, "sip:x@box", [("Call-ID", call_id), ("CSeq", f"{cseq} {method_or_status}")])
    return SipMessage.response(method_or_status, None, [("Call-ID", call_id), ("CSeq", f"{cseq} INVITE")])


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _media():
    bridge = FakeBridge()
    sent: list[bytes] = []
    return BridgedMedia(lambda: bridge), bridge, sent, lambda m: sent.append(m.body)


def test_a_browser_calls_the_engine_gets_plain_sdp_and_the_browser_the_bridges_answer():
    async def main():
        media, bridge, sent, go_on = _media()
        media.from_browser(_invite(BROWSER_OFFER), "1001", go_on)
        media.from_browser(_invite(BROWSER_OFFER), "1001", go_on)   # a copy while the bridge works: dropped
        await _settle()
        assert sent == [b"bridge-offer-for-engine"] and bridge.asked == [("browser_calls", "c1")]
        media.from_browser(_invite(BROWSER_OFFER), "1001", go_on)   # a copy after: the same offer again
        media.to_browser(_ok(ENGINE_ANSWER, status=183), "1001", go_on)
        await _settle()
        media.to_browser(_ok(ENGINE_ANSWER), "1001", go_on)         # the 200 after the 183: the same answer
        media.to_browser(_ok(ENGINE_ANSWER), "1001", go_on)         # and its retransmission
        assert sent[1:] == [b"bridge-offer-for-engine"] + [b"bridge-answer-for-browser"] * 3
        assert bridge.asked == [("browser_calls", "c1"), ("engine_answers", "c1")]
        media.call_over(_plain("BYE", 2))
        await _settle()
        assert bridge.asked[-1] == ("hang_up", "c1") and media.calls == {}

    asyncio.run(main())


def test_the_box_rings_a_browser_with_the_bridges_offer_and_gives_the_engine_its_answer():
    async def main():
        media, bridge, sent, go_on = _media()
        media.to_browser(_invite(ENGINE_OFFER, cseq=5), "1001", go_on)
        await _settle()
        media.from_browser(_ok(BROWSER_ANSWER, cseq=5), "1001", go_on)
        media.from_browser(_ok(BROWSER_ANSWER, cseq=5), "1001", go_on)  # retransmitted while the bridge works
        await _settle()
        media.from_browser(_ok(BROWSER_ANSWER, cseq=5), "1001", go_on)  # after: the same answer
        assert sent == [b"bridge-offer-for-browser", b"bridge-answer-for-engine", b"bridge-answer-for-engine"]
        assert bridge.asked == [("ring_browser", "c1"), ("browser_answers", "c1")]

    asyncio.run(main())


def test_hold_either_way_changes_only_the_direction_of_what_each_side_was_given():
    async def main():
        media, bridge, sent, go_on = _media()
        call = media.calls
        media.from_browser(_invite(BROWSER_OFFER), "1001", go_on)
        await _settle()
        media.to_browser(_ok(ENGINE_ANSWER), "1001", go_on)
        await _settle()
        call["c1"].to_engine, call["c1"].to_browser = ENGINE_OFFER, BROWSER_ANSWER
        # The browser puts the call on hold: the engine is offered its SDP again, send-only.
        media.from_browser(_invite(BROWSER_OFFER.replace("sendrecv", "sendonly"), cseq=2), "1001", go_on)
        media.to_browser(_ok(ENGINE_ANSWER.replace("sendrecv", "recvonly"), cseq=2), "1001", go_on)
        # The engine puts it on hold (its own CSeq space may even repeat the set-up's number).
        media.to_browser(_invite(ENGINE_OFFER.replace("sendrecv", "sendonly"), cseq=1), "1001", go_on)
        media.from_browser(_ok(BROWSER_ANSWER.replace("sendrecv", "recvonly"), cseq=1), "1001", go_on)
        held = [b.decode() for b in sent[-4:]]
        assert [direction_of(b) for b in held] == ["sendonly", "recvonly", "sendonly", "recvonly"]
        assert "RTP/AVP 8 101" in held[0] and "o=- 1 2 IN IP4" in held[0]   # the same SDP, a new version
        assert "SAVPF 8" in held[1] and "SAVPF 8" in held[2]
        assert bridge.asked == [("browser_calls", "c1"), ("engine_answers", "c1")]   # nothing asked of the bridge

    asyncio.run(main())


@pytest.mark.parametrize("ending, over", [
    (_plain("BYE", 9), True), (_plain("CANCEL"), True), (_plain(486), True), (_plain(487), True),
    (_plain(491, cseq=3), False),    # a refused re-INVITE: the call goes on
])
def test_what_ends_a_call_hangs_up_its_bridge(ending, over):
    async def main():
        media, bridge, sent, go_on = _media()
        media.to_browser(_invite(ENGINE_OFFER), "1001", go_on)
        await _settle()
        media.call_over(ending)
        await _settle()
        assert (("hang_up", "c1") in bridge.asked) is over and ("c1" in media.calls) is not over

    asyncio.run(main())


def test_a_cancel_after_the_answer_leaves_the_call_to_its_bye():
    async def main():
        media, bridge, sent, go_on = _media()
        media.to_browser(_invite(ENGINE_OFFER), "1001", go_on)
        await _settle()
        media.from_browser(_ok(BROWSER_ANSWER), "1001", go_on)
        await _settle()
        media.call_over(_plain("CANCEL"))
        assert "c1" in media.calls

    asyncio.run(main())


def test_a_refusing_or_absent_bridge_lets_the_message_go_on_unchanged_for_the_far_side_to_refuse():
    async def main():
        media, bridge, sent, go_on = _media()
        bridge.refuse = True
        media.from_browser(_invite(BROWSER_OFFER), "1001", go_on)
        await _settle()
        assert sent == [BROWSER_OFFER.encode()] and media.calls == {}
        absent = BridgedMedia(lambda: None)
        absent.to_browser(_invite(ENGINE_OFFER, call_id="c2"), "1001", go_on)
        assert sent[-1] == ENGINE_OFFER.encode() and absent.calls == {}

    asyncio.run(main())


def test_a_call_the_bridge_ended_by_itself_is_forgotten_and_its_sip_call_ended():
    async def main():
        ended = []
        bridge = FakeBridge()
        media = BridgedMedia(lambda: bridge, media_ended=ended.append)
        media.to_browser(_invite(ENGINE_OFFER), "1001", lambda m: None)
        await _settle()
        media.bridge_ended("c1", "browser unreachable")
        assert media.calls == {} and ended == ["c1"]

    asyncio.run(main())


def test_with_direction_sets_every_direction_and_counts_the_version():
    sdp = "v=0\r\no=- 5 41 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=recvonly\r\nm=video 0 RTP/AVP 96\r\na=sendrecv\r\n"
    out = with_direction(sdp, "inactive")
    assert out.count("a=inactive") == 2 and "o=- 5 42 IN IP4" in out and out.endswith("\r\n")
    assert direction_of("v=0\r\nm=audio 1 RTP/AVP 0\r\n") == "sendrecv"
    assert "a=sendrecv" in with_direction("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\n", "bogus")
    offer = "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=setup:actpass\r\na=sendrecv\r\n"
    assert "a=setup:passive\r\na=recvonly\r\n" in with_direction(offer, "recvonly", "passive")


def test_the_bridges_offer_answering_a_browsers_re_offer_names_the_dtls_role_the_call_has():
    async def main():
        media, bridge, sent, go_on = _media()
        media.to_browser(_invite(ENGINE_OFFER), "1001", go_on)
        await _settle()
        media.calls["c1"].to_browser = BROWSER_OFFER + "a=setup:actpass\r\n"
        media.from_browser(_ok(BROWSER_ANSWER + "a=setup:active\r\n"), "1001", go_on)
        await _settle()
        media.from_browser(_invite(BROWSER_OFFER.replace("sendrecv", "sendonly") + "a=setup:actpass\r\n", cseq=900),
                           "1001", go_on)
        media.to_browser(_ok(ENGINE_ANSWER.replace("sendrecv", "recvonly"), cseq=900), "1001", go_on)
        reanswer = sent[-1].decode()
        assert "a=setup:passive" in reanswer and direction_of(reanswer) == "recvonly"

    asyncio.run(main())


def test_an_offer_hung_up_while_the_bridge_works_on_it_goes_nowhere():
    async def main():
        media, bridge, sent, go_on = _media()
        bridge.gate = asyncio.Event()
        media.to_browser(_invite(ENGINE_OFFER), "1001", go_on)
        await _settle()
        media.call_over(_plain("CANCEL"))
        bridge.refuse = True                 # the bridge's set-up fails: hung up during set-up
        bridge.gate.set()
        await _settle()
        assert sent == [] and media.calls == {} and ("hang_up", "c1") in bridge.asked

    asyncio.run(main())


def test_another_browsers_message_with_a_calls_call_id_changes_nothing():
    async def main():
        media, bridge, sent, go_on = _media()
        media.to_browser(_invite(ENGINE_OFFER), "1001", go_on)
        await _settle()
        media.from_browser(_ok(BROWSER_ANSWER), "1002", go_on)
        await _settle()
        assert sent[-1] == BROWSER_ANSWER.encode() and bridge.asked == [("ring_browser", "c1")]
        assert not media.calls["c1"].answered

    asyncio.run(main())
