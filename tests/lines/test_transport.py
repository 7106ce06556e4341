"""The serial transport: port lock, backoff, device loss and return."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from appliance.errors import ModemGone, PortBusy
from appliance.lines.sim_gsm import GsmModemSim
from appliance.lines.transport import PortLock, SerialTransport, backoff_delays

from .conftest import wait_until


def test_backoff_doubles_up_to_thirty_seconds():
    assert list(itertools.islice(backoff_delays(), 8)) == [1, 2, 4, 8, 16, 30, 30, 30]


def test_port_lock_is_exclusive(dev):
    first = PortLock("/dev/ttyUSB2", str(dev))
    first.acquire()
    assert first.path == str(dev / "callbox-ttyUSB2.lock")
    with pytest.raises(PortBusy):
        PortLock("/dev/ttyUSB2", str(dev)).acquire()
    PortLock("/dev/ttyUSB3", str(dev)).acquire()  # another port is fine
    first.release()
    again = PortLock("/dev/ttyUSB2", str(dev))
    again.acquire()
    again.release()


def test_missing_device_raises_and_frees_the_lock(dev):
    t = SerialTransport(str(dev / "ttyUSB9"), lock_dir=str(dev))
    with pytest.raises(ModemGone):
        t.open()
    lock = PortLock(str(dev / "ttyUSB9"), str(dev))
    lock.acquire()
    lock.release()


def test_pyserial_url(dev):
    got = []
    t = SerialTransport("loop://", lock_dir=str(dev), on_data=got.append)
    t.open()
    try:
        t.write(b"AT\r")
        wait_until(lambda: b"".join(got) == b"AT\r", what="loopback")
    finally:
        t.close()


def test_device_loss_and_return_with_backoff(dev):
    modem = GsmModemSim(str(dev / "ttyUSB0")).start()
    delays: list[float] = []
    events: list[str] = []

    def sleeper(delay: float) -> bool:
        delays.append(delay)
        if len(delays) == 3:
            modem.replug()  # the device comes back while we wait the third time
        time.sleep(0.01)
        return False

    received = []
    t = SerialTransport(modem.port, lock_dir=str(dev), sleeper=sleeper,
                        on_data=received.append, on_gone=lambda: events.append("gone"),
                        on_reconnect=lambda: events.append("back"))
    t.open()
    try:
        t.write(b"ATE0\r")
        wait_until(lambda: b"OK" in b"".join(received), what="first answer")
        modem.unplug()
        wait_until(lambda: events == ["gone", "back"], what="gone then back")
        assert delays == [1, 2, 4]
        assert not t.gone
        received.clear()
        t.write(b"ATE0\r")  # the replugged modem answers on the same path
        wait_until(lambda: b"OK" in b"".join(received), what="answer after return")
    finally:
        t.close()
        modem.stop()


def test_writes_after_loss_raise_modem_gone(dev):
    modem = GsmModemSim(str(dev / "ttyUSB0")).start()
    gone = threading.Event()
    t = SerialTransport(modem.port, lock_dir=str(dev), on_gone=gone.set,
                        sleeper=lambda d: time.sleep(0.01))
    t.open()
    try:
        modem.unplug()
        assert gone.wait(5)
        with pytest.raises(ModemGone):
            t.write(b"AT\r")
    finally:
        t.close()
        modem.stop()
