"""Simulated modems on pseudo-terminals and drivers that open them with pyserial."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appliance.lines.gsm import GsmDriver
from appliance.lines.sim_gsm import GsmModemSim
from appliance.lines.sim_voice import VoiceModemSim
from appliance.lines.voice_modem import VoiceModemDriver


def wait_until(predicate, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def dev(tmp_path) -> Path:
    """A directory playing /dev and /run/lock."""
    return tmp_path


@pytest.fixture
def gsm_modem(dev, request):
    """Factory: a started GSM modem simulator; stopped at the end of the test."""
    sims = []

    def make(dialect: str = "huawei", **options) -> GsmModemSim:
        name = f"ttyUSB{len(sims) * 4 + 2}"
        sim = GsmModemSim(str(dev / name), dialect=dialect, ring_interval=0.5,
                          audio_port=str(dev / f"{name}.audio"), **options)
        sims.append(sim)
        return sim.start()
    yield make
    for sim in sims:
        sim.stop()


@pytest.fixture
def gsm_driver(dev):
    drivers = []

    def make(sim: GsmModemSim, *, wait_ready: bool = True, **options) -> GsmDriver:
        options.setdefault("profile", sim.dialect.value)
        driver = GsmDriver(sim.port, lock_dir=str(dev), backoff_start=0.05, **options)
        drivers.append(driver)
        driver.start()
        if wait_ready:
            wait_until(lambda: driver.status.state == "ready", what="line ready")
        return driver
    yield make
    for driver in drivers:
        driver.stop()


@pytest.fixture
def voice_modem(dev):
    sim = VoiceModemSim(str(dev / "ttyACM0"), ring_interval=0.3)
    yield sim.start()
    sim.stop()


@pytest.fixture
def voice_driver(dev, voice_modem):
    driver = VoiceModemDriver(voice_modem.port, lock_dir=str(dev), backoff_start=0.05)
    driver.start()
    wait_until(lambda: driver.status.state == "ready", what="voice line ready")
    yield driver
    driver.stop()
