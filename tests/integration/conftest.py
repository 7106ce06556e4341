from __future__ import annotations

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
