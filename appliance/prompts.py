"""Voice prompts: text-to-speech, uploaded audio, the built-in set, and sentences.

Every prompt is a WAV file in the engine's format (8 kHz, 16-bit signed PCM,
mono: the conference bridge's clock, so playing it costs no resampling) at
DATA/prompts/<language>/<name>.wav. Beside it, <name>.json records where it
came from (text-to-speech, an upload, or the built-in set).

espeak-ng speaks, sox converts. Both run as subprocesses with a timeout, and
user data only ever reaches them on stdin or as a temp file's path.
"""

from __future__ import annotations

import array
import io
import json
import logging
import math
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from appliance.errors import AudioToolError, ValidationError
from appliance.store.atomic import atomic_write_bytes, encode_json

log = logging.getLogger("callbox.prompts")

RATE = 8000
LANGUAGES = ("en", "pl", "zh")
MAX_TEXT = 1000
NAME_RE = re.compile(r"[a-z0-9-]{1,64}")
SPEED_WPM = 160          # a little slower than espeak-ng's 175: telephone audio is narrow
TTS_TIMEOUT_S = 30.0
SOX_TIMEOUT_S = 120.0    # ten minutes of audio normalises in seconds even on a Pi

# First voice that this espeak-ng has wins. The plain "cmn" voice of espeak-ng
# 1.51 reads many Han characters as pinyin spelled in English ("yi one");
# "cmn-latn-pinyin" reads them as Mandarin.
VOICES = {"en": ("en-gb", "en"), "pl": ("pl",), "zh": ("cmn-latn-pinyin", "cmn", "zh")}

# The engine's format, as sox output options.
_OUT = ["-t", "wav", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", str(RATE)]


class PromptSource(StrEnum):
    TTS = "tts"
    UPLOAD = "upload"
    BUILTIN = "builtin"


@dataclass(frozen=True)
class PromptInfo:
    name: str
    language: str
    path: Path
    seconds: float
    rate: int
    source: PromptSource

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "path": str(self.path),
                "seconds": self.seconds, "rate": self.rate, "source": str(self.source)}


# --- the built-in set -------------------------------------------------------

_EN_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
               "seventeen", "eighteen", "nineteen"]
_EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_PL_NUMBERS = ["zero", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem",
               "dziewięć", "dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście",
               "piętnaście", "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście"]
_PL_TENS = ["dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt",
            "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"]
_PL_HUNDREDS = ["sto", "dwieście", "trzysta", "czterysta", "pięćset", "sześćset", "siedemset",
                "osiemset", "dziewięćset"]
_ZH_DIGITS = "零一二三四五六七八九"


def _number_prompts(language: str) -> dict[str, str]:
    if language == "en":
        words = {f"num-{n}": w for n, w in enumerate(_EN_NUMBERS)}
        words |= {f"num-{10 * (i + 2)}": w for i, w in enumerate(_EN_TENS)}
        return words | {"num-hundred": "hundred", "num-and": "and"}
    if language == "pl":
        words = {f"num-{n}": w for n, w in enumerate(_PL_NUMBERS)}
        words |= {f"num-{10 * (i + 2)}": w for i, w in enumerate(_PL_TENS)}
        words |= {f"num-{100 * (i + 1)}": w for i, w in enumerate(_PL_HUNDREDS)}
        # Feminine forms, for counting minuty (a feminine noun).
        return words | {"num-1f": "jedna", "num-2f": "dwie"}
    words = {f"num-{n}": c for n, c in enumerate(_ZH_DIGITS)}
    # 两 counts things ("两分钟"); 幺 is 1 when digits are read one by one.
    return words | {"num-10": "十", "num-hundred": "百", "num-liang": "两", "num-yao": "幺"}


_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "you-are-caller-number": "You are caller number",
        "estimated-wait": "The estimated waiting time is",
        "minute": "minute",
        "minutes": "minutes",
        "please-hold": "Please hold the line. Your call will be answered as soon as possible.",
        "agent-number": "Agent number",
        "will-help-you": "will help you now.",
        "press-1-for-callback": "To be called back instead of waiting, press 1.",
        "callback-confirm": "Thank you. We will call you back as soon as an agent is free.",
        "thank-you-goodbye": "Thank you for calling. Goodbye.",
        "main-menu": "For sales, press 1. For support, press 2. For the operator, press 0.",
        "invalid-option": "Sorry, that is not a valid option.",
        "closed-greeting": "Thank you for calling. We are closed at the moment. "
                           "Please call again during our opening hours.",
        "leave-a-message": "Please leave a message after the tone.",
        "this-call-may-be-recorded": "This call may be recorded for quality and training purposes.",
        "press-9-to-decline-recording": "If you do not want this call to be recorded, press 9.",
    },
    "pl": {
        "you-are-caller-number": "Państwa połączenie jest w kolejce na pozycji numer",
        "estimated-wait": "Przewidywany czas oczekiwania to",
        "minute": "minuta",
        "minutes": "minuty",
        "minutes-many": "minut",
        "please-hold": "Prosimy pozostać na linii. Odbierzemy połączenie najszybciej, "
                       "jak to możliwe.",
        "agent-number": "Konsultant numer",
        "will-help-you": "zaraz Państwu pomoże.",
        "press-1-for-callback": "Jeśli zamiast czekać wolą Państwo, abyśmy oddzwonili, "
                                "prosimy nacisnąć jedynkę.",
        "callback-confirm": "Dziękujemy. Oddzwonimy, gdy tylko konsultant będzie wolny.",
        "thank-you-goodbye": "Dziękujemy za telefon. Do widzenia.",
        "main-menu": "Dział sprzedaży: prosimy nacisnąć jedynkę. Pomoc techniczna: dwójkę. "
                     "Aby połączyć się z operatorem, prosimy nacisnąć zero.",
        "invalid-option": "Niestety, nie ma takiej opcji.",
        "closed-greeting": "Dziękujemy za telefon. Obecnie nasze biuro jest nieczynne. "
                           "Zapraszamy ponownie w godzinach otwarcia.",
        "leave-a-message": "Prosimy zostawić wiadomość po sygnale.",
        "this-call-may-be-recorded": "Rozmowa może być nagrywana w celu zapewnienia "
                                     "jakości obsługi.",
        "press-9-to-decline-recording": "Jeśli nie wyrażają Państwo zgody na nagrywanie, "
                                        "prosimy nacisnąć dziewiątkę.",
    },
    "zh": {
        "you-are-caller-number": "您目前的排队序号是",
        "estimated-wait": "预计等待时间约为",
        "minute": "分钟",
        "minutes": "分钟",
        "please-hold": "请稍候，您的来电将尽快接通。",
        "agent-number": "现在由",
        "will-help-you": "号客服为您服务。",
        "press-1-for-callback": "如果您不想继续等待，需要我们回电，请按一。",
        "callback-confirm": "谢谢。客服人员空闲后将立即给您回电。",
        "thank-you-goodbye": "感谢您的来电，再见。",
        "main-menu": "销售请按一，技术支持请按二，转人工服务请按零。",
        "invalid-option": "对不起，您的输入有误。",
        "closed-greeting": "感谢您的来电。现在是非工作时间，请在工作时间再次致电。",
        "leave-a-message": "请在提示音后留言。",
        "this-call-may-be-recorded": "为了提高服务质量，您的通话可能会被录音。",
        "press-9-to-decline-recording": "如果您不同意录音，请按九。",
    },
}

# The voicemail menus' prompts (`appliance.logic.voicemail`). Each is one recorded file: the
# machines' parameters (counts, the caller of a message) are not spoken, so no text pretends to.
_VOICEMAIL: dict[str, dict[str, str]] = {
    "en": {
        "vm-default-greeting": "The person you are calling is not available. "
                               "Please leave a message after the tone. Press hash when you are done.",
        "vm-box-full": "Sorry, this mailbox is full and cannot take a message. Goodbye.",
        "vm-max-length-reached": "The maximum length of a message has been reached.",
        "vm-goodbye": "Goodbye.",
        "vm-enter-box": "Please enter your mailbox number, followed by hash.",
        "vm-enter-pin": "Please enter your PIN, followed by hash.",
        "vm-incorrect": "That is not correct.",
        "vm-locked": "This mailbox is locked after too many wrong PINs. Please try again later.",
        "vm-no-box": "There is no such mailbox.",
        "vm-main-menu": "For new messages, press 1. For old messages, press 2. "
                        "For mailbox options, press 0. To hang up, press hash.",
        "vm-no-messages": "There are no messages in this folder.",
        "vm-message-menu": "To repeat, press 5. For the previous message, press 4. For the next, press 6. "
                           "To delete, press 7. To save, press 9. For more, press 3. "
                           "For options, press 0. For the main menu, press star.",
        "vm-no-more": "There are no more messages.",
        "vm-deleted": "Message deleted.",
        "vm-saved": "Message saved.",
        "vm-advanced-menu": "To call the sender back, press 2. For the message's details, press 3. "
                            "To go back, press star.",
        "vm-envelope": "The caller and the time of this message are shown on the web page.",
        "vm-options": "To record your unavailable greeting, press 1. To record your busy greeting, "
                      "press 2. For your temporary greeting, press 4. To change your PIN, press 5. "
                      "To go back, press star.",
        "vm-temp-options": "To record a new temporary greeting, press 1. To remove it, press 2. "
                           "To go back, press star.",
        "vm-temp-removed": "Your temporary greeting has been removed.",
        "vm-record-greeting": "Record your greeting after the tone, then press hash.",
        "vm-review-greeting": "To keep this greeting, press 1. To listen to it, press 2. "
                              "To record it again, press 3. To cancel, press star.",
        "vm-greeting-saved": "Your greeting has been saved.",
        "vm-new-pin": "Please enter your new PIN, followed by hash.",
        "vm-confirm-pin": "Please enter the new PIN again, followed by hash.",
        "vm-pin-invalid": "A PIN has four to ten digits.",
        "vm-pin-mismatch": "The two PINs are not the same. Your PIN has not been changed.",
        "vm-pin-changed": "Your PIN has been changed.",
    },
    "pl": {
        "vm-default-greeting": "Osoba, do której Państwo dzwonią, jest niedostępna. "
                               "Prosimy zostawić wiadomość po sygnale i nacisnąć krzyżyk.",
        "vm-box-full": "Niestety, skrzynka głosowa jest pełna i nie można zostawić wiadomości. "
                       "Do widzenia.",
        "vm-max-length-reached": "Osiągnięto maksymalną długość wiadomości.",
        "vm-goodbye": "Do widzenia.",
        "vm-enter-box": "Wprowadź numer skrzynki i naciśnij krzyżyk.",
        "vm-enter-pin": "Wprowadź PIN i naciśnij krzyżyk.",
        "vm-incorrect": "Niepoprawne dane.",
        "vm-locked": "Skrzynka została zablokowana po zbyt wielu błędnych próbach. Spróbuj później.",
        "vm-no-box": "Nie ma takiej skrzynki.",
        "vm-main-menu": "Nowe wiadomości: jedynka. Stare wiadomości: dwójka. Ustawienia skrzynki: zero. "
                        "Aby zakończyć, naciśnij krzyżyk.",
        "vm-no-messages": "W tym folderze nie ma wiadomości.",
        "vm-message-menu": "Powtórz: piątka. Poprzednia wiadomość: czwórka. Następna: szóstka. "
                           "Usuń: siódemka. Zachowaj: dziewiątka. Więcej opcji: trójka. "
                           "Ustawienia: zero. Menu główne: gwiazdka.",
        "vm-no-more": "Nie ma więcej wiadomości.",
        "vm-deleted": "Wiadomość usunięta.",
        "vm-saved": "Wiadomość zachowana.",
        "vm-advanced-menu": "Aby oddzwonić do nadawcy, naciśnij dwójkę. Szczegóły wiadomości: trójka. "
                            "Powrót: gwiazdka.",
        "vm-envelope": "Numer dzwoniącego i godzina wiadomości są widoczne na stronie centrali.",
        "vm-options": "Nagranie powitania, gdy jesteś niedostępny: jedynka. Powitanie, gdy linia jest "
                      "zajęta: dwójka. Powitanie tymczasowe: czwórka. Zmiana PIN-u: piątka. "
                      "Powrót: gwiazdka.",
        "vm-temp-options": "Aby nagrać nowe powitanie tymczasowe, naciśnij jedynkę. Aby je usunąć, "
                           "naciśnij dwójkę. Powrót: gwiazdka.",
        "vm-temp-removed": "Powitanie tymczasowe zostało usunięte.",
        "vm-record-greeting": "Nagraj powitanie po sygnale, a potem naciśnij krzyżyk.",
        "vm-review-greeting": "Aby zachować powitanie, naciśnij jedynkę. Aby je odsłuchać, dwójkę. "
                              "Aby nagrać je ponownie, trójkę. Anuluj: gwiazdka.",
        "vm-greeting-saved": "Powitanie zostało zapisane.",
        "vm-new-pin": "Wprowadź nowy PIN i naciśnij krzyżyk.",
        "vm-confirm-pin": "Wprowadź nowy PIN jeszcze raz i naciśnij krzyżyk.",
        "vm-pin-invalid": "PIN ma od czterech do dziesięciu cyfr.",
        "vm-pin-mismatch": "Podane numery PIN się różnią. PIN nie został zmieniony.",
        "vm-pin-changed": "PIN został zmieniony.",
    },
    "zh": {
        "vm-default-greeting": "您拨打的用户暂时无法接听。请在提示音后留言，留言完毕请按井号键。",
        "vm-box-full": "对不起，该语音信箱已满，无法留言。再见。",
        "vm-max-length-reached": "留言已达到最长时间。",
        "vm-goodbye": "再见。",
        "vm-enter-box": "请输入信箱号码，并以井号键结束。",
        "vm-enter-pin": "请输入密码，并以井号键结束。",
        "vm-incorrect": "输入有误。",
        "vm-locked": "密码错误次数过多，信箱已被锁定。请稍后再试。",
        "vm-no-box": "该信箱不存在。",
        "vm-main-menu": "收听新留言请按一，收听旧留言请按二，信箱设置请按零，挂机请按井号键。",
        "vm-no-messages": "此文件夹中没有留言。",
        "vm-message-menu": "重听请按五，上一条请按四，下一条请按六，删除请按七，保存请按九，"
                           "更多选项请按三，设置请按零，返回主菜单请按星号键。",
        "vm-no-more": "没有更多留言了。",
        "vm-deleted": "留言已删除。",
        "vm-saved": "留言已保存。",
        "vm-advanced-menu": "回拨留言人请按二，留言详情请按三，返回请按星号键。",
        "vm-envelope": "留言人号码和留言时间请在网页上查看。",
        "vm-options": "录制无法接听时的问候语请按一，录制忙线时的问候语请按二，临时问候语请按四，"
                      "修改密码请按五，返回请按星号键。",
        "vm-temp-options": "重新录制临时问候语请按一，删除请按二，返回请按星号键。",
        "vm-temp-removed": "临时问候语已删除。",
        "vm-record-greeting": "请在提示音后录制问候语，完毕后请按井号键。",
        "vm-review-greeting": "保存问候语请按一，试听请按二，重新录制请按三，取消请按星号键。",
        "vm-greeting-saved": "问候语已保存。",
        "vm-new-pin": "请输入新密码，并以井号键结束。",
        "vm-confirm-pin": "请再次输入新密码，并以井号键结束。",
        "vm-pin-invalid": "密码为四到十位数字。",
        "vm-pin-mismatch": "两次输入的密码不一致，密码未修改。",
        "vm-pin-changed": "密码已修改。",
    },
}

BUILTIN_PROMPTS: dict[str, dict[str, str]] = {
    lang: _PHRASES[lang] | _VOICEMAIL[lang] | _number_prompts(lang) for lang in LANGUAGES}


# --- numbers and sentences (pure) ---------------------------------------------

def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def _num(n: int) -> str:
    return f"num-{n}"


def say_number(n: int, language: str, *, counting: bool = False) -> list[str]:
    """Prompt names that say 0 <= n <= 999.

    `counting` means a count of minutes follows: Polish then takes the
    feminine jedna/dwie (minuta is feminine), Chinese takes 两 for a lone 2
    and for two hundred.
    """
    _check_language(language)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 999:
        raise ValidationError(f"{n!r} cannot be spoken: numbers run from 0 to 999")
    if language == "en":
        return _say_en(n)
    if language == "pl":
        return _say_pl(n, counting)
    return _say_zh(n, counting)


def _say_en(n: int) -> list[str]:
    if n < 20:
        return [_num(n)]
    if n < 100:
        tens, unit = divmod(n, 10)
        return [_num(tens * 10)] + ([_num(unit)] if unit else [])
    hundreds, rest = divmod(n, 100)
    # British usage: "three hundred and five".
    return [_num(hundreds), "num-hundred"] + (["num-and"] + _say_en(rest) if rest else [])


def _say_pl(n: int, counting: bool) -> list[str]:
    if n == 0:
        return ["num-0"]
    if counting and n == 1:
        return ["num-1f"]          # jedna minuta; in compounds "jeden" never changes
    hundreds, rest = divmod(n, 100)
    out = [_num(hundreds * 100)] if hundreds else []
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        out.append(_num(tens * 10))
    else:
        unit = rest
    if unit:
        out.append("num-2f" if counting and unit == 2 else _num(unit))
    return out


def _say_zh(n: int, counting: bool) -> list[str]:
    if n < 10:
        return ["num-liang"] if counting and n == 2 else [_num(n)]
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        tens, unit = divmod(n, 10)
        # 十一, not 一十一, when the number starts with the ten.
        return ([] if tens == 1 else [_num(tens)]) + ["num-10"] + ([_num(unit)] if unit else [])
    out = ["num-liang" if counting and hundreds == 2 else _num(hundreds), "num-hundred"]
    if rest == 0:
        return out
    if rest < 10:
        return out + ["num-0", _num(rest)]       # 一百零五
    tens, unit = divmod(rest, 10)
    return out + [_num(tens), "num-10"] + ([_num(unit)] if unit else [])   # 一百一十五


def _pl_minutes(n: int) -> str:
    """minuta (1), minuty (2-4, 22-24, ... but not 12-14), minut (the rest)."""
    if n == 1:
        return "minute"
    if 2 <= n % 10 <= 4 and (n % 100) // 10 != 1:
        return "minutes"
    return "minutes-many"


def _spoken_count(value: float) -> int:
    # Queue figures are said from 1 to 999: "caller number 0" or a
    # four-digit wait would only confuse the caller.
    return min(999, max(1, math.ceil(value)))


def announce_position(position: int, language: str) -> list[str]:
    """Prompt names that tell a caller their place in the queue (1-999)."""
    _check_language(language)
    return ["you-are-caller-number", *say_number(_spoken_count(position), language)]


def announce_wait(minutes: float, language: str) -> list[str]:
    """Prompt names that tell the estimated wait, rounded up to whole minutes (1-999)."""
    _check_language(language)
    n = _spoken_count(minutes)
    if language == "en":
        unit = "minute" if n == 1 else "minutes"
    elif language == "pl":
        unit = _pl_minutes(n)
    else:
        unit = "minutes"
    return ["estimated-wait", *say_number(n, language, counting=True), unit]


def say_digits(digits: str, language: str) -> list[str]:
    """Prompt names that read a digit string one digit at a time."""
    _check_language(language)
    if not re.fullmatch(r"[0-9]{1,20}", digits or ""):
        raise ValidationError(f"{digits!r} is not a string of 1 to 20 digits")
    names = [_num(int(d)) for d in digits]
    if language == "zh":
        names = ["num-yao" if name == "num-1" else name for name in names]
    return names


def announce_agent(agent_number: str, language: str) -> list[str]:
    """Prompt names that say which agent takes the call, digit by digit."""
    return ["agent-number", *say_digits(str(agent_number), language), "will-help-you"]


# --- files ----------------------------------------------------------------

def prompt_dest(prompts_dir: Path, name: str, language: str) -> Path:
    """Where a prompt of that name and language lives; the name is checked."""
    _check_language(language)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ValidationError(f"prompt name {name!r} must be 1 to 64 of a-z, 0-9 and '-'")
    return Path(prompts_dir) / language / f"{name}.wav"


def prompt_path(prompts_dir: Path, name: str, language: str,
                fallback: str | None = "en") -> Path | None:
    """The prompt's file in `language`, else in `fallback`, else None."""
    for lang in dict.fromkeys(x for x in (language, fallback) if x):
        path = prompt_dest(prompts_dir, name, lang)
        if path.is_file():
            return path
    return None


def _source_of(path: Path) -> PromptSource:
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return PromptSource(meta["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return PromptSource.UPLOAD     # a file put there by hand


def _info(path: Path, source: PromptSource | None = None) -> PromptInfo:
    with wave.open(str(path), "rb") as w:
        rate, frames = w.getframerate(), w.getnframes()
    return PromptInfo(name=path.stem, language=path.parent.name, path=path,
                      seconds=round(frames / rate, 3) if rate else 0.0, rate=rate,
                      source=source if source is not None else _source_of(path))


def list_prompts(prompts_dir: Path) -> list[PromptInfo]:
    """Every readable prompt, by language then name."""
    found = []
    for language in LANGUAGES:
        folder = Path(prompts_dir) / language
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.wav")):
            if not NAME_RE.fullmatch(path.stem):
                continue
            try:
                found.append(_info(path))
            except (OSError, EOFError, wave.Error) as e:
                log.warning("prompt %s is unreadable, skipped: %s", path, e)
    return found


def _check_dest(dest: Path) -> tuple[str, str]:
    dest = Path(dest)
    if dest.suffix != ".wav" or not NAME_RE.fullmatch(dest.stem):
        raise ValidationError(f"prompt file {dest.name!r} must be <name>.wav with a name of "
                              "1 to 64 of a-z, 0-9 and '-'")
    return dest.stem, dest.parent.name


def _commit(dest: Path, pcm_wav: bytes, source: PromptSource, text: str | None = None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dest, pcm_wav)
    meta: dict[str, Any] = {"source": str(source)}
    if text is not None:
        meta["text"] = text
    atomic_write_bytes(dest.with_suffix(".json"), encode_json(meta))


def _run(cmd: list[str], *, timeout: float, stdin: bytes | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    """Run an audio tool; a missing tool is AudioToolError, a timeout is re-raised."""
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout,
                              check=False)
    except FileNotFoundError as e:
        raise AudioToolError(f"{cmd[0]} is not installed (tools/install-system-deps.sh "
                             "installs it)") from e


@cache
def _espeak_voices() -> frozenset[str]:
    proc = _run(["espeak-ng", "--voices"], timeout=TTS_TIMEOUT_S)
    return frozenset(line.split()[1] for line in proc.stdout.decode(errors="replace")
                     .splitlines()[1:] if len(line.split()) > 1)


def voice_for(language: str) -> str:
    """The espeak-ng voice that speaks `language` on this box."""
    _check_language(language)
    voices = _espeak_voices()
    for voice in VOICES[language]:
        if voice in voices:
            return voice
    raise AudioToolError(f"espeak-ng has no voice for {language} (tried "
                         f"{', '.join(VOICES[language])})")


@cache
def sox_formats() -> frozenset[str]:
    """File types this sox can read (the list `sox -h` prints)."""
    proc = _run(["sox", "-h"], timeout=SOX_TIMEOUT_S)
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.startswith("AUDIO FILE FORMATS:"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


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
        speech = _run(["espeak-ng", "-v", voice, "-s", str(SPEED_WPM), "-b", "1", "--stdout"],
                      stdin=text.encode("utf-8"), timeout=TTS_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise AudioToolError(f"espeak-ng did not finish within {TTS_TIMEOUT_S:.0f} s") from e
    if speech.returncode != 0 or not speech.stdout:
        raise AudioToolError(f"espeak-ng failed: {_tool_message(speech.stderr)}")
    with tempfile.TemporaryDirectory(prefix="callbox-tts-") as work:
        out = Path(work) / "prompt.wav"
        # Trimmed so that prompts played one after another ("caller number",
        # "twenty", "one") follow each other closely; a short pad keeps words apart.
        cmd = ["sox", "--no-glob", "-D", "-V1", "-t", "wav", "-", *_OUT, str(out),
               "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%",
               "reverse", "remix", "-", "rate", str(RATE), "norm", "-3", "pad", "0.03", "0.08"]
        try:
            proc = _run(cmd, stdin=speech.stdout, timeout=SOX_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise AudioToolError(f"sox did not finish within {SOX_TIMEOUT_S:.0f} s") from e
        if proc.returncode != 0 or not out.exists():
            raise AudioToolError(f"sox failed on speech: {_tool_message(proc.stderr)}")
        return out.read_bytes()


def _tool_message(stderr: bytes, path: Path | None = None) -> str:
    text = stderr.decode(errors="replace")
    if path is not None:
        text = text.replace(str(path), "the file")
    lines = [ln.removeprefix("sox FAIL ").removeprefix("sox WARN ").strip()
             for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[-2:]) or "no reason given"


def _pcm_stats(wav_bytes: bytes) -> tuple[int, int, int]:
    """(frames, rate, peak) of an engine-format WAV; anything else raises ValidationError."""
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
                raise ValidationError("conversion did not give 8 kHz 16-bit mono audio")
            frames = w.getnframes()
            samples = array.array("h", w.readframes(frames))
    except (wave.Error, EOFError) as e:
        raise ValidationError(f"converted audio is unreadable: {e}") from e
    if sys.byteorder == "big":
        samples.byteswap()
    peak = max(max(samples, default=0), -min(samples, default=0))
    return frames, RATE, peak


def synthesize(text: str, language: str, dest: Path) -> PromptInfo:
    """Speak `text` in `language` and write it to `dest` (…/<language>/<name>.wav)."""
    return _synthesize(text, language, Path(dest), PromptSource.TTS)


def _synthesize(text: str, language: str, dest: Path, source: PromptSource) -> PromptInfo:
    spoken = _check_text(text)
    _check_language(language)
    name, _ = _check_dest(dest)
    wav_bytes = _speak(spoken, language)
    frames, rate, peak = _pcm_stats(wav_bytes)
    if frames == 0 or peak == 0:
        raise ValidationError("the text gives no speech (nothing espeak-ng can pronounce)")
    _commit(dest, wav_bytes, source, text=text)
    return PromptInfo(name=name, language=language, path=dest,
                      seconds=round(frames / rate, 3), rate=rate, source=source)


# --- uploads ----------------------------------------------------------------

_FORMAT_NAMES = {"wav": "WAV", "flac": "FLAC", "ogg": "Ogg Vorbis", "aiff": "AIFF",
                 "au": "Sun AU", "mp3": "MP3"}


def _sniff(data: bytes) -> str:
    """The sox file type named by the data's first bytes, never by a file name."""
    head = data[:12]
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b".snd":
        return "au"
    # MPEG audio: an ID3 tag, or a frame sync whose layer bits are not "reserved".
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                              and (head[1] >> 1) & 3):
        return "mp3"
    try:
        sample = data[:4096].decode("utf-8")
        if sum(c.isprintable() or c in "\r\n\t" for c in sample) > 0.95 * len(sample):
            raise ValidationError("this is a text file, not audio")
    except UnicodeDecodeError:
        pass
    raise ValidationError("not an audio file: expected " + ", ".join(_FORMAT_NAMES.values()))


def _check_wav(data: bytes, max_seconds: float) -> None:
    """Catch a truncated or over-long WAV from its header, before decoding it."""
    endian = "<" if data[:4] == b"RIFF" else ">"
    pos, byte_rate = 12, None
    while pos + 8 <= len(data):
        chunk = data[pos:pos + 4]
        (size,) = struct.unpack(endian + "I", data[pos + 4:pos + 8])
        body = pos + 8
        available = len(data) - body
        if chunk == b"fmt ":
            if size < 16 or available < 16:
                raise ValidationError("the WAV file is broken: its format header is incomplete")
            channels, rate, byte_rate = struct.unpack(endian + "HII", data[body + 2:body + 12])
            if not channels or not rate or not byte_rate:
                raise ValidationError("the WAV file is broken: its format header has zeros")
        elif chunk == b"data":
            if byte_rate is None:
                raise ValidationError("the WAV file is broken: audio comes before its format")
            if size in (0, 0xFFFFFFFF):
                size = available          # written by a streaming recorder
            elif size > available:
                raise ValidationError(f"the WAV file is truncated: its header announces "
                                      f"{size} bytes of audio, only {available} are there")
            seconds = size / byte_rate
            if seconds > max_seconds:
                raise ValidationError(f"the audio is {seconds:.1f} s long; the limit is "
                                      f"{max_seconds:g} s")
            return
        elif size > available:
            break
        pos = body + size + (size & 1)
    raise ValidationError("the WAV file is truncated or broken: it has no audio data")


def convert_upload(data: bytes, dest: Path, *, max_seconds: float = 600) -> PromptInfo:
    """Convert uploaded audio to the engine's format and write it to `dest`.

    Any failure raises ValidationError naming the problem, and leaves `dest`
    as it was.
    """
    dest = Path(dest)
    name, language = _check_dest(dest)
    if not max_seconds > 0:
        raise ValidationError(f"max_seconds must be positive, not {max_seconds!r}")
    if not data:
        raise ValidationError("the file is empty")
    kind = _sniff(data)
    if kind == "wav":
        _check_wav(data, max_seconds)
    if kind not in sox_formats():
        raise ValidationError(f"{_FORMAT_NAMES[kind]} files cannot be read on this box "
                              f"(its sox lacks the {kind} format"
                              + ("; install libsox-fmt-mp3)" if kind == "mp3" else ")"))
    with tempfile.TemporaryDirectory(prefix="callbox-upload-") as work:
        src = Path(work) / f"upload.{kind}"
        src.write_bytes(data)
        out = Path(work) / "prompt.wav"
        # The trim runs first so that an endless stream stops just past the
        # limit rather than being decoded (and normalised) in full.
        # No dither (-D): it would turn a silent upload into faint noise.
        cmd = ["sox", "--no-glob", "-D", "-V2", "-t", kind, str(src), *_OUT, str(out),
               "trim", "0", f"{max_seconds + 0.5:.3f}", "remix", "-", "rate", str(RATE),
               "norm", "-3"]
        try:
            proc = _run(cmd, timeout=SOX_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise ValidationError(f"the file could not be decoded within "
                                  f"{SOX_TIMEOUT_S:.0f} s") from e
        if proc.returncode != 0 or not out.exists():
            raise ValidationError(f"the {_FORMAT_NAMES[kind]} file cannot be decoded: "
                                  f"{_tool_message(proc.stderr, src)}")
        if b"Premature EOF" in proc.stderr:
            raise ValidationError(f"the {_FORMAT_NAMES[kind]} file is truncated")
        wav_bytes = out.read_bytes()
    frames, rate, peak = _pcm_stats(wav_bytes)
    seconds = frames / rate
    if frames == 0:
        raise ValidationError("the file contains no audio")
    if seconds > max_seconds:
        raise ValidationError(f"the audio is longer than the limit of {max_seconds:g} s")
    if peak == 0:
        raise ValidationError("the audio is silent")
    _commit(dest, wav_bytes, PromptSource.UPLOAD)
    return PromptInfo(name=name, language=language, path=dest, seconds=round(seconds, 3),
                      rate=rate, source=PromptSource.UPLOAD)


# --- the built-in set, made at first start --------------------------------------

def ensure_builtin_prompts(prompts_dir: Path, languages: tuple[str, ...] = LANGUAGES
                           ) -> list[PromptInfo]:
    """Speak every missing built-in prompt; the built-in prompts that exist afterwards.

    Files that exist are left alone (an admin may have replaced one with a
    recording). Without espeak-ng or sox this logs a warning and makes nothing.
    """
    prompts_dir = Path(prompts_dir)
    for language in languages:
        _check_language(language)
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
                found.append(_info(path))
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
