"""Fixtures for the store tests: the same tests over memory and file storage."""

from __future__ import annotations

import pytest
from tinydb.storages import MemoryStorage

from appliance.store.atomic import AtomicJSONStorage


@pytest.fixture(params=["memory", "json"])
def storage(request, tmp_path):
    """A TinyDB storage: in memory, or the atomic JSON file storage."""
    if request.param == "memory":
        return MemoryStorage()
    return AtomicJSONStorage(tmp_path / "config.json")
