"""Registrations kept across a restart: the registrar's bindings, written to the state directory.

Phones re-register within minutes anyway; the snapshot spares them (and the
agents whose phones they are) those minutes after a restart or a power cut.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from appliance.errors import ValidationError
from appliance.store.atomic import atomic_write_bytes

log = logging.getLogger("callbox.core")

# A burst of registrations is written once, this long after its first.
SAVE_DELAY_S = 0.2


class Bindings(Protocol):
    """The registrar's side of it: its bindings as plain data, and back."""

    def snapshot(self) -> list[dict[str, Any]]: ...
    def restore(self, items: Any) -> None: ...
    def all_bindings(self) -> list[Any]: ...
    def wall_offset(self) -> float: ...
    def snapshot_item(self, binding: Any, offset: float) -> dict[str, Any]: ...


# A binding's text is made again when the wall clock has moved against the registrar's clock by
# more than this (a clock set by hand or by NTP); meanwhile its times may be off by as much.
OFFSET_SLACK_S = 0.001


class RegistrationSnapshot:
    def __init__(self, registrar: Bindings, path: Path):
        self.registrar = registrar
        self.path = path
        self._pending = False
        self._closing = False
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callbox-writer")
        # Each binding's JSON text while it is the same object (the registrar makes a new one at
        # every change): a thousand phones cost a thousand encodings per save otherwise.
        self._texts: dict[int, tuple[Any, str]] = {}
        self._offset = 0.0

    def restore(self) -> None:
        try:
            items = json.loads(self.path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            log.warning("ignoring unreadable %s: %s", self.path, e)
            return
        try:
            self.registrar.restore(items)
        except ValidationError as e:
            # Phones re-register within minutes; a damaged snapshot must not keep the box down.
            log.warning("ignoring damaged %s: %s", self.path, e)
            return
        log.info("restored %d registrations", len(self.registrar.all_bindings()))

    def changed(self) -> None:
        """The bindings changed: write them soon (coalesced: a burst costs one fsync'd write, not one each)."""
        if self._pending:
            return
        self._pending = True
        asyncio.get_running_loop().call_later(SAVE_DELAY_S, self.save)

    def save(self, in_background: bool = True) -> None:
        self._pending = False
        data = self.encoded()
        if in_background and not self._closing:
            # fsync can take tens of ms on an SD card: not on the loop that answers phones.
            # One writer thread keeps the snapshots in order.
            asyncio.get_running_loop().run_in_executor(self._writer, atomic_write_bytes, self.path, data)
        else:
            atomic_write_bytes(self.path, data)

    def encoded(self) -> bytes:
        """The snapshot as json.dumps(registrar.snapshot()) writes it, each binding's text made once."""
        offset = self.registrar.wall_offset()
        if abs(offset - self._offset) > OFFSET_SLACK_S:
            self._texts, self._offset = {}, offset
        known, texts = self._texts, {}
        for binding in self.registrar.all_bindings():
            hit = known.get(id(binding))
            if hit is None or hit[0] is not binding:
                hit = (binding, json.dumps(self.registrar.snapshot_item(binding, self._offset)))
            texts[id(binding)] = hit
        self._texts = texts
        return ("[" + ", ".join(text for _, text in texts.values()) + "]").encode()

    def close(self) -> None:
        """The last snapshot, written before the core exits."""
        self._closing = True
        self._writer.shutdown(wait=True)
        self.save(in_background=False)
