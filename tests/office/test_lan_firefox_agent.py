"""The agent panel in Firefox, on an office LAN with the box as it ships.

The same story as tests/office/test_lan_agent_panel.py, in Debian's Firefox ESR instead of
Chromium, driven over Firefox's own remote protocol (tests/peers/firefox.py): agent Anna (1010)
logs in to the page on her desk, the panel registers over WSS, she logs in to the sales queue;
a customer's pjsua2 phone on another desk calls the queue, the panel rings, she answers with a
click, each side hears the other (the phone records Firefox's fake microphone tone, FFT; the page
records what it plays, FFT, and its RTCPeerConnection counts audio packets in), *Hold* silences
her and *Resume* brings her back, and she hangs up. Twice: with Firefox's address in its ICE
candidates, and with an mDNS name in its place (docs/agent-panel.md, "Firefox").
A Firefox whose microphone is refused says so on the panel and registers nothing.
"""

from __future__ import annotations

import time
import wave
from pathlib import Path

import pytest

from tests.office.test_lan_agent_panel import FLOWS, _web_on
from tests.peers.audio import dominant_frequency
from tests.peers.firefox import MIC_ALLOWED, MIC_REFUSED, MIC_UNASKED, Firefox, firefox_binary
from tests.web.conftest import ADMIN_PASSWORD
from tests.web.test_browser import ARTIFACTS
from tests.webrtc.hearing import heard_by_phone
from web.kit import hash_password

pytestmark = [pytest.mark.peers,
              pytest.mark.skipif(firefox_binary() is None,
                                 reason="Firefox is not installed (Debian's firefox-esr: "
                                        "tools/install-system-deps.sh test)")]

AGENT = "1010"
AGENT_HZ = 700      # Firefox's fake microphone, set by a pref
CUSTOMER_HZ = 1100

# What the page plays, taken from the panel's <audio> element. The AudioContext keeps its own
# rate (older Firefox refused a MediaStream in a context of another rate); the page keeps every
# sixth sample (the tones here are far below the new Nyquist).
RECORD_PANEL = """
const el = document.getElementById('phone-audio');
window.heard = []; window.recording = false;
const ctx = new AudioContext();
const tap = ctx.createScriptProcessor(4096, 1, 1);
window.heardRate = ctx.sampleRate / 6;
tap.onaudioprocess = (e) => {
  if (!window.recording) return;
  const x = e.inputBuffer.getChannelData(0);
  for (let i = 0; i < x.length; i += 6) window.heard.push(Math.round(x[i] * 32767));
};
ctx.createMediaStreamSource(el.srcObject).connect(tap); tap.connect(ctx.destination);
return ctx.sampleRate;
"""
PANEL_TAKE = """
if (arguments[0]) { window.heard = []; window.recording = true; return []; }
window.recording = false; return window.heard;
"""
PLAYING = """
const el = document.getElementById('phone-audio');
return !!(el.srcObject && el.srcObject.getAudioTracks().length);
"""
# What the page's peer connection saw: inbound audio and the codec and candidates it used.
INBOUND = """
const done = arguments[0];
const pc = window.panelPeer;
if (!pc) { done(null); return; }
pc.getStats().then((stats) => {
  const out = {candidates: []};
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.packets = s.packetsReceived; out.energy = s.totalAudioEnergy; out.codecId = s.codecId;
    }
    if (s.type === 'local-candidate') out.candidates.push(s.candidateType + ' ' + s.address);
  });
  const codec = out.codecId && stats.get(out.codecId);
  out.codec = codec ? codec.mimeType : null;
  done(out);
}, (e) => done(String(e)));
"""
# The panel keeps its peer connection to itself; the test learns it as the page makes it.
CATCH_PEER = """
const Real = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { const pc = new Real(...args); window.panelPeer = pc; return pc; };
window.RTCPeerConnection.prototype = Real.prototype;
"""


def _box_with_agent(lan, office, tmp_path: Path):
    box = office({"sip.wss_port": 7443})
    box.engine_ready()
    customer = box.add_extension("1001")
    box.add_extension(AGENT, name="Anna")
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 20, "wrap_up_s": 60})[0] == 201
    assert box.api("POST", f"/api/agents/{AGENT}", {"queues": ["sales"]})[0] == 201
    assert box.api("POST", "/api/users", {"username": AGENT, "role": "agent",
                                          "password_hash": hash_password(ADMIN_PASSWORD)})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] in (200, 201)
    assert box.api("PATCH", "/api/settings", {"setup.wizard": {"step": "done"}})[0] == 200
    web, base = _web_on(box, tmp_path)
    return box, customer, web, base


def _save(samples: list[int], path: Path, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(max(-32768, min(32767, s)).to_bytes(2, "little", signed=True) for s in samples))
    return path


def _firefox(host, tmp_path: Path, prefs: dict) -> Firefox:
    return Firefox(tmp_path / f"firefox-{host.name}", prefs, command=host.exec_args,
                   connect=lambda port: host.connect(("127.0.0.1", port), timeout=2))


def _log_in(page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", AGENT)
    page.fill("#password", ADMIN_PASSWORD)
    page.click('form[action="/login"] button[type=submit]')
    page.wait_until("the agent's page", lambda: page.url == base + "/")


def _phone_state(page) -> str | None:
    return page.attribute("#phone", "data-phone-state")


def _call_state(page) -> str | None:
    return page.attribute("#phone", "data-call")


def _over_wss(box, ext: str) -> list[dict]:
    return [r for r in box.registrations() if r["aor"] == ext and str(r.get("source", "")).startswith("wss:")]


def _ready_for_a_call(box, customer, customer_ext: dict, firefox: Firefox, base: str):
    """The customer's phone registered; Anna logged in to the page, its phone registered over WSS
    and she available in the queue. Returns the page and the agent's registrations over WSS."""
    customer.register(f"sip:{box.host.address}:5060", "1001", customer_ext["secret"])
    customer.wait_for("reg_state", code=200, timeout=15)
    page = firefox.page()
    _log_in(page, base)
    page.run(CATCH_PEER)
    page.wait_until("the panel ready", lambda: _phone_state(page) == "phone-ready")
    over_wss = box.wait_for("1010 over wss", lambda: _over_wss(box, AGENT), 15)
    # While the phone runs, the status button is sent by the panel's script: no reload.
    page.click_button("#agent", "Log in")
    page.wait_for_text("You are available.")
    return page, over_wss


def _both_hear(page, customer, tmp_path: Path) -> None:
    """In a call: the page plays the customer's tone and the customer hears Firefox's microphone (FFT)."""
    page.wait_until("the panel's audio", lambda: page.run(PLAYING))
    page.run(RECORD_PANEL)
    customer.play_tone(CUSTOMER_HZ)
    time.sleep(1.0)
    page.run(PANEL_TAKE, True)
    time.sleep(1.5)
    heard = page.run(PANEL_TAKE, False)
    wav = _save(heard, tmp_path / "panel-heard.wav", rate=int(page.run("return window.heardRate;")))
    assert abs(dominant_frequency(wav, start_s=0.3) - CUSTOMER_HZ) <= 30
    assert abs(heard_by_phone(customer, tmp_path / "customer-heard.wav") - AGENT_HZ) <= 30


# How Firefox names its address in the ICE candidates of its answer: the address itself where
# the agent allowed the microphone for the site, an mDNS name (`<uuid>.local`) where the page holds
# no lasting permission. The box reaches the browser either way on the test LAN, where multicast
# (mDNS) passes.
NAMED = {"address": (MIC_ALLOWED, False), "mdns-name": (MIC_UNASKED, True)}


@pytest.mark.parametrize("named", list(NAMED))
def test_an_agent_in_firefox_takes_a_queue_call_from_a_desk_phone(lan, office, tmp_path, named):
    from tests.peers.phones import Phone
    prefs, mdns = NAMED[named]
    box, customer_ext, web, base = _box_with_agent(lan, office, tmp_path)
    customer = Phone("customer", host=lan.host("desk9"))
    firefox = _firefox(lan.host("desk1"), tmp_path, {**prefs, "media.navigator.audio.fake_frequency": AGENT_HZ})
    try:
        page, over_wss = _ready_for_a_call(box, customer, customer_ext, firefox, base)
        [reg] = over_wss
        assert reg["contact"].endswith(";transport=ws")
        assert _phone_state(page) == "phone-ready"

        customer.call(f"sip:500@{box.host.address}:5060")
        page.wait_until("the panel ringing", lambda: _call_state(page) == "ringing")
        assert "1001" in page.text("#phone-call-state")
        page.click("#phone-answer")
        page.wait_until("the call up", lambda: _call_state(page) == "talking")
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)

        _both_hear(page, customer, tmp_path)

        stats = page.run_async(INBOUND)
        assert stats and stats["packets"] > 50, stats
        # Host candidates only (no STUN, no relay), named as the permission makes Firefox name them.
        (tmp_path / "firefox-stats.txt").write_text(repr(stats))
        assert stats["candidates"] and all(c.startswith("host ") for c in stats["candidates"]), stats
        assert all(c.endswith(".local") == mdns for c in stats["candidates"]), stats
        if not mdns:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(ARTIFACTS / "web-agent-phone-firefox-call.png")

        # Hold stops the audio in the page both ways (no re-INVITE): the phone hears silence.
        page.click_button("#phone", "Hold")
        assert page.text("#phone-call-state").startswith("On hold")
        time.sleep(0.5)
        assert heard_by_phone(customer, tmp_path / "customer-held.wav") == 0.0
        page.click_button("#phone", "Resume")
        time.sleep(0.5)
        assert abs(heard_by_phone(customer, tmp_path / "customer-resumed.wav") - AGENT_HZ) <= 30

        page.click("#phone-hangup")
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
        page.wait_for_text("Call ended.")
        records = box.api("GET", "/api/cdr")[1]["records"]
        assert [r["disposition"] for r in records] == ["ANSWERED"]
        assert "Traceback" not in box.log()
    finally:
        firefox.close()
        customer.close()
        web.terminate()
        web.wait(10)


def test_a_firefox_that_refuses_the_microphone_says_so_and_registers_nothing(lan, office, tmp_path):
    box, _, web, base = _box_with_agent(lan, office, tmp_path)
    firefox = _firefox(lan.host("desk1"), tmp_path, MIC_REFUSED)
    try:
        page = firefox.page()
        _log_in(page, base)
        page.wait_until("the panel off", lambda: _phone_state(page) == "phone-off")
        assert "refused the microphone" in page.text("#phone-problem")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(ARTIFACTS / "web-agent-phone-firefox-no-microphone.png")
        time.sleep(1.0)
        assert [r for r in box.registrations() if r["aor"] == AGENT] == []
    finally:
        firefox.close()
        web.terminate()
        web.wait(10)
