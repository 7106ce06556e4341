"""A pjsua2 softphone in its own process, driven by JSON lines on stdin/stdout.

Run as ``python -m tests.peers.pjphone --name alice``. It prints
``{"event": "ready", "sip_port": N}`` and then takes commands
``{"id": 1, "cmd": "call", "uri": "sip:x@127.0.0.1:5062"}``, answering each
with ``{"reply": 1, "ok": true}``. One call at a time (the current call).

Commands: register {registrar, user, password, port?} · call {uri} · answer
{status?} · hangup · hold · unhold · dtmf {digits, method: rfc2833|info} ·
play_tone {freq_hz} · stop_tone · play {file} · record {file} · stop_record ·
transfer {uri} · status · quit.
Events: ready, reg_state {code}, incoming {from}, call_state {state,
last_status}, media_state {status}, dtmf {digit, method}, mwi {body}.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import queue
import sys
import threading
import time

import pjsua2 as pj

_out_lock = threading.Lock()
# pjsua2 prints its console log on fd 1; the protocol gets its own copy of
# stdout and fd 1 is pointed at stderr.
_events = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)


def emit(message: dict) -> None:
    with _out_lock:
        _events.write(json.dumps(message) + "\n")
        _events.flush()


_STATES = {pj.PJSIP_INV_STATE_CALLING: "CALLING", pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
           pj.PJSIP_INV_STATE_EARLY: "EARLY", pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
           pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
           pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED"}


def _wav_finished(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return False
    return head[:4] == b"RIFF" and int.from_bytes(head[4:8], "little") == size - 8


class PhoneCall(pj.Call):
    def __init__(self, phone: "Phone", account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.phone = phone

    def onCallState(self, prm):
        info = self.getInfo()
        emit({"event": "call_state", "state": _STATES.get(info.state, info.stateText),
              "last_status": info.lastStatusCode, "reason": info.lastReason})
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.phone.call_gone(self)

    def onCallMediaState(self, prm):
        info = self.getInfo()
        for i, m in enumerate(info.media):
            if m.type == pj.PJMEDIA_TYPE_AUDIO:
                emit({"event": "media_state", "status": int(m.status)})
                if m.status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                    self.phone.wire(self.getAudioMedia(i))

    def onDtmfDigit(self, prm):
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
        emit({"event": "dtmf", "digit": prm.digit, "method": method})

    def onCallTransferStatus(self, prm):
        emit({"event": "transfer_status", "status": prm.statusCode, "final": prm.finalNotify})


class PhoneAccount(pj.Account):
    def __init__(self, phone: "Phone"):
        super().__init__()
        self.phone = phone

    def onIncomingCall(self, prm):
        self.phone.incoming(self, prm)

    def onRegState(self, prm):
        emit({"event": "reg_state", "code": prm.code, "reason": prm.reason,
              "expiration": prm.expiration})

    def onMwiInfo(self, prm):
        emit({"event": "mwi", "state": int(prm.state), "body": prm.rdata.wholeMsg})


class Phone:
    def __init__(self, name: str, codecs: list[str], bind: str = "127.0.0.1"):
        self.bind = bind
        self.name = name
        self.inbox: queue.Queue = queue.Queue()
        self.call: PhoneCall | None = None
        self.call_media: pj.AudioMedia | None = None
        self.tone: pj.ToneGenerator | None = None
        self.player: pj.AudioMediaPlayer | None = None
        self.recorder: pj.AudioMediaRecorder | None = None
        self.accounts: list[PhoneAccount] = []
        self.running = True
        import ctypes
        ctypes.CDLL(pj._pjsua2.__file__).pj_log_set_level(ctypes.c_int(1))
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 1
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        self.ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = 0
        tcfg.boundAddress = self.bind
        tid = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self.port = int(self.ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        for codec in self.ep.codecEnum2():
            name_rate = "/".join(codec.codecId.split("/")[:2])
            prio = 200 - codecs.index(name_rate) if name_rate in codecs else 0
            self.ep.codecSetPriority(codec.codecId, prio)
        self.direct = self._account(f"sip:{name}@{self.bind}:{self.port}")

    def _account(self, id_uri: str, registrar: str = "", user: str = "",
                 password: str = "", mwi: bool = False) -> PhoneAccount:
        acfg = pj.AccountConfig()
        acfg.idUri = id_uri
        acfg.mediaConfig.transportConfig.boundAddress = self.bind
        acfg.mediaConfig.transportConfig.port = 0
        if registrar:
            acfg.regConfig.registrarUri = registrar
            acfg.regConfig.timeoutSec = 300
            acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
            if mwi:
                # Subscribe to message-summary through the registrar (RFC 3842).
                acfg.mwiConfig.enabled = True
                acfg.sipConfig.proxies.append(registrar + ";lr")
        acc = PhoneAccount(self)
        acc.create(acfg, not registrar)
        self.accounts.append(acc)
        return acc

    # -- call plumbing (main thread) --
    def incoming(self, account: PhoneAccount, prm) -> None:
        call = PhoneCall(self, account, prm.callId)
        if self.call is not None:
            busy = pj.CallOpParam(True)
            busy.statusCode = 486
            call.hangup(busy)
            return
        self.call = call
        info = call.getInfo()
        emit({"event": "incoming", "from": info.remoteUri, "to": info.localUri})

    def call_gone(self, call: PhoneCall) -> None:
        if call is self.call:
            self.call = None
            self.call_media = None

    def wire(self, media: pj.AudioMedia) -> None:
        self.call_media = media
        if self.tone is not None:
            self.tone.startTransmit(media)
        if self.player is not None:
            self.player.startTransmit(media)
        if self.recorder is not None:
            media.startTransmit(self.recorder)

    def _need_call(self) -> PhoneCall:
        if self.call is None:
            raise RuntimeError("no call")
        return self.call

    # -- commands --
    def cmd_register(self, registrar: str, user: str, password: str, port: int | None = None,
                     mwi: bool = False):
        host = registrar.split(":", 1)[1] if registrar.startswith("sip:") else registrar
        self._account(f"sip:{user}@{host.split(':')[0]}", registrar, user, password, mwi)

    def cmd_call(self, uri: str):
        if self.call is not None:
            raise RuntimeError("already in a call")
        acc = self.accounts[-1]
        call = PhoneCall(self, acc)
        call.makeCall(uri, pj.CallOpParam(True))
        self.call = call

    def cmd_answer(self, status: int = 200):
        prm = pj.CallOpParam(True)
        prm.statusCode = status
        self._need_call().answer(prm)

    def cmd_hangup(self):
        self._need_call().hangup(pj.CallOpParam(True))

    def cmd_hold(self):
        self._need_call().setHold(pj.CallOpParam(True))

    def cmd_unhold(self):
        prm = pj.CallOpParam(True)
        prm.opt.flag = pj.PJSUA_CALL_UNHOLD
        self._need_call().reinvite(prm)

    def cmd_dtmf(self, digits: str, method: str = "rfc2833"):
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "info" \
            else pj.PJSUA_DTMF_METHOD_RFC2833
        self._need_call().sendDtmf(prm)

    def cmd_play_tone(self, freq_hz: int):
        self.cmd_stop_tone()
        tone = pj.ToneGenerator()
        tone.createToneGenerator(8000, 1)
        desc = pj.ToneDesc()
        desc.freq1 = int(freq_hz)
        desc.freq2 = 0
        desc.on_msec = 10000
        desc.off_msec = 0
        desc.volume = 0
        tones = pj.ToneDescVector()
        tones.append(desc)
        tone.play(tones, True)
        self.tone = tone
        if self.call_media is not None:
            tone.startTransmit(self.call_media)

    def cmd_stop_tone(self):
        self.tone = None
        gc.collect()

    def cmd_play(self, file: str):
        player = pj.AudioMediaPlayer()
        player.createPlayer(file, 0)
        self.player = player
        if self.call_media is not None:
            player.startTransmit(self.call_media)

    def cmd_record(self, file: str):
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(file)
        self.recorder = recorder
        self.recorder_path = file
        if self.call_media is not None:
            self.call_media.startTransmit(recorder)

    def cmd_stop_record(self):
        if self.recorder is None:
            return
        path = self.recorder_path
        self.recorder = None  # destroying the recorder writes the WAV header...
        end = time.monotonic() + 2
        while time.monotonic() < end and not _wav_finished(path):
            self.ep.libHandleEvents(10)  # ...on the bridge's clock, a moment later

    def cmd_transfer(self, uri: str):
        self._need_call().xfer(uri, pj.CallOpParam(True))

    def cmd_status(self):
        if self.call is None:
            return {"call": None, "port": self.port}
        info = self.call.getInfo()
        return {"call": {"state": _STATES.get(info.state, info.stateText), "remote": info.remoteUri}, "port": self.port}

    def cmd_quit(self):
        self.running = False

    # -- loop --
    def run(self) -> None:
        threading.Thread(target=self._read_stdin, daemon=True).start()
        emit({"event": "ready", "sip_port": self.port})
        next_gc = time.monotonic() + 2
        while self.running:
            self.ep.libHandleEvents(10)
            while True:
                try:
                    msg = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if msg is None:
                    self.running = False
                    break
                self._handle(msg)
            if time.monotonic() > next_gc:
                gc.collect()
                next_gc = time.monotonic() + 2
        self._shutdown()

    def _handle(self, msg: dict) -> None:
        cmd_id = msg.get("id")
        try:
            handler = getattr(self, "cmd_" + str(msg.get("cmd")))
            args = {k: v for k, v in msg.items() if k not in ("id", "cmd")}
            extra = handler(**args) or {}
            emit({"reply": cmd_id, "ok": True, **extra})
        except (pj.Error, RuntimeError, AttributeError, TypeError, ValueError) as e:
            text = f"{e.reason} ({e.status})" if isinstance(e, pj.Error) else str(e)
            emit({"reply": cmd_id, "ok": False, "error": text})

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            if line.strip():
                try:
                    self.inbox.put(json.loads(line))
                except ValueError:
                    emit({"reply": None, "ok": False, "error": "not JSON"})
        self.inbox.put(None)

    def _shutdown(self) -> None:
        try:
            self.ep.hangupAllCalls()
        except pj.Error:
            pass
        end = time.monotonic() + 0.5
        while self.call is not None and time.monotonic() < end:
            self.ep.libHandleEvents(10)
        self.recorder = self.player = self.tone = None
        self.call = self.call_media = None
        gc.collect()
        for acc in self.accounts:
            acc.shutdown()
        self.accounts.clear()
        self.direct = None
        gc.collect()
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)  # calls are already over


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="phone")
    parser.add_argument("--bind", default="127.0.0.1", help="the phone's address (its host on a test LAN)")
    parser.add_argument("--codecs", default="PCMU/8000,PCMA/8000",
                        help="offered codecs in order, e.g. G722/16000,PCMA/8000")
    args = parser.parse_args()
    gc.disable()
    phone = Phone(args.name, args.codecs.split(","), bind=args.bind)
    phone.run()
    _events.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
