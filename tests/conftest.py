"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ARTIFACTS = ROOT / "tests" / "artifacts"


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on host."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        with socket.socket(socket.AF_INET, other) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_configure(config):
    os.environ.setdefault("PYTHONUNBUFFERED", "1")


@pytest.fixture
def lan():
    """A test LAN of bridges and namespaces (tests/testlan.py), removed afterwards."""
    from tests.testlan import TestLan, lan_missing
    why = lan_missing()
    if why:
        pytest.skip(f"no test LAN on this machine: {why}")
    made = TestLan()
    try:
        yield made
    finally:
        made.close()
