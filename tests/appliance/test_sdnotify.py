"""sd_notify over a real AF_UNIX datagram socket standing in for systemd."""

import asyncio
import os
import socket

import pytest

from appliance.sdnotify import Heartbeat, SystemdNotifier, WatchdogFeeder


@pytest.fixture
def systemd_socket(tmp_path):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield path, sock
    sock.close()


@pytest.fixture
def abstract_socket():
    name = f"callbox-test-{os.getpid()}-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    yield "@" + name, sock
    sock.close()


def received(sock):
    return sock.recv(4096).decode()


def drain(sock):
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(5)
    return out


def test_ready_status_stopping_arrive(systemd_socket):
    path, sock = systemd_socket
    notifier = SystemdNotifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready()
    assert received(sock) == "READY=1"
    notifier.status("2 lines\nup")
    assert received(sock) == "STATUS=2 lines up"
    notifier.stopping()
    assert received(sock) == "STOPPING=1"
    notifier.close()


def test_abstract_socket(abstract_socket):
    name, sock = abstract_socket
    notifier = SystemdNotifier({"NOTIFY_SOCKET": name})
    notifier.watchdog()
    assert received(sock) == "WATCHDOG=1"
    notifier.close()


def test_reads_the_process_environment(systemd_socket, monkeypatch):
    path, sock = systemd_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    SystemdNotifier().ready()
    assert received(sock) == "READY=1"


def test_no_op_without_systemd():
    notifier = SystemdNotifier({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_interval() is None


def test_vanished_socket_does_not_raise(tmp_path):
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.ready() is False


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env, expected):
    assert SystemdNotifier(env).watchdog_interval() == expected


def test_feeder_keeps_feeding_while_healthy_and_stops_when_not(systemd_socket):
    path, sock = systemd_socket
    notifier = SystemdNotifier({"NOTIFY_SOCKET": path})
    healthy = {"ok": True}
    feeder = WatchdogFeeder(notifier, interval=0.05, is_healthy=lambda: healthy["ok"])

    async def scenario():
        task = asyncio.create_task(feeder.run())
        try:
            for _ in range(3):
                assert await asyncio.to_thread(received, sock) == "WATCHDOG=1"
            healthy["ok"] = False
            fed_when_sick = feeder.fed
            await asyncio.sleep(0.5)  # ten feeding periods
            # At most one feed that was already under way when the check turned.
            assert feeder.fed - fed_when_sick <= 1
            drain(sock)
            await asyncio.sleep(0.3)
            assert drain(sock) == []
            healthy["ok"] = True
            assert await asyncio.to_thread(received, sock) == "WATCHDOG=1"
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    notifier.close()


def test_feeder_treats_a_failing_check_as_unhealthy(systemd_socket):
    path, sock = systemd_socket

    def broken():
        raise OSError("engine socket gone")

    feeder = WatchdogFeeder(SystemdNotifier({"NOTIFY_SOCKET": path}), 10, broken)
    assert feeder.feed_once() is False
    assert drain(sock) == []


def test_feeder_refuses_a_nonsense_interval():
    with pytest.raises(ValueError):
        WatchdogFeeder(SystemdNotifier({}), 0, lambda: True)


def test_heartbeat_goes_stale_when_the_loop_stops_beating():
    now = [100.0]
    beat = Heartbeat(max_age=5, clock=lambda: now[0])
    assert beat.is_fresh()
    now[0] += 4
    beat.beat()
    now[0] += 5
    assert beat.is_fresh()
    now[0] += 0.5
    assert not beat.is_fresh()


def test_heartbeat_drives_the_feeder(systemd_socket):
    path, sock = systemd_socket
    now = [0.0]
    beat = Heartbeat(max_age=1, clock=lambda: now[0])
    feeder = WatchdogFeeder(SystemdNotifier({"NOTIFY_SOCKET": path}), 2, beat.is_fresh)
    assert feeder.feed_once()
    now[0] = 3
    assert not feeder.feed_once()
    beat.beat()
    assert feeder.feed_once()
    assert drain(sock) == ["WATCHDOG=1", "WATCHDOG=1"]
