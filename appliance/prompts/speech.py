"""Text-to-speech: the admin types a sentence, the box speaks it into a prompt;
and at first start, the built-in set is spoken the same way.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from appliance.errors import AudioToolError, ValidationError
from appliance.prompts.audio import (ENGINE_FORMAT, RATE, SOX_TIMEOUT_S, TTS_TIMEOUT_S, pcm_stats,
                                     run_tool, tool_message)
from appliance.prompts.catalogue import BUILTIN_PROMPTS, LANGUAGES, check_language
from appliance.prompts.files import (
    PromptInfo, PromptSource, check_dest, prompt_dest, read_info, write_prompt)

log = logging.getLogger("callbox.prompts")

MAX_TEXT = 1000
SPEED_WPM = 160          # a little slower than espeak-ng's 175: telephone audio is narrow

# First voice that this espeak-ng has wins. The plain "cmn" voice of espeak-ng
# 1.51 reads many Han characters as pinyin spelled in English ("yi one");
# "cmn-latn-pinyin" reads them as Mandarin.
VOICES = {"en": ("en-gb", "en"), "pl": ("pl",), "zh": ("cmn-latn-pinyin", "cmn", "zh")}


@cache
def _espeak_voices() -> frozenset[str]:
    proc = run_tool(["espeak-ng", "--voices"], timeout=TTS_TIMEOUT_S)
    return frozenset(line.split()[1] for line in proc.stdout.decode(errors="replace")
                     .splitlines()[1:] if len(line.split()) > 1)


def voice_for(language: str) -> str:
    """The espeak-ng voice that speaks `language` on this box."""
    check_language(language)
    voices = _espeak_voices()
    for voice in VOICES[language]:
        if voice in voices:
            return voice
    raise AudioToolError(f"espeak-ng has no voice for {language} (tried "
                         f"{', '.join(VOICES[language])})")


def _check_text(text: str) -> str:
    if not isinstance(text, str):
        raise ValidationError("text must be a string")
    if not text.strip():
        raise ValidationError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"text is {len(text)} characters long; the limit is {MAX_TEXT}")
    for i, ch in enumerate(text):
        if not ch.isprintable() and ch not in "\n\t":
            raise ValidationError(f"text has an unprintable character (U+{ord(ch):04X}) "
                                  f"at position {i + 1}")
    # espeak-ng reads line by line; one line keeps the intonation of a sentence.
    return " ".join(text.split())


def _speak(text: str, language: str) -> bytes:
    """The text spoken, in the engine's format, silence at either end trimmed."""
    voice = voice_for(language)
    try:
        speech = run_tool(["espeak-ng", "-v", voice, "-s", str(SPEED_WPM), "-b", "1", "--stdout"],
                      stdin=text.encode("utf-8"), timeout=TTS_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise AudioToolError(f"espeak-ng did not finish within {TTS_TIMEOUT_S:.0f} s") from e
    if speech.returncode != 0 or not speech.stdout:
        raise AudioToolError(f"espeak-ng failed: {tool_message(speech.stderr)}")
    with tempfile.TemporaryDirectory(prefix="callbox-tts-") as work:
        out = Path(work) / "prompt.wav"
        # Trimmed so that prompts played one after another ("caller number",
        # "twenty", "one") follow each other closely; a short pad keeps words apart.
        cmd = ["sox", "--no-glob", "-D", "-V1", "-t", "wav", "-", *ENGINE_FORMAT, str(out),
               "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%",
               "reverse", "remix", "-", "rate", str(RATE), "norm", "-3", "pad", "0.03", "0.08"]
        try:
            proc = run_tool(cmd, stdin=speech.stdout, timeout=SOX_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise AudioToolError(f"sox did not finish within {SOX_TIMEOUT_S:.0f} s") from e
        if proc.returncode != 0 or not out.exists():
            raise AudioToolError(f"sox failed on speech: {tool_message(proc.stderr)}")
        return out.read_bytes()


def synthesize(text: str, language: str, dest: Path) -> PromptInfo:
    """Speak `text` in `language` and write it to `dest` (…/<language>/<name>.wav)."""
    return _synthesize(text, language, Path(dest), PromptSource.TTS)


def _synthesize(text: str, language: str, dest: Path, source: PromptSource) -> PromptInfo:
    spoken = _check_text(text)
    check_language(language)
    name, _ = check_dest(dest)
    wav_bytes = _speak(spoken, language)
    frames, rate, peak = pcm_stats(wav_bytes)
    if frames == 0 or peak == 0:
        raise ValidationError("the text gives no speech (nothing espeak-ng can pronounce)")
    write_prompt(dest, wav_bytes, source, text=text)
    return PromptInfo(name=name, language=language, path=dest,
                      seconds=round(frames / rate, 3), rate=rate, source=source)


# --- the built-in set, made at first start --------------------------------------

def ensure_builtin_prompts(prompts_dir: Path, languages: tuple[str, ...] = LANGUAGES
                           ) -> list[PromptInfo]:
    """Speak every missing built-in prompt; the built-in prompts that exist afterwards.

    Files that exist are left alone (an admin may have replaced one with a
    recording). Without espeak-ng or sox this logs a warning and makes nothing.
    """
    prompts_dir = Path(prompts_dir)
    for language in languages:
        check_language(language)
    wanted = [(lang, name, text) for lang in languages
              for name, text in BUILTIN_PROMPTS[lang].items()]
    missing = [(lang, name, text) for lang, name, text in wanted
               if not prompt_dest(prompts_dir, name, lang).exists()]
    if missing:
        absent = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
        if absent:
            log.warning("%s not installed: %d built-in prompts not made",
                        " and ".join(absent), len(missing))
        else:
            _make_builtins(prompts_dir, missing)
    found = []
    for lang, name, _ in wanted:
        path = prompt_dest(prompts_dir, name, lang)
        if path.exists():
            try:
                found.append(read_info(path))
            except (OSError, EOFError, wave.Error) as e:
                log.warning("prompt %s is unreadable: %s", path, e)
    return found


def _make_builtins(prompts_dir: Path, missing: list[tuple[str, str, str]]) -> None:
    def make(item: tuple[str, str, str]) -> None:
        lang, name, text = item
        try:
            _synthesize(text, lang, prompt_dest(prompts_dir, name, lang), PromptSource.BUILTIN)
        except (AudioToolError, ValidationError) as e:
            log.warning("built-in prompt %s/%s not made: %s", lang, name, e)

    log.info("making %d built-in prompts", len(missing))
    # Each prompt is two short subprocesses; a few at once keep both cores busy.
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(make, missing))


# --- the built-in set, made by a child process for the core -----------------------

# How the child writes its log lines, for the parent to log them again as its own.
CHILD_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def make_builtin_prompts_apart(prompts_dir: Path, languages: tuple[str, ...] = LANGUAGES) -> int:
    """ensure_builtin_prompts in a child process (`python -m appliance.prompts DIR LANG...`), its log
    lines logged here as they come; the child's exit status.

    The core runs for months: the audio made on the way, and the threads that made it, would
    leave several MB of freed buffers in it for good. The files are the same, each written
    atomically, so a core that stops meanwhile leaves whole prompts or none."""
    # The child reads its stdin until it closes, which it does when this process ends however it
    # ends: it never outlives the core (as the thread that made the prompts before did not).
    args = [sys.executable, "-m", "appliance.prompts", "--with-parent", str(prompts_dir), *languages]
    try:
        child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, errors="replace")
    except OSError as e:
        log.warning("built-in prompts not made: %s", e)
        return -1
    for line in child.stderr:
        _log_again(line.rstrip("\n"))
    child.stderr.close()
    child.wait()
    child.stdin.close()
    return child.returncode


def _log_again(line: str) -> None:
    """One line of the child's log (CHILD_LOG_FORMAT) through the logger that wrote it."""
    level, _, rest = line.partition(" ")
    name, sep, message = rest.partition(": ")
    number = logging.getLevelName(level)
    if isinstance(number, int) and sep and name.startswith("callbox"):
        logging.getLogger(name).log(number, "%s", message)
    elif line.strip():
        log.warning("%s", line)  # a traceback, say
