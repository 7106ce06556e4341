"""Who hears what in a worker: bridges, one-way paths, conferences, prompts and recordings.

An audio path is kept as a wish (src leg, dst leg) and applied again whenever a leg's media
changes, because a re-INVITE can give a call a new conference slot. Prompts and recorders are
let go outside pjsua callbacks (`after_callbacks`): a player destroyed inside one can abort the
process, and a recording's WAV header is written only when its recorder goes.

Runs on the worker's pjsua2 thread only.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping

import pjsua2 as pj

from appliance.engine import media
from appliance.engine.commands import CommandFailed
from appliance.engine.legs import Leg, LegState, live_leg

log = logging.getLogger("callbox.engine.worker")


class AudioPaths:
    """The audio between the worker's legs, and what each leg hears from the box itself."""

    def __init__(self, legs: Mapping[str, Leg], emit: Callable[..., None]):
        self.legs = legs   # the worker's legs by id (the call legs own them)
        self.emit = emit
        self.links: set[tuple[str, str]] = set()  # (src leg, dst leg) audio paths
        self.recordings: dict[str, media.Recording] = {}
        self._trash: list[Any] = []
        self._finish_later: list[str] = []  # recordings whose last leg hung up

    # ---- commands ------------------------------------------------------------------

    def bridge(self, a: str, b: str) -> None:
        self._link(a, b)
        self._link(b, a)

    def unbridge(self, a: str, b: str) -> None:
        self._unlink(a, b)
        self._unlink(b, a)

    def connect(self, src: str, dst: str) -> None:
        self._link(src, dst)

    def disconnect(self, src: str, dst: str) -> None:
        self._unlink(src, dst)

    def conference(self, legs: list[str], listen_only: list[str] | None = None,
                   whisper: dict | None = None) -> None:
        """Everyone hears everyone; listen_only legs hear all but speak to none;
        a whisper leg speaks only to its `to` leg."""
        listen_only = listen_only or []
        everyone = list(dict.fromkeys(legs + listen_only
                                      + ([whisper["from"]] if whisper else [])))
        for leg in everyone:
            self._live(leg)
        talkers = [x for x in legs if x not in listen_only]
        for src in talkers:
            for dst in everyone:
                if src != dst:
                    self._link(src, dst)
        if whisper:
            self._link(whisper["from"], whisper["to"])

    def play(self, leg: str, file: str, loop: bool = False) -> None:
        target = self._live(leg)
        if not os.path.isfile(file):
            raise CommandFailed(f"play: no such file: {file}")
        player = media.Player(file, loop)
        if target.player is not None:
            self._trash.append(target.player)
        target.player = player
        me = media.audio_of(target.call)
        if me is not None:
            player.startTransmit(me)

    def stop_play(self, leg: str) -> None:
        target = self._live(leg)
        if target.player is not None:
            self._trash.append(target.player)
            target.player = None

    def record_start(self, file: str, leg: str | None = None,
                     legs: list[str] | None = None) -> dict:
        names = list(legs or []) + ([leg] if leg else [])
        for name in names:
            self._live(name)
        if file in self.recordings:
            raise CommandFailed(f"record_start: already recording to {file}")
        directory = os.path.dirname(os.path.abspath(file))
        if not os.path.isdir(directory):
            raise CommandFailed(f"record_start: no such directory: {directory}")
        rec = media.Recording(file, set(names))
        self.recordings[file] = rec
        for name in names:
            me = self._media(name)
            if me is not None:
                me.startTransmit(rec.recorder)
        return {"file": file}

    def record_stop(self, file: str | None = None, leg: str | None = None) -> dict:
        files = [file] if file else [f for f, r in self.recordings.items() if leg in r.legs]
        stopped = [f for f in files if f in self.recordings]
        if not stopped:
            raise CommandFailed("record_stop: no such recording")
        for f in stopped:
            self._finish_recording(f, reason="command")
        return {"files": stopped}

    # ---- what the call legs tell ---------------------------------------------------------

    def rewire(self, leg: Leg) -> None:
        """(Re)apply every audio path touching this leg, its prompt and its recordings."""
        me = media.audio_of(leg.call)
        if me is None:
            return
        for src, dst in self.links:
            if leg.id in (src, dst):
                a, b = self._media(src), self._media(dst)
                if a is not None and b is not None:
                    a.startTransmit(b)
        if leg.player is not None:
            leg.player.startTransmit(me)
        for rec in self.recordings.values():
            if leg.id in rec.legs:
                me.startTransmit(rec.recorder)

    def leg_gone(self, leg: Leg) -> None:
        """A leg ended (inside a pjsua callback): its paths go, its prompt and recordings are let go later."""
        self.links = {(s, d) for s, d in self.links if leg.id not in (s, d)}
        if leg.player is not None:
            self._trash.append(leg.player)
            leg.player = None
        for file, rec in list(self.recordings.items()):
            rec.legs.discard(leg.id)
            if not rec.legs and file not in self._finish_later:
                self._finish_later.append(file)  # not from inside a pjsua callback

    def listening(self) -> bool:
        """An answered leg with no audio path to another leg: a caller with the box (menu, queue, voicemail)."""
        if not self.legs:
            return False
        linked = {leg for pair in self.links for leg in pair}
        return any(leg.state == LegState.ANSWERED and leg.id not in linked for leg in self.legs.values())

    # ---- outside pjsua callbacks ---------------------------------------------------------

    def after_callbacks(self) -> None:
        """Release what callbacks let go, close recordings whose legs all hung up, tell finished prompts."""
        self._trash.clear()
        while self._finish_later:
            self._finish_recording(self._finish_later.pop(0), reason="hangup")
        for leg in list(self.legs.values()):
            if leg.player is not None and leg.player.finished.is_set():
                self._trash.append(leg.player)
                leg.player = None
                self.emit("play_done", leg=leg.id)

    def close(self) -> None:
        """The worker stops: every recording is closed and every prompt let go."""
        self._finish_later.clear()
        for file in list(self.recordings):
            self._finish_recording(file, reason="shutdown")
        for leg in self.legs.values():
            leg.player = None
        self._trash.clear()

    # ---- inside ---------------------------------------------------------------------------

    def _live(self, leg_id: str) -> Leg:
        return live_leg(self.legs, leg_id)

    def _media(self, leg_id: str) -> pj.AudioMedia | None:
        leg = self.legs.get(leg_id)
        return media.audio_of(leg.call) if leg is not None and leg.call is not None else None

    def _link(self, src: str, dst: str) -> None:
        self._live(src), self._live(dst)
        if src == dst:
            raise CommandFailed("a leg cannot be connected to itself")
        self.links.add((src, dst))
        a, b = self._media(src), self._media(dst)
        if a is not None and b is not None:
            a.startTransmit(b)

    def _unlink(self, src: str, dst: str) -> None:
        self._live(src), self._live(dst)
        self.links.discard((src, dst))
        a, b = self._media(src), self._media(dst)
        if a is not None and b is not None:
            a.stopTransmit(b)

    def _finish_recording(self, file: str, reason: str) -> None:
        rec = self.recordings.pop(file, None)
        if rec is None:
            return
        # The WAV header is written when the recorder is destroyed.
        rec.recorder = None  # type: ignore[assignment]
        del rec
        if not media.await_wav(file):
            log.warning("recording %s: header not finalised in time", file)
        if reason != "command":
            self.emit("recording_stopped", file=file, reason=reason)
