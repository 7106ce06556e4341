"""What each end of a browser call hears: the test page's phone (tests/webrtc/browser_page.py), by
FFT of what its peer connection plays, and a pjsua2 phone (tests/peers/phones.py), by FFT of its
recording; and the wait until the page's peer connection is up.

    wait_connected(page)
    assert abs(heard_by_browser(page) - PHONE_HZ) < 25
    assert abs(heard_by_phone(phone, tmp_path / "phone.wav") - BROWSER_HZ) < 25
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tests.peers.audio import dominant_frequency
from tests.webrtc.peers import dominant_hz


def heard_by_browser(page, seconds: float = 1.5) -> float:
    """The loudest frequency the page heard over `seconds` (its first quarter left out)."""
    page.evaluate("phone.record(true)")
    time.sleep(seconds)
    page.evaluate("phone.record(false)")
    samples = np.array(page.evaluate("phone.samples()"), dtype=np.float64)
    return dominant_hz(samples[len(samples) // 4:])


def heard_by_phone(phone, wav: Path, seconds: float = 1.5) -> float:
    """The loudest frequency `phone` heard over `seconds`, recorded to `wav` (its first 0.3 s left out)."""
    phone.record(wav)
    time.sleep(seconds)
    phone.stop_record()
    return dominant_frequency(wav, start_s=0.3)


def wait_connected(page, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while page.evaluate("phone.state()") != "connected":
        assert time.monotonic() < end, f"browser is {page.evaluate('phone.state()')}"
        time.sleep(0.1)
