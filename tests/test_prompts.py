"""Voice prompts: real espeak-ng and sox, real WAV files, number grammar per language."""

from __future__ import annotations

import array
import json
import logging
import math
import random
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from appliance import prompts
from appliance.errors import ValidationError
from appliance.prompts import (BUILTIN_PROMPTS, LANGUAGES, PromptSource, announce_agent,
                               announce_position, announce_wait, convert_upload,
                               ensure_builtin_prompts, list_prompts, prompt_dest, prompt_path,
                               say_number, synthesize)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed on this machine")
needs_sox = pytest.mark.skipif(shutil.which("sox") is None,
                               reason="sox is not installed on this machine")


# --- helpers -----------------------------------------------------------------

def read_pcm(path: Path) -> tuple[tuple[int, int, int], array.array]:
    """((channels, width, rate), samples) of a WAV that must be plain PCM."""
    raw = path.read_bytes()
    fmt_at = raw.find(b"fmt ")
    assert struct.unpack("<H", raw[fmt_at + 8:fmt_at + 10])[0] == 1, "not plain PCM"
    with wave.open(str(path), "rb") as w:
        shape = (w.getnchannels(), w.getsampwidth(), w.getframerate())
        samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return shape, samples


def rms(samples: array.array) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def zero_crossings(samples: array.array) -> int:
    return sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))


def sine_wav(path: Path, *, rate: int, channels: int, width: int, seconds: float,
             hz: float, volume: float = 0.25) -> Path:
    """A sine written with the wave module, independent of sox."""
    frames = bytearray()
    for i in range(int(rate * seconds)):
        value = volume * math.sin(2 * math.pi * hz * i / rate)
        if width == 1:
            sample = struct.pack("<B", int(128 + value * 127))     # 8-bit WAV is unsigned
        else:
            sample = struct.pack("<h", int(value * 32767))
        frames += sample * channels
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def words(names: list[str], language: str, sep: str = " ") -> str:
    return sep.join(BUILTIN_PROMPTS[language][n] for n in names)


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    return tmp_path / "prompts"


# --- numbers and sentences (pure) -------------------------------------------------

@pytest.mark.parametrize("n, spoken", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (21, "twenty one"),
    (99, "ninety nine"), (100, "one hundred"), (105, "one hundred and five"),
    (118, "one hundred and eighteen"), (340, "three hundred and forty"),
    (999, "nine hundred and ninety nine"),
])
def test_english_numbers(n, spoken):
    assert words(say_number(n, "en"), "en") == spoken


@pytest.mark.parametrize("n, spoken", [
    (0, "zero"), (1, "jeden"), (2, "dwa"), (12, "dwanaście"), (15, "piętnaście"),
    (20, "dwadzieścia"), (21, "dwadzieścia jeden"), (45, "czterdzieści pięć"),
    (100, "sto"), (101, "sto jeden"), (119, "sto dziewiętnaście"), (200, "dwieście"),
    (342, "trzysta czterdzieści dwa"), (999, "dziewięćset dziewięćdziesiąt dziewięć"),
])
def test_polish_numbers(n, spoken):
    assert words(say_number(n, "pl"), "pl") == spoken


@pytest.mark.parametrize("n, spoken", [
    (1, "jedna"), (2, "dwie"), (12, "dwanaście"), (21, "dwadzieścia jeden"),
    (22, "dwadzieścia dwie"), (102, "sto dwie"), (101, "sto jeden"),
])
def test_polish_feminine_counting(n, spoken):
    assert words(say_number(n, "pl", counting=True), "pl") == spoken


@pytest.mark.parametrize("n, spoken", [
    (0, "零"), (2, "二"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (21, "二十一"),
    (99, "九十九"), (100, "一百"), (105, "一百零五"), (110, "一百一十"), (115, "一百一十五"),
    (120, "一百二十"), (222, "二百二十二"), (909, "九百零九"), (999, "九百九十九"),
])
def test_chinese_numbers(n, spoken):
    assert words(say_number(n, "zh"), "zh", sep="") == spoken


def test_chinese_21_is_composed_of_two_ten_one():
    assert say_number(21, "zh") == ["num-2", "num-10", "num-1"]
    assert [BUILTIN_PROMPTS["zh"][n] for n in say_number(21, "zh")] == ["二", "十", "一"]


@pytest.mark.parametrize("n, spoken", [(2, "两"), (12, "十二"), (22, "二十二"), (200, "两百"),
                                       (202, "两百零二")])
def test_chinese_counting_uses_liang(n, spoken):
    assert words(say_number(n, "zh", counting=True), "zh", sep="") == spoken


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_number_has_its_prompts(language):
    table = BUILTIN_PROMPTS[language]
    for n in range(1000):
        for counting in (False, True):
            names = say_number(n, language, counting=counting)
            assert names and all(name in table for name in names), (n, names)


@pytest.mark.parametrize("bad", [-1, 1000, 2.5, True, "7"])
def test_numbers_out_of_range_are_refused(bad):
    with pytest.raises(ValidationError):
        say_number(bad, "en")


@pytest.mark.parametrize("language, position, spoken", [
    ("en", 3, "You are caller number three"),
    ("pl", 21, "Państwa połączenie jest w kolejce na pozycji numer dwadzieścia jeden"),
    ("zh", 2, "您目前的排队序号是二"),
])
def test_announce_position(language, position, spoken):
    names = announce_position(position, language)
    assert names[0] == "you-are-caller-number"
    assert words(names, language, sep="" if language == "zh" else " ") == spoken


@pytest.mark.parametrize("language, minutes, spoken", [
    ("en", 1, "The estimated waiting time is one minute"),
    ("en", 25, "The estimated waiting time is twenty five minutes"),
    ("en", 0, "The estimated waiting time is one minute"),
    ("en", 2.2, "The estimated waiting time is three minutes"),
    ("pl", 1, "Przewidywany czas oczekiwania to jedna minuta"),
    ("pl", 2, "Przewidywany czas oczekiwania to dwie minuty"),
    ("pl", 4, "Przewidywany czas oczekiwania to cztery minuty"),
    ("pl", 5, "Przewidywany czas oczekiwania to pięć minut"),
    ("pl", 12, "Przewidywany czas oczekiwania to dwanaście minut"),
    ("pl", 21, "Przewidywany czas oczekiwania to dwadzieścia jeden minut"),
    ("pl", 22, "Przewidywany czas oczekiwania to dwadzieścia dwie minuty"),
    ("pl", 112, "Przewidywany czas oczekiwania to sto dwanaście minut"),
    ("pl", 124, "Przewidywany czas oczekiwania to sto dwadzieścia cztery minuty"),
    ("zh", 2, "预计等待时间约为两分钟"),
    ("zh", 12, "预计等待时间约为十二分钟"),
    ("zh", 45, "预计等待时间约为四十五分钟"),
])
def test_announce_wait(language, minutes, spoken):
    names = announce_wait(minutes, language)
    assert words(names, language, sep="" if language == "zh" else " ") == spoken


def test_announce_caps_at_999():
    assert announce_wait(5000, "en") == announce_wait(999, "en")
    assert announce_position(1234, "pl") == announce_position(999, "pl")


@pytest.mark.parametrize("language, agent, digits", [
    ("en", "103", ["num-1", "num-0", "num-3"]),
    ("pl", "2207", ["num-2", "num-2", "num-0", "num-7"]),
    ("zh", "1023", ["num-yao", "num-0", "num-2", "num-3"]),
])
def test_announce_agent_reads_digit_by_digit(language, agent, digits):
    assert announce_agent(agent, language) == ["agent-number", *digits, "will-help-you"]


def test_chinese_agent_number_sounds_like_a_phone_number():
    assert words(announce_agent("1023", "zh"), "zh", sep="") == "现在由幺零二三号客服为您服务。"


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "+48", "1" * 21])
def test_announce_agent_refuses_non_digits(bad):
    with pytest.raises(ValidationError):
        announce_agent(bad, "en")


def test_unknown_language_is_refused():
    with pytest.raises(ValidationError, match="language"):
        announce_position(1, "de")


@pytest.mark.parametrize("language", LANGUAGES)
def test_builtin_set_is_complete(language):
    required = {"you-are-caller-number", "estimated-wait", "minutes", "please-hold",
                "agent-number", "will-help-you", "press-1-for-callback", "callback-confirm",
                "thank-you-goodbye", "main-menu", "invalid-option", "closed-greeting",
                "leave-a-message", "this-call-may-be-recorded", "press-9-to-decline-recording"}
    required |= {f"num-{d}" for d in range(10)}
    table = BUILTIN_PROMPTS[language]
    assert required <= table.keys()
    assert all(prompts.NAME_RE.fullmatch(n) and text.strip() for n, text in table.items())


def _voicemail_prompt_names() -> set[str]:
    """Every prompt the voicemail machines ask for, read from their source."""
    import re

    import appliance.logic.voicemail as vm
    names = set()
    for source in Path(vm.__file__).parent.glob("*.py"):
        names |= set(re.findall(r'Prompt\("([a-z0-9-]+)"', source.read_text()))
        names |= set(re.findall(r'"(vm-[a-z0-9-]+)"', source.read_text()))
    return names - {"beep"}  # the beep is a system sound (appliance.tones), not speech


@pytest.mark.parametrize("language", LANGUAGES)
def test_builtin_set_has_every_voicemail_prompt(language):
    # Without vm-default-greeting a caller sent to voicemail heard only the beep.
    names = _voicemail_prompt_names()
    assert "vm-default-greeting" in names and "vm-enter-pin" in names
    assert sorted(names - BUILTIN_PROMPTS[language].keys()) == []


# --- text-to-speech ----------------------------------------------------------

SAMPLE_TEXTS = {
    "en": "Thank you for calling Callbox. Your call is important to us.",
    "pl": "Dziękujemy za telefon. Prosimy pozostać na linii.",
    "zh": "感谢您的来电，请稍候。",
}


@needs_espeak
@needs_sox
@pytest.mark.parametrize("language", LANGUAGES)
def test_synthesize_writes_engine_format_speech(prompts_dir, language):
    dest = prompt_dest(prompts_dir, "welcome", language)
    info = synthesize(SAMPLE_TEXTS[language], language, dest)
    shape, samples = read_pcm(dest)
    assert shape == (1, 2, 8000)
    assert (info.name, info.language, info.rate, info.source) == ("welcome", language, 8000, "tts")
    assert info.seconds == pytest.approx(len(samples) / 8000, abs=0.01)
    assert info.seconds > 1.5
    assert rms(samples) > 1000                      # speech, not near-silence
    assert list_prompts(prompts_dir) == [info]
    assert json.loads(dest.with_suffix(".json").read_text())["text"] == SAMPLE_TEXTS[language]


@needs_espeak
def test_chinese_is_read_as_mandarin_not_english():
    # The plain "cmn" voice of some espeak-ng builds spells Han characters as
    # pinyin in English; the chosen voice must stay in Mandarin throughout.
    out = subprocess.run(["espeak-ng", "-v", prompts.voice_for("zh"), "-q", "-x"],
                         input="感谢您的来电一二三".encode(), capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip()
    assert b"(en)" not in out.stdout


@needs_espeak
@needs_sox
@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("   \n ", "empty"), ("x" * 1001, "1001 characters"),
    ("hello\x07world", r"U\+0007"), ("null\x00byte", r"U\+0000"),
])
def test_synthesize_refuses_bad_text(prompts_dir, text, reason):
    with pytest.raises(ValidationError, match=reason):
        synthesize(text, "en", prompt_dest(prompts_dir, "greeting", "en"))
    assert not prompts_dir.exists()


@needs_espeak
@needs_sox
def test_synthesize_accepts_the_longest_text(prompts_dir):
    text = ("Please hold. " * 80)[:1000]
    info = synthesize(text, "en", prompt_dest(prompts_dir, "long", "en"))
    assert info.seconds > 20


def test_synthesize_refuses_bad_names_and_languages(tmp_path):
    with pytest.raises(ValidationError, match="language"):
        synthesize("hello", "fr", tmp_path / "fr" / "hello.wav")
    for bad in ("Hello.wav", "a_b.wav", "x.mp3", f"{'a' * 65}.wav", ".wav"):
        with pytest.raises(ValidationError):
            synthesize("hello", "en", tmp_path / "en" / bad)
    with pytest.raises(ValidationError):
        prompt_dest(tmp_path, "../etc/passwd", "en")
    assert list(tmp_path.iterdir()) == []


# --- uploads -----------------------------------------------------------------

@needs_sox
def test_upload_of_44k_stereo_wav(prompts_dir, tmp_path):
    src = sine_wav(tmp_path / "cd.wav", rate=44100, channels=2, width=2, seconds=2.0, hz=440)
    dest = prompt_dest(prompts_dir, "hold-music", "en")
    info = convert_upload(src.read_bytes(), dest)
    shape, samples = read_pcm(dest)
    assert shape == (1, 2, 8000)
    assert info.seconds == pytest.approx(2.0, abs=0.02)
    assert info.source == PromptSource.UPLOAD
    assert zero_crossings(samples) == pytest.approx(2 * 440 * 2.0, rel=0.02)   # pitch kept
    # Normalised to -3 dBFS peak from a quiet -12 dBFS original.
    assert max(abs(s) for s in samples) == pytest.approx(32767 * 10 ** (-3 / 20), rel=0.03)


@needs_sox
def test_upload_of_16k_8bit_wav(prompts_dir, tmp_path):
    src = sine_wav(tmp_path / "old.wav", rate=16000, channels=1, width=1, seconds=1.5, hz=300)
    dest = prompt_dest(prompts_dir, "greeting", "pl")
    info = convert_upload(src.read_bytes(), dest)
    shape, samples = read_pcm(dest)
    assert shape == (1, 2, 8000)
    assert (info.language, info.seconds) == ("pl", pytest.approx(1.5, abs=0.02))
    assert zero_crossings(samples) == pytest.approx(2 * 300 * 1.5, rel=0.02)


@needs_sox
@pytest.mark.parametrize("kind", ["flac", "ogg"])
def test_upload_of_compressed_formats(prompts_dir, tmp_path, kind):
    src = tmp_path / f"in.{kind}"
    subprocess.run(["sox", "-n", "-r", "22050", "-c", "2", str(src), "synth", "1.2", "sine", "500"],
                   check=True, timeout=60)
    info = convert_upload(src.read_bytes(), prompt_dest(prompts_dir, "menu", "en"))
    shape, samples = read_pcm(info.path)
    assert shape == (1, 2, 8000)
    assert info.seconds == pytest.approx(1.2, abs=0.05)
    assert rms(samples) > 5000


def _truncated_wav(tmp_path: Path) -> bytes:
    whole = sine_wav(tmp_path / "t.wav", rate=44100, channels=2, width=2, seconds=2, hz=440)
    return whole.read_bytes()[:100_000]


def _header_only_wav(tmp_path: Path) -> bytes:
    return sine_wav(tmp_path / "h.wav", rate=8000, channels=1, width=2, seconds=0, hz=1)\
        .read_bytes()


def _silent_wav(tmp_path: Path) -> bytes:
    return sine_wav(tmp_path / "s.wav", rate=8000, channels=1, width=2, seconds=1, hz=0)\
        .read_bytes()


BAD_UPLOADS = {
    "truncated WAV": (_truncated_wav, "truncated"),
    "random bytes": (lambda _: random.Random(7).randbytes(50_000), "not an audio file"),
    "empty file": (lambda _: b"", "empty"),
    "text file": (lambda _: b"Hello,\nthis is not a recording.\n" * 20, "text file"),
    "WAV without audio": (_header_only_wav, "no audio"),
    "silent WAV": (_silent_wav, "silent"),
    "garbled MP3": (lambda _: b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40,
                    "MP3"),
    "garbled FLAC": (lambda _: b"fLaC" + random.Random(3).randbytes(5000), "FLAC"),
}


@needs_sox
@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_bad_upload_is_refused_and_keeps_the_old_prompt(prompts_dir, tmp_path, case):
    make, reason = BAD_UPLOADS[case]
    dest = prompt_dest(prompts_dir, "welcome", "en")
    convert_upload(sine_wav(tmp_path / "good.wav", rate=8000, channels=1, width=2,
                            seconds=1, hz=400).read_bytes(), dest)
    before = {p.name: p.read_bytes() for p in dest.parent.iterdir()}
    with pytest.raises(ValidationError, match=reason):
        convert_upload(make(tmp_path), dest)
    assert {p.name: p.read_bytes() for p in dest.parent.iterdir()} == before


@needs_sox
def test_bad_upload_to_a_new_name_writes_nothing(prompts_dir):
    with pytest.raises(ValidationError):
        convert_upload(b"plain words, not sound", prompt_dest(prompts_dir, "new", "zh"))
    assert not prompts_dir.exists()


@needs_sox
def test_over_long_wav_is_refused(prompts_dir, tmp_path):
    dest = prompt_dest(prompts_dir, "long", "en")
    src = sine_wav(tmp_path / "l.wav", rate=8000, channels=1, width=2, seconds=3, hz=400)
    with pytest.raises(ValidationError, match="limit is 2 s"):
        convert_upload(src.read_bytes(), dest, max_seconds=2)
    assert not dest.exists()
    assert convert_upload(src.read_bytes(), dest, max_seconds=4).seconds == pytest.approx(3)


@needs_sox
def test_over_long_flac_is_refused(prompts_dir, tmp_path):
    # No header to read the length from: the decoder itself must stop at the limit.
    src = tmp_path / "l.flac"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(src), "synth", "3", "sine", "400"],
                   check=True, timeout=60)
    dest = prompt_dest(prompts_dir, "long", "en")
    with pytest.raises(ValidationError, match="longer than the limit of 2 s"):
        convert_upload(src.read_bytes(), dest, max_seconds=2)
    assert not dest.exists()


# --- listing and lookup ------------------------------------------------------------

@needs_sox
def test_list_prompts_and_fallback(prompts_dir, tmp_path):
    tone = sine_wav(tmp_path / "t.wav", rate=8000, channels=1, width=2, seconds=1, hz=400)
    convert_upload(tone.read_bytes(), prompt_dest(prompts_dir, "main-menu", "en"))
    convert_upload(tone.read_bytes(), prompt_dest(prompts_dir, "main-menu", "pl"))
    convert_upload(tone.read_bytes(), prompt_dest(prompts_dir, "closed", "en"))
    (prompts_dir / "system").mkdir()
    shutil.copy(tone, prompts_dir / "system" / "ringback.wav")      # system sounds are not prompts
    (prompts_dir / "zh").mkdir()
    (prompts_dir / "zh" / "broken.wav").write_bytes(b"RIFF\x00\x00")   # skipped, not fatal

    listed = [(p.language, p.name, p.source) for p in list_prompts(prompts_dir)]
    assert listed == [("en", "closed", "upload"), ("en", "main-menu", "upload"),
                      ("pl", "main-menu", "upload")]
    assert prompt_path(prompts_dir, "main-menu", "pl") == prompts_dir / "pl" / "main-menu.wav"
    assert prompt_path(prompts_dir, "closed", "pl") == prompts_dir / "en" / "closed.wav"
    assert prompt_path(prompts_dir, "closed", "pl", fallback=None) is None
    assert prompt_path(prompts_dir, "nowhere", "zh") is None
    with pytest.raises(ValidationError):
        prompt_path(prompts_dir, "../../etc/passwd", "en")


# --- the built-in set -------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_espeak
@needs_sox
def test_builtin_prompts_are_made_once(prompts_dir):
    made = ensure_builtin_prompts(prompts_dir)
    expected = {(lang, name) for lang in LANGUAGES for name in BUILTIN_PROMPTS[lang]}
    assert {(p.language, p.name) for p in made} == expected
    assert all(p.source == "builtin" and p.rate == 8000 and p.seconds > 0.2 for p in made)
    shape, samples = read_pcm(prompt_path(prompts_dir, "num-7", "pl"))
    assert shape == (1, 2, 8000) and rms(samples) > 1000
    for lang in LANGUAGES:  # what a caller hears before the beep when a box has no greeting of its own
        shape, samples = read_pcm(prompt_path(prompts_dir, "vm-default-greeting", lang))
        assert shape == (1, 2, 8000) and len(samples) > 8000 * 2 and rms(samples) > 1000

    before = _snapshot(prompts_dir)
    again = ensure_builtin_prompts(prompts_dir)
    assert _snapshot(prompts_dir) == before           # nothing rewritten, nothing added
    assert sorted(again, key=str) == sorted(made, key=str)


@needs_espeak
@needs_sox
def test_builtin_prompts_keep_an_admins_recording(prompts_dir, tmp_path):
    dest = prompt_dest(prompts_dir, "main-menu", "en")
    convert_upload(sine_wav(tmp_path / "m.wav", rate=8000, channels=1, width=2, seconds=1,
                            hz=400).read_bytes(), dest)
    kept = dest.read_bytes()
    made = ensure_builtin_prompts(prompts_dir, languages=("en",))
    assert dest.read_bytes() == kept
    assert {p.name: p.source for p in made}["main-menu"] == "upload"


@needs_sox
def test_builtin_prompts_without_espeak_warn_and_return_what_exists(prompts_dir, tmp_path,
                                                                    monkeypatch, caplog):
    dest = prompt_dest(prompts_dir, "please-hold", "en")
    convert_upload(sine_wav(tmp_path / "p.wav", rate=8000, channels=1, width=2, seconds=1,
                            hz=400).read_bytes(), dest)
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))
    with caplog.at_level(logging.WARNING, logger="callbox.prompts"):
        found = ensure_builtin_prompts(prompts_dir, languages=("en",))
    assert [p.name for p in found] == ["please-hold"]
    assert "espeak-ng" in caplog.text and "not installed" in caplog.text
    assert sorted(p.name for p in (prompts_dir / "en").iterdir()) == ["please-hold.json",
                                                                      "please-hold.wav"]
