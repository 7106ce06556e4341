"""The phone registry as one JSON file in the data directory (mode 0600: it holds passwords).

Adapter: the only module of the package that touches the disk. Writes are
atomic (appliance.store.atomic), so a power cut leaves the old file or the
new one.
"""

from __future__ import annotations

import json
from pathlib import Path

from appliance.errors import StoreCorrupt, StoreError, ValidationError
from appliance.provisioning.registry import PhoneRegistry
from appliance.store.atomic import atomic_write_bytes, encode_json, remove_stale_temps

FILE_NAME = "phones.json"


class RegistryStore:
    """Load and save a PhoneRegistry; `save_if_changed()` writes only after a change."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._saved_version: int | None = None

    def load(self) -> PhoneRegistry:
        remove_stale_temps(self.path)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            registry = PhoneRegistry()
            self._saved_version = None
            return registry
        except OSError as e:
            raise StoreError(f"cannot read {self.path}: {e.strerror or e}") from e
        try:
            registry = PhoneRegistry.from_dict(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as e:
            raise StoreCorrupt(f"{self.path} does not parse ({e}); it was left untouched") from e
        self._saved_version = registry.version
        return registry

    def save(self, registry: PhoneRegistry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, encode_json(registry.to_dict()), mode=0o600)
        self._saved_version = registry.version

    def save_if_changed(self, registry: PhoneRegistry) -> bool:
        if registry.version == self._saved_version:
            return False
        self.save(registry)
        return True
