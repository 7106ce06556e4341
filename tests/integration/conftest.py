from __future__ import annotations

import subprocess

import pytest

from tests.integration.corebox import CoreProcess


@pytest.fixture
def core_factory(tmp_path):
    started: list[CoreProcess] = []

    def make(settings=None, data_dir=None, sip_port: int = 0) -> CoreProcess:
        core = CoreProcess(data_dir or tmp_path / f"data{len(started)}", settings, sip_port=sip_port)
        started.append(core)
        return core.start()

    yield make
    for core in started:
        core.stop()


@pytest.fixture
def core(core_factory) -> CoreProcess:
    return core_factory()


@pytest.fixture
def box(core_factory) -> CoreProcess:
    """A core with engine workers: one worker of the wheel's four legs (two conversations)."""
    return core_factory({"engine.enabled": True, "engine.max_calls": 2})


@pytest.fixture
def sipp_procs():
    """The sipp providers a test started (tests/integration/sipp_providers.py); any still running is killed."""
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.fixture
def phones():
    """pjsua2 test phones in helper processes, closed at the end."""
    from tests.peers.phones import Phone
    made = []

    def make(name: str):
        p = Phone(name)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
