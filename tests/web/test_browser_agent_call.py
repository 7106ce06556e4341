"""The panel's phone on a call, in headless Chromium: the test plays the box's SIP WebSocket
(fake_sip_box.py) and a second Chromium plays the caller's side of the media (a bare
RTCPeerConnection, tests/webrtc/browser_page.py). The panel rings with the caller's name, is
answered with a click, and each side hears the other's tone (FFT); mute silences the agent; the
keypad, hold and a blind transfer (a REFER to the extension typed) work; the box hangs up; a
newer tab opened during the next call takes over only when the agent has hung up. Needs an address other than loopback: Chromium offers no loopback candidates."""

from __future__ import annotations

import socket
import time
import wave
from pathlib import Path

import pytest

from tests.peers.audio import dominant_frequency, write_sine
from tests.web.fake_sip_box import FakeSipBox
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, served, sync_api  # noqa: F401
from tests.web.conftest import ADMIN_PASSWORD, add_user
from tests.webrtc.browser_page import PAGE_URL, PHONE_JS

AGENT_HZ, CALLER_HZ = 700, 1100
MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--autoplay-policy=no-user-gesture-required"]
RECORD_PANEL = """() => {
  const el = document.getElementById('phone-audio');
  window.heard = []; window.recording = true;
  const ctx = new AudioContext({sampleRate: 8000});
  const tap = ctx.createScriptProcessor(1024, 1, 1);
  tap.onaudioprocess = (e) => {
    if (window.recording) for (const x of e.inputBuffer.getChannelData(0)) window.heard.push(Math.round(x * 32767));
  };
  ctx.createMediaStreamSource(el.srcObject).connect(tap); tap.connect(ctx.destination);
}"""


def _lan_address() -> str | None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is looked up
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


pytestmark = pytest.mark.skipif(_lan_address() is None, reason="no address but loopback: Chromium's ICE needs one")


def _save(samples: list[int], path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(int(max(-32768, min(32767, s))).to_bytes(2, "little", signed=True) for s in samples))
    return path


def _hears(page, take: str, seconds: float, path: Path) -> float:
    """The loudest frequency one side hears over `seconds` (0.0: silence), kept as a WAV."""
    page.evaluate(take, True)
    time.sleep(seconds)
    samples = page.evaluate(take, False)
    return dominant_frequency(_save(samples, path), start_s=0.3)


PANEL_TAKE = "(on) => { if (on) { window.heard = []; window.recording = true; return []; } window.recording = false; return window.heard; }"
CALLER_TAKE = "(on) => { phone.record(on); return on ? [] : phone.samples(); }"


def _browser(p, tone: Path, extra: list[str]):
    return p.chromium.launch(executable_path=CHROMIUM, headless=True,
                             args=ARGS + MEDIA + [f"--use-file-for-fake-audio-capture={tone}"] + extra)


def test_a_call_rings_the_panel_is_answered_heard_both_ways_and_hung_up(served, tmp_path):
    base, fake = served
    box = FakeSipBox(tmp_path / "tls").start()
    fake.wss_port = box.port
    fake.extensions["1001"] = {"number": "1001", "name": "Anna", "secret": "s" * 16}
    fake.agents["1001"] = {"extension": "1001", "name": "Anna", "status": "AVAILABLE", "state": "IDLE",
                           "break_reason": "", "queues": {"support": 1}}
    add_user(fake, "1001", "agent", ADMIN_PASSWORD)
    agent_tone = write_sine(tmp_path / "agent.wav", AGENT_HZ, 5, rate=16000)
    caller_tone = write_sine(tmp_path / "caller.wav", CALLER_HZ, 5, rate=16000)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        agent_browser = _browser(p, agent_tone, ["--ignore-certificate-errors"])
        caller_browser = _browser(p, caller_tone, [])
        try:
            panel = agent_browser.new_context(viewport={"width": 1024, "height": 900}).new_page()
            panel.set_default_timeout(20000)
            panel.goto(base + "/login")
            panel.get_by_label("Username").fill("1001")
            panel.get_by_label("Password").fill(ADMIN_PASSWORD)
            panel.get_by_role("button", name="Log in").click()
            panel.wait_for_selector('#phone[data-phone-state="phone-ready"]')
            box.wait_registered("1001")

            caller = caller_browser.new_page()
            caller.set_default_timeout(20000)
            caller.route(PAGE_URL, lambda route: route.fulfill(
                content_type="text/html", body=f"<!doctype html><title>caller</title><script>{PHONE_JS}</script>"))
            caller.goto(PAGE_URL)

            # It rings, with the caller's name and number; the agent answers.
            call = box.ring(caller.evaluate("phone.call()"))
            panel.wait_for_selector('#phone[data-call="ringing"]')
            assert panel.locator("#phone-call-state").inner_text() == "Ringing: Caller (+48601234567)"
            panel.screenshot(path=str(ARTIFACTS / "web-agent-phone-ringing.png"), full_page=True)
            panel.get_by_role("button", name="Answer").click()
            answer = box.wait_answer(call)
            assert answer.status == 200 and "a=candidate" in answer.body  # sent after ICE gathering
            assert "typ srflx" not in answer.body and "typ relay" not in answer.body  # no STUN, no TURN
            caller.evaluate("answer => phone.accept(answer)", answer.body)
            panel.wait_for_selector('#phone[data-call="talking"]')
            caller.wait_for_function("phone.state() === 'connected'")
            panel.evaluate(RECORD_PANEL)

            # Each side hears the other's tone.
            time.sleep(1.0)
            assert abs(_hears(panel, PANEL_TAKE, 2.0, tmp_path / "agent-heard.wav") - CALLER_HZ) <= 30
            assert abs(_hears(caller, CALLER_TAKE, 2.0, tmp_path / "caller-heard.wav") - AGENT_HZ) <= 30
            panel.screenshot(path=str(ARTIFACTS / "web-agent-phone-call.png"), full_page=True)

            # Mute: the caller hears nothing; unmute: the agent again.
            panel.get_by_role("button", name="Mute").click()
            time.sleep(0.5)
            assert _hears(caller, CALLER_TAKE, 1.5, tmp_path / "caller-muted.wav") == 0.0
            panel.get_by_role("button", name="Unmute").click()
            time.sleep(0.5)
            assert abs(_hears(caller, CALLER_TAKE, 1.5, tmp_path / "caller-unmuted.wav") - AGENT_HZ) <= 30

            # Hold: silence both ways, said on the panel; then back.
            panel.get_by_role("button", name="Hold").click()
            assert panel.locator("#phone-call-state").inner_text() == "On hold: Caller (+48601234567)"
            time.sleep(0.5)
            assert _hears(caller, CALLER_TAKE, 1.5, tmp_path / "caller-held.wav") == 0.0
            panel.get_by_role("button", name="Resume").click()

            # Digits from the keypad go as RFC 4733 events, never as SIP INFO.
            panel.locator("#phone-keypad").get_by_role("button", name="5").click()
            time.sleep(0.5)
            assert not [r for r in box.requests if r.method == "INFO"]
            assert panel.locator("#phone-problem").is_hidden()

            # A blind transfer: a REFER to the extension typed.
            panel.get_by_label("Transfer to extension").fill("1002")
            panel.get_by_role("button", name="Transfer", exact=True).click()
            refer = box.wait_request("REFER")
            assert refer.get("Refer-To").startswith("<sip:1002@")
            assert panel.locator("#phone-call-state").inner_text() == "Transferring to 1002…"

            # The box ends the call (as it does after a transfer): the panel says so.
            box.hang_up(call)
            panel.get_by_text("Call ended.").wait_for()
            assert panel.locator("#phone").get_attribute("data-call") == ""

            # A second call. The agent opens the panel in another tab meanwhile: the new tab
            # registers, the call stays where it is; the agent hangs up, and the old tab lets go.
            second = box.ring(caller.evaluate("phone.call()"))
            panel.wait_for_selector('#phone[data-call="ringing"]')
            panel.get_by_role("button", name="Answer").click()
            caller.evaluate("answer => phone.accept(answer)", box.wait_answer(second).body)
            panel.wait_for_selector('#phone[data-call="talking"]')
            registers = len([r for r in box.requests if r.method == "REGISTER"])
            newer = panel.context.new_page()
            newer.set_default_timeout(20000)
            newer.goto(base + "/agent")
            newer.wait_for_selector('#phone[data-phone-state="phone-ready"]')
            assert len([r for r in box.requests if r.method == "REGISTER"]) > registers
            time.sleep(0.5)
            assert panel.locator("#phone").get_attribute("data-call") == "talking"
            panel.get_by_role("button", name="Hang up").click()
            bye = box.wait_request("BYE")
            assert bye.get("Call-ID") == second.call_id
            panel.get_by_text("This phone moved to a newer tab or window of this browser").wait_for()
            assert newer.locator("#phone").get_attribute("data-phone-state") == "phone-ready"
        finally:
            agent_browser.close()
            caller_browser.close()
            box.stop()
