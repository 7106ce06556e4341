"""Endpoint setup and the media objects (players, recorders) of the engine's processes.

Everything here runs on the process's pjsua2 thread only.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
import time
from typing import Callable, Iterable

import pjsua2 as pj

from appliance.engine.legs import LocalAccount

# G.722 for phones that offer it, then G.711; everything else costs CPU
# (or licences) for no gain on a LAN.
CODEC_PRIORITY = {"G722/16000": 250, "PCMA/8000": 240, "PCMU/8000": 230}
CLOCK_RATE = 8000  # 16 kHz costs about four times the CPU with G.711
CONFERENCE_PORTS = 128


def start_endpoint(bind: str, sip_port: int = 0, *, log_file: str | None = None, log_level: int = 1,
                   user_agent: str = "Callbox engine", max_calls: int = 4096,
                   conference_ports: int | None = CONFERENCE_PORTS,
                   codecs: dict[str, int] = CODEC_PRIORITY) -> tuple[pj.Endpoint, int]:
    """One pjsua2 Endpoint on this thread alone (threadCnt=0, mainThreadOnly), with no sound card,
    listening for SIP over UDP on bind:sip_port (0 picks a free port); returns it and the port."""
    set_log_level(log_level)  # before libCreate, which logs at the default level
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = max_calls  # clamped to the build's PJSUA_MAX_CALLS
    cfg.uaConfig.userAgent = user_agent
    cfg.logConfig.level = log_level
    cfg.logConfig.consoleLevel = log_level
    if log_file:
        cfg.logConfig.filename = log_file
    cfg.medConfig.clockRate = CLOCK_RATE
    cfg.medConfig.sndClockRate = CLOCK_RATE
    if conference_ports is not None:
        cfg.medConfig.maxMediaPorts = conference_ports
    cfg.medConfig.noVad = True  # recordings and prompts must not be clipped
    cfg.medConfig.ecTailLen = 0  # no sound card, so no echo to cancel
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = sip_port
    tcfg.boundAddress = bind
    transport = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    port = int(ep.transportGetInfo(transport).localName.rsplit(":", 1)[1])
    ep.libStart()
    ep.audDevManager().setNullDev()
    set_codec_priorities(ep, codecs)
    return ep, port


def local_account(user: str, bind: str, sip_port: int,
                  on_incoming: Callable[[pj.OnIncomingCallParam], None]) -> LocalAccount:
    """The process's own account (sip:user@bind:port): it registers nowhere and takes every INVITE."""
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{user}@{bind}:{sip_port}"
    acfg.mediaConfig.transportConfig.boundAddress = bind
    acfg.mediaConfig.transportConfig.port = 0
    account = LocalAccount(on_incoming)
    account.create(acfg, True)
    return account


def set_codec_priorities(ep: pj.Endpoint, codecs: dict[str, int] = CODEC_PRIORITY) -> None:
    for codec in ep.codecEnum2():
        name_rate = "/".join(codec.codecId.split("/")[:2])  # ids end in /channels
        ep.codecSetPriority(codec.codecId, codecs.get(name_rate, 0))


def hang_up_all(ep: pj.Endpoint, still_up: Callable[[], bool], grace_s: float, poll_ms: int = 10,
                clock: Callable[[], float] = time.monotonic) -> None:
    """Hang up every call and let pjsua run until `still_up()` turns false or `grace_s` has passed,
    so that the far ends hear the BYE before the endpoint goes."""
    try:
        ep.hangupAllCalls()
    except pj.Error:
        pass
    deadline = clock() + grace_s
    while still_up() and clock() < deadline:
        ep.libHandleEvents(poll_ms)


def shut_down_accounts(accounts: Iterable[pj.Account | None]) -> None:
    """Take accounts down before the endpoint (one that will not go is left to libDestroy)."""
    for account in accounts:
        if account is None:
            continue
        try:
            account.shutdown()
        except pj.Error:
            pass


def stop_endpoint(ep: pj.Endpoint, account: pj.Account | None) -> None:
    shut_down_accounts([account])
    # Calls were hung up and answered before this; without the flag pjsua
    # sleeps up to a second waiting for unregistrations this account never makes.
    ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)


def _pjlib() -> ctypes.CDLL:
    # The extension module exports pjproject's C API; SWIG does not wrap these two.
    spec = importlib.util.find_spec("pjsua2._pjsua2")
    if spec is None or spec.origin is None:
        raise ImportError("pjsua2's extension module is missing")
    return ctypes.CDLL(spec.origin)


def max_calls() -> int:
    """The build's call limit, read from pjsua itself after libInit."""
    lib = _pjlib()
    lib.pjsua_call_get_max_count.restype = ctypes.c_uint
    return int(lib.pjsua_call_get_max_count())


def set_log_level(level: int) -> None:
    _pjlib().pj_log_set_level(ctypes.c_int(level))


def _audio_index(call: pj.Call) -> tuple[int, int] | None:
    info = call.getInfo()
    for i, m in enumerate(info.media):
        if m.type == pj.PJMEDIA_TYPE_AUDIO:
            return i, m.status
    return None


def audio_status(call: pj.Call) -> int | None:
    try:
        found = _audio_index(call)
    except pj.Error:
        return None
    return found[1] if found else None


def audio_of(call: pj.Call | None) -> pj.AudioMedia | None:
    """The call's conference port, or None while it has no live audio."""
    if call is None:
        return None
    try:
        found = _audio_index(call)
        if not found or found[1] not in (pj.PJSUA_CALL_MEDIA_ACTIVE,
                                         pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
                                         pj.PJSUA_CALL_MEDIA_LOCAL_HOLD):
            return None
        return call.getAudioMedia(found[0])
    except pj.Error:
        return None


def codec_of(call: pj.Call) -> str | None:
    try:
        found = _audio_index(call)
        if not found:
            return None
        si = call.getStreamInfo(found[0])
        return f"{si.codecName}/{si.codecClockRate}"
    except pj.Error:
        return None


class Player(pj.AudioMediaPlayer):
    """A WAV prompt; `finished` is set at end of file (from the clock thread)."""

    def __init__(self, file: str, loop: bool):
        super().__init__()
        self.loop = loop
        self.finished = threading.Event()
        self.createPlayer(file, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)

    def onEof2(self) -> None:
        if not self.loop:
            self.finished.set()


def wav_finished(path: str) -> bool:
    """True once the recorder has written the final RIFF size into the header."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return False
    return len(head) == 8 and head[:4] == b"RIFF" \
        and int.from_bytes(head[4:8], "little") == size - 8 and size > 44


def await_wav(path: str, timeout_s: float = 2.0) -> bool:
    """Wait for a destroyed recorder's file to be complete.

    The conference bridge removes ports on its clock thread, so the recorder
    is closed (and its header written) a frame or two after we let it go.
    Sleeping rather than running libHandleEvents keeps pjsua callbacks from
    firing in the middle of a command.
    """
    deadline = time.monotonic() + timeout_s
    while not wav_finished(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


class Recording:
    """One WAV file fed by one or more legs (the bridge mixes them)."""

    def __init__(self, file: str, legs: set[str]):
        self.file = file
        self.legs = legs
        self.recorder = pj.AudioMediaRecorder()
        self.recorder.createRecorder(file)
