"""A browser phone through the media bridge to a real pjsua2 phone, on the test LAN.

Headless Chromium (its microphone a WAV tone) runs in one host of the LAN, the bridge process
in the box, a pjsua2 phone (standing in for an engine worker: same library, same plain RTP) in a
third host. Each side sends its own tone; each must hear the other's, by FFT. The browser's
RFC 4733 digits must reach the phone as DTMF.
"""

from __future__ import annotations

import os

import pytest

from tests.peers.audio import write_sine
from tests.webrtc.sip_shim import SipShim

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytest.importorskip("pjsua2", reason="the pjsua2 wheel is not installed")
from tests.peers.phones import Phone  # noqa: E402
from tests.webrtc.browser_page import CHROMIUM, chromium_in  # noqa: E402
from tests.webrtc.hearing import heard_by_browser, heard_by_phone, wait_connected  # noqa: E402
from tests.webrtc.peers import BridgeProcess  # noqa: E402

if not os.path.exists(CHROMIUM):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.peers

BROWSER_HZ = 700      # the browser's microphone
PHONE_HZ = 1100       # the engine side's tone


@pytest.fixture
def office(lan, tmp_path, request):
    """The box (the bridge process), a desk (the browser) and the engine's phone, whose codecs a
    test names with `@pytest.mark.parametrize("office", [codecs], indirect=True)`."""
    box, desk, engine = lan.host("box"), lan.host("desk1"), lan.host("engine")
    bridge = BridgeProcess(box.address, host=box)
    phone = Phone("engine", codecs=getattr(request, "param", "G722/16000,PCMU/8000,PCMA/8000"), host=engine)
    tone = write_sine(tmp_path / "mic.wav", BROWSER_HZ, 3.0, rate=48000)
    try:
        yield box, desk, bridge, phone, tone
    finally:
        phone.close()
        bridge.close()


def test_a_browser_calls_and_talks_with_a_pjsua2_phone(office, tmp_path):
    """Chromium offers G.722 among others; the bridge takes it (wideband) on both sides."""
    box, desk, bridge, phone, tone = office
    shim = SipShim(box.udp_socket())
    with chromium_in(desk, tone, tmp_path) as page:
        offer = page.evaluate("phone.call()")
        assert "UDP/TLS/RTP/SAVPF" in offer
        reply = bridge.command("browser_calls", call="c1", offer=offer)
        assert reply["ok"], reply
        assert "RTP/AVP 9 101" in reply["engine_offer"] and "telephone-event/8000" in reply["engine_offer"]

        dialog = shim.invite(phone.uri, reply["engine_offer"])
        phone.wait_for("incoming")
        phone.answer()
        shim.answered(dialog)
        assert bridge.command("engine_answers", call="c1", answer=dialog.remote_sdp)["ok"]
        page.evaluate("answer => phone.accept(answer)", reply["answer"])
        wait_connected(page)
        phone.play_tone(PHONE_HZ)

        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(phone, tmp_path / "phone.wav") - BROWSER_HZ) < 25

        page.evaluate("phone.dtmf('5')")
        assert phone.wait_for("dtmf", timeout=5)["digit"] == "5"

        stats = bridge.command("stats")["calls"]["c1"]
        assert stats["to_engine"] > 50 and stats["to_browser"] > 50 and stats["dtmf_to_engine"] > 0
        assert stats["refused_sources"] == 0

        shim.bye(dialog)
        assert bridge.command("hang_up", call="c1")["ok"]
        assert bridge.command("stats")["calls"] == {}


@pytest.mark.parametrize("office", ["PCMA/8000"], indirect=True)
def test_the_box_rings_a_browser_that_answers(office, tmp_path):
    """The engine offers A-law only; the browser is offered A-law and answers with it."""
    box, desk, bridge, phone, tone = office
    shim = SipShim(box.udp_socket())
    with chromium_in(desk, tone, tmp_path) as page:
        # The phone plays the engine worker that calls an agent's browser through the bridge.
        phone.call(f"sip:agent@{shim.address}:{shim.port}")
        dialog = shim.take_invite()
        reply = bridge.command("ring_browser", call="c2", engine_offer=dialog.remote_sdp)
        assert reply["ok"], reply
        assert "UDP/TLS/RTP/SAVPF 8 " in reply["offer"]
        answer = page.evaluate("offer => phone.answer(offer)", reply["offer"])
        done = bridge.command("browser_answers", call="c2", answer=answer)
        assert done["ok"], done
        shim.answer(dialog, done["engine_answer"])
        phone.wait_for("call_state", state="CONFIRMED")
        wait_connected(page)
        phone.play_tone(PHONE_HZ)

        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(phone, tmp_path / "phone.wav") - BROWSER_HZ) < 25

        # The agent closes the page: the bridge notices and says so.
        page.evaluate("phone.hangUp()")
        ended = bridge.wait_for("ended", timeout=40)
        assert ended["call"] == "c2"
        phone.hangup()
