"""A browser phone for tests: headless Chromium inside a test LAN host, with a fake microphone
playing a WAV tone, and a page script that makes the RTCPeerConnection and keeps what it hears.

    with chromium_in(desk, tone_wav, tmp_path) as page:
        offer = page.evaluate("phone.call()")
        page.evaluate("answer => phone.accept(answer)", answer)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required"]

PAGE_URL = "http://localhost/phone"
PHONE_JS = """
window.phone = {
  heard: [], recording: false,
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false,
        noiseSuppression: false, autoGainControl: false}});
    this.pc = new RTCPeerConnection({iceServers: []});
    this.pc.ontrack = (e) => this.listen(e.streams[0] || new MediaStream([e.track]));
  },
  gathered() {
    return new Promise((done) => {
      if (this.pc.iceGatheringState === 'complete') return done();
      this.pc.addEventListener('icegatheringstatechange', () => {
        if (this.pc.iceGatheringState === 'complete') done();
      });
    });
  },
  async call() {
    await this.start();
    this.sender = this.pc.addTrack(this.stream.getAudioTracks()[0], this.stream);
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  },
  async accept(answer) { await this.pc.setRemoteDescription({type: 'answer', sdp: answer}); },
  async answer(offer) {
    await this.start();
    await this.pc.setRemoteDescription({type: 'offer', sdp: offer});
    this.sender = this.pc.addTrack(this.stream.getAudioTracks()[0], this.stream);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  },
  listen(stream) {
    // Chromium pulls remote WebRTC audio into Web Audio only while a media element plays it.
    this.audio = new Audio(); this.audio.srcObject = stream; this.audio.muted = true;
    this.audio.play().catch(() => {});
    this.ctx = new AudioContext({sampleRate: 8000});
    const source = this.ctx.createMediaStreamSource(stream);
    const tap = this.ctx.createScriptProcessor(1024, 1, 1);
    tap.onaudioprocess = (e) => {
      if (this.recording) for (const x of e.inputBuffer.getChannelData(0)) this.heard.push(x);
    };
    source.connect(tap); tap.connect(this.ctx.destination);
  },
  record(on) { this.recording = on; if (on) this.heard = []; },
  samples() { return this.heard.map((x) => Math.round(x * 32767)); },
  dtmf(digits) { this.sender.dtmf.insertDTMF(digits, 160, 80); },
  state() { return this.pc ? this.pc.connectionState : 'none'; },
  hangUp() { this.pc.close(); },
};
"""


@contextlib.contextmanager
def chromium_in(host, tone_wav: Path, tmp: Path, *, scripts: str = "", files: dict[str, tuple[str, str]] | None = None,
                reaches_the_box: bool = False) -> Iterator:
    """A page in headless Chromium running inside `host` (a test LAN host), its microphone `tone_wav`,
    with `phone` (PHONE_JS) and then `scripts` (HTML); `files`, {url: (content type, text)}, are more
    that the page may load. A page that `reaches_the_box` (its secure WebSocket) accepts the box's
    certificate: the web page's self-signed one, which an agent accepts once."""
    from playwright.sync_api import sync_playwright
    wrapper = tmp / "chromium-in-host"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {host.ns} {CHROMIUM} "$@"\n')
    os.chmod(wrapper, 0o755)
    args = ARGS + [f"--use-file-for-fake-audio-capture={tone_wav}"]
    if reaches_the_box:
        # The test page comes from Playwright, not from the box: Chromium's local network checks
        # would take it for a public page reaching into the office LAN.
        args += ["--ignore-certificate-errors",
                 "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(wrapper), headless=True, args=args)
        try:
            page = browser.new_page(ignore_https_errors=reaches_the_box)
            page.set_default_timeout(20000)
            # A page from localhost is a secure context (getUserMedia needs one); Playwright
            # serves it, so no server runs and nothing listens in the host.
            for url, (content_type, text) in (files or {}).items():
                page.route(url, lambda route, content_type=content_type, text=text: route.fulfill(
                    content_type=content_type, body=text))
            page.route(PAGE_URL, lambda route: route.fulfill(
                content_type="text/html",
                body=f"<!doctype html><title>phone</title><script>{PHONE_JS}</script>{scripts}"))
            page.goto(PAGE_URL)
            yield page
        finally:
            browser.close()
