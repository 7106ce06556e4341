"""Locale data from CLDR through Babel: plural forms, dates and times, country and zone names,
and the gettext catalogues translators edit (web/locale/<lang>.po)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from web import messages
from web.kit import (Translator, country_names, fmt_time, plural_categories, plural_form,
                     reload_catalogues, translate_alarm, translate_message, zone_choices,
                     zone_options)

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 11, 10, 13, 5, 9, tzinfo=timezone.utc)  # 14:05:09 in Warsaw, 21:05:09 in Shanghai


# -- plurals ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, form, text", [
    (1, 0, "1 połączenie"), (2, 1, "2 połączenia"), (5, 2, "5 połączeń"),
    (22, 1, "22 połączenia"), (25, 2, "25 połączeń"), (12, 2, "12 połączeń"), (0, 2, "0 połączeń"),
])
def test_polish_counts_take_cldrs_one_few_many(n, form, text):
    assert plural_form("pl", n, 3) == form
    assert Translator("pl").ngettext("{n} call", "{n} calls", n) == text


def test_each_language_has_cldrs_categories_in_cldrs_order():
    assert plural_categories("pl") == ("one", "few", "many", "other")
    assert plural_categories("en") == ("one", "other")
    assert plural_categories("zh") == ("other",)
    assert [plural_form("en", n, 2) for n in (0, 1, 2)] == [1, 0, 1]
    assert Translator("zh").ngettext("{n} call", "{n} calls", 1) == "1 通电话"


def test_the_po_plural_rule_and_cldrs_rule_agree_for_every_count():
    # The catalogue's header (what gettext tools use) and Babel's CLDR rule pick the same form.
    for lang in ("pl", "zh"):
        catalog = messages.read(lang)
        for n in range(0, 1001):
            assert _c_ternary(catalog.plural_expr, n) == plural_form(lang, n, catalog.num_plurals), (lang, n)


def _c_ternary(rule: str, n: int) -> int:
    """A gettext Plural-Forms expression (C syntax) evaluated as gettext does."""
    expr = _python(rule.strip().rstrip(";")).replace("&&", " and ").replace("||", " or ")
    return int(eval(expr, {}, {"n": n}))  # noqa: S307 - our own header, in a test


def _python(expr: str) -> str:
    # "a ? b : c ? d : e" -> "((b) if (a) else (...))": C's ternary is right-associative.
    if "?" not in expr:
        return expr
    q = expr.index("?")
    c = _matching_colon(expr, q)
    return f"(({_python(expr[q + 1:c])}) if ({expr[:q]}) else ({_python(expr[c + 1:])}))"


def _matching_colon(expr: str, q: int) -> int:
    depth = 0
    for i in range(q + 1, len(expr)):
        if expr[i] == "?":
            depth += 1
        elif expr[i] == ":":
            if depth == 0:
                return i
            depth -= 1
    raise ValueError(expr)


def test_a_count_in_a_checks_sentence_takes_the_right_form():
    pl = Translator("pl")
    assert translate_message("the password must have at least 10 characters", pl) == \
        "hasło musi mieć co najmniej 10 znaków"
    assert translate_message("name: at most 2 characters", pl) == "nazwa: najwyżej 2 znaki"
    assert translate_message("name: at most 22 characters", pl) == "nazwa: najwyżej 22 znaki"
    assert translate_alarm(pl, "Engine worker w1 is down (restarted 1 time).") == \
        "Proces silnika w1 nie działa (restartowany 1 raz)."
    assert pl.ngettext("At least {n} character.", "At least {n} characters.", 3) == "Co najmniej 3 znaki."


# -- dates, times, numbers ----------------------------------------------------------------

@pytest.mark.parametrize("lang, tz, long, short, clock", [
    ("pl", "Europe/Warsaw", "10 listopada 2026 14:05", "10 lis 2026, 14:05:09", "14:05:09"),
    ("zh", "Asia/Shanghai", "2026年11月10日 21:05", "2026年11月10日 21:05:09", "21:05:09"),
    ("en", "Europe/Warsaw", "November 10, 2026, 14:05", "Nov 10, 2026, 14:05:09", "14:05:09"),
])
def test_moments_in_the_pages_language_on_the_box_clock(lang, tz, long, short, clock):
    t = Translator(lang, tz)
    assert t.datetime(MOMENT.timestamp()) == long
    assert t.datetime(MOMENT.isoformat(), short=True) == short
    assert t.time(MOMENT) == clock and "M" not in t.time(MOMENT)  # 24-hour: no AM/PM
    assert fmt_time(MOMENT.isoformat(), tz, lang) == short


def test_numbers_and_months_follow_cldr():
    assert Translator("pl").number(1234567.5) == "1\u00a0234\u00a0567,5"
    assert Translator("zh").number(1234567.5) == "1,234,567.5"
    assert Translator("pl").month(2026, 2) == "luty 2026" and Translator("zh").month(2026, 2) == "2026年2月"


# -- countries and zones ------------------------------------------------------------------

def test_country_names_come_from_cldr_in_the_readers_language():
    assert country_names("pl")["PL"] == "Polska"
    assert country_names("zh")["CN"] == "中国"
    assert country_names("en")["CN"] == "China"
    labels_pl = [label for _, label in zone_options("pl")]
    labels_zh = [label for _, label in zone_options("zh")]
    assert "Polska" in labels_pl and "中国 — 上海 (Asia/Shanghai)" in labels_zh
    assert "Chiny — Urumczi (Asia/Urumqi)" in labels_pl
    # Polish order: Łotwa among the L's, not after Z.
    assert labels_pl.index("Łotwa") < labels_pl.index("Madagaskar")


def test_zones_by_country_without_the_tz_tables(monkeypatch):
    monkeypatch.setattr("web.timezones._tab", lambda name: None)
    zone_choices.cache_clear()
    try:
        zones = {c.zone: c.country for c in zone_choices()}
        assert zones["Europe/Warsaw"] == "PL" and zones["Asia/Shanghai"] == "CN"
    finally:
        zone_choices.cache_clear()


# -- the catalogues -----------------------------------------------------------------------

@pytest.mark.parametrize("lang, forms", [("pl", 3), ("zh", 1)])
def test_the_po_files_parse_with_the_languages_plural_forms(lang, forms):
    catalog = messages.read(lang)
    assert catalog.num_plurals == forms == get_plural(lang).num_plurals
    assert str(catalog.locale) == lang and len(catalog) > 1000
    plurals = [m for m in catalog if m.id and isinstance(m.id, tuple)]
    assert plurals and all(len(m.string) == forms for m in plurals)
    assert get_plural("en").num_plurals == 2  # the source: msgid and msgid_plural


@pytest.mark.parametrize("lang", ["pl", "zh"])
def test_the_po_files_round_trip(lang):
    raw = messages.path_of(lang).read_bytes()
    catalog = read_po(io.BytesIO(raw), locale=lang)
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    again = read_po(io.BytesIO(out.getvalue()), locale=lang)
    assert [(m.id, m.string) for m in again] == [(m.id, m.string) for m in catalog]
    assert b"msgid_plural" in raw and b"msgstr[0]" in raw


def test_an_untranslated_message_is_added_empty_and_shows_in_english(tmp_path, monkeypatch):
    for lang in ("pl", "zh"):
        (tmp_path / f"{lang}.po").write_bytes(messages.path_of(lang).read_bytes())
    monkeypatch.setattr("web.i18n.LOCALE_DIR", tmp_path)
    monkeypatch.setattr(messages, "source_messages",
                        lambda: {"Calls today", "A brand new sentence.", ("{n} new thing", "{n} new things")})
    reload_catalogues()
    try:
        missing = messages.update()
        assert set(missing["pl"]) == {"A brand new sentence.", ("{n} new thing", "{n} new things")}
        text = (tmp_path / "pl.po").read_text(encoding="utf-8")
        assert 'msgid "A brand new sentence."\nmsgstr ""' in text
        assert 'msgstr[2] ""' in text and "EMAIL@ADDRESS" not in text
        assert Translator("pl").gettext("A brand new sentence.") == "A brand new sentence."
        assert Translator("pl").gettext("Calls today") != "Calls today"
    finally:
        reload_catalogues()


# -- the dashboard's live events ----------------------------------------------------------

def _words(page: str, element_id: str) -> dict:
    block = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


def test_the_dashboard_hands_its_feed_the_words_of_the_pages_language(admin):
    admin.submit("/", "/language", {"language": "pl", "next": "/"})
    words = _words(admin.get("/").text, "event-words")
    assert words["call_record"] == "Połączenie od {caller} do {callee}: {outcome}."
    assert words["extension_created"] == "Dodano numer wewnętrzny {number}."


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_feed_tells_events_in_words_not_codes(admin):
    admin.submit("/", "/language", {"language": "pl", "next": "/"})
    words = _words(admin.get("/").text, "event-words")
    events = [("call_record", {"caller": "601234567", "callee": "1001", "disposition": "NO ANSWER"}),
              ("agent", {"extension": "1001", "status": "AVAILABLE", "state": "TALKING"}),
              ("queue", {"event": "ENTERED", "queue": "sales", "number": "601234567"}),
              ("extension", {"action": "created", "number": "1004"}),
              ("unban", {"ip": "192.0.2.7", "by": "api"}),
              ("settings", {"changed": ["box.name"]})]
    script = """
    global.document = { documentElement: { getAttribute: function () { return "pl"; } },
                        body: { getAttribute: function () { return "Europe/Warsaw"; } },
                        getElementById: function () { return null; }, addEventListener: function () {} };
    global.window = {};
    eval(require("fs").readFileSync(APP, "utf8") + "; global.tellEvent = tellEvent;");
    process.stdout.write(JSON.stringify(EVENTS.map(function (e) { return tellEvent(WORDS, e[0], e[1]); })));
    """.replace("APP", json.dumps(str(ROOT / "web" / "static" / "app.js"))).replace(
        "WORDS", json.dumps(words)).replace("EVENTS", json.dumps(events))
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        "Połączenie od 601234567 do 1001: nieodebrane.",
        f"Konsultant 1001: {words['TALKING']}.",
        "Dzwoniący (601234567) czeka w kolejce sales.",
        "Dodano numer wewnętrzny 1004.",
        "192.0.2.7 może znów się rejestrować.",
        "",  # an event the words do not tell is left out, never shown as a code
    ]
