"""The line gateway's modem side: the line's driver (GSM or analog) and the thread that carries its audio.

What the gateway asks of a line is the same for both kinds (answer, dial, hang up, a digit,
audio on or off); how differs: a GSM modem sends a digit with +VTS and has its audio on a
second tty, a voice modem has no command for a digit (it goes in-band) and its audio comes
DLE-shielded on the AT port itself. The driver's threads only post notices (`on_notice`).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from appliance.engine.modem_port import AudioRing, AudioTtyBridge, FrameRing, VoiceModemBridge, dtmf_pcm
from appliance.errors import CallboxError
from appliance.lines.notices import LineStatus

log = logging.getLogger("callbox.engine.gateway")

LINE_KINDS = ("gsm", "analog")


def make_driver(kind: str, device: str, on_notice: Callable[[Any], None], *, profile: str | None = None,
                pin: str | None = None, pin_memory: str | None = None, lock_dir: str | None = None,
                backoff_start: float = 1.0) -> Any:
    """The line's driver, waiting for its modem if it is not plugged in yet."""
    common: dict[str, Any] = {"on_notice": on_notice, "wait_for_device": True,
                              "backoff_start": backoff_start}
    if lock_dir:
        common["lock_dir"] = lock_dir
    if kind == "gsm":
        from appliance.lines.gsm import GsmDriver
        return GsmDriver(device, profile=profile or "generic", pin=pin, pin_memory=pin_memory, **common)
    from appliance.lines.voice_modem import VoiceModemDriver
    return VoiceModemDriver(device, profile=profile or "conexant", **common)


class ModemSide:
    """One modem line: its driver and its audio bridge (None: a GSM line given no audio tty)."""

    def __init__(self, kind: str, driver: Any, audio_device: str | None,
                 from_line: AudioRing, to_line: FrameRing):
        if kind not in LINE_KINDS:
            raise CallboxError(f"unknown line kind: {kind}")
        self.kind = kind
        self.driver = driver
        if kind == "gsm":
            self.audio = AudioTtyBridge(audio_device, from_line, to_line) if audio_device else None
        else:
            self.audio = VoiceModemBridge(driver, from_line, to_line)

    @property
    def status(self) -> LineStatus:
        return self.driver.status

    @property
    def ready(self) -> bool:
        return self.driver.status.state == "ready"

    def start(self) -> None:
        self.driver.start()
        if self.audio is not None:
            self.audio.start()

    def stop(self) -> None:
        if self.audio is not None:
            self.audio.stop()
        self.driver.stop()

    # --- what the gateway carries out -----------------------------------------------------

    def answer(self) -> None:
        self.driver.answer()

    def dial(self, number: str) -> None:
        self.driver.dial(number)

    def hang_up(self) -> None:
        self.driver.hangup()

    def send_digit(self, digit: str) -> None:
        if self.kind == "gsm":
            self.driver.send_dtmf(digit)
        elif self.audio is not None:
            # A voice modem has no command to send a digit: it goes in-band.
            self.audio.play_to_line(dtmf_pcm(digit))

    def audio_on(self, on: bool) -> None:
        """Audio flows only during a call; stale audio never leaks into the next one."""
        if self.audio is not None:
            self.audio.set_active(on)

    @property
    def sends_sms(self) -> bool:
        return hasattr(self.driver, "send_sms")

    def send_sms(self, number: str, text: str) -> None:
        self.driver.send_sms(number, text)
