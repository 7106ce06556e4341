from __future__ import annotations

import pytest

from tests.office.lanbox import LanCore


@pytest.fixture
def office(lan, tmp_path):
    """The box on its own host of a test LAN, started with default settings (as the unit does)."""
    started: list[LanCore] = []

    def start(settings=None, host=None) -> LanCore:
        core = LanCore(host or lan.host("box"), tmp_path / f"box{len(started)}", settings)
        started.append(core)
        return core.start()

    yield start
    for core in started:
        core.stop()
