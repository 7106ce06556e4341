"""The page in English, Polish and Chinese: catalogues, choosing a language, and a check
that renders every page in pl and zh and finds any text that skipped the catalogue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bottle
import pytest

from tests.web import page_walk as pw
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient
from web import kit
from web.kit import Translator, catalogue, negotiate, plural_form, set_marking
from web.messages import source_messages

WEB = Path(kit.__file__).resolve().parent


@pytest.fixture
def marked():
    set_marking(True)
    yield
    set_marking(False)


# -- the catalogues -----------------------------------------------------------------------

def test_every_message_in_the_source_has_a_polish_and_a_chinese_translation():
    messages = source_messages()
    assert len(messages) > 500
    for lang in ("pl", "zh"):
        missing = sorted(m for m in messages if m not in catalogue(lang))
        assert not missing, f"{lang}: {missing[:10]}"


def test_both_catalogues_have_the_same_keys_and_keep_every_field():
    pl, zh = catalogue("pl"), catalogue("zh")
    assert set(pl) == set(zh)
    for key in pl:
        fields = set(re.findall(r"\{(\w+)\}", key if isinstance(key, str) else key[1]))
        for lang, value in (("pl", pl[key]), ("zh", zh[key])):
            forms = value if isinstance(value, tuple) else [value]
            assert all(form.strip() for form in forms), (lang, key)
            if isinstance(key, tuple):
                assert len(forms) == (3 if lang == "pl" else 1), (lang, key)
            if not str(key).startswith(("Closed periods", "Open intervals")):  # JSON examples
                assert all(set(re.findall(r"\{(\w+)\}", f)) == fields for f in forms), (lang, key)


def test_polish_uses_its_own_letters_and_chinese_its_own_script():
    pl, zh = catalogue("pl"), catalogue("zh")
    assert re.search("[ąćęłńóśźż]", pl["Delete this message?"] + pl["Messages"] + pl["Service level"])
    assert all(re.search("[\u4e00-\u9fff]", zh[k]) for k in ("Dashboard", "Reports", "Voicemail"))


def test_polish_plurals_follow_the_one_few_many_rule():
    assert [plural_form("pl", n) for n in (1, 2, 4, 5, 12, 14, 21, 22, 25, 112)] == \
        [0, 1, 1, 2, 2, 2, 2, 1, 2, 2]
    t = Translator("pl")
    assert [t.ngettext("{n} new message", "{n} new messages", n) for n in (1, 3, 5, 22)] == \
        ["1 nowa wiadomość", "3 nowe wiadomości", "5 nowych wiadomości", "22 nowe wiadomości"]
    assert Translator("zh").ngettext("{n} call", "{n} calls", 3) == "3 通电话"


def test_numbers_dates_and_percentages_follow_the_language():
    pl, zh, en = Translator("pl"), Translator("zh"), Translator("en")
    assert pl.number(1234.5) == "1\u00a0234,5" and en.number(1234.5) == "1,234.5"
    assert pl.percent(0.853) == "85,3%" and zh.percent(0.853) == "85.3%"
    assert pl.date("2026-10-31") == "31 października 2026"
    assert zh.date("2026-10-31") == "2026年10月31日" and en.date("2026-10-31") == "October 31, 2026"


def test_accept_language_picks_the_first_language_we_speak():
    assert negotiate("de-DE,de;q=0.9,pl;q=0.8,en;q=0.5") == "pl"
    assert negotiate("zh-CN,zh;q=0.9") == "zh"
    assert negotiate("fr, en;q=0.1, pl;q=0.2") == "pl"
    assert negotiate("pl;q=0, en") == "en"
    assert negotiate("") == negotiate(None) == negotiate("fr") == "en"


# -- choosing a language ------------------------------------------------------------------

def test_the_login_page_follows_the_browsers_language(app, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    page = WsgiClient(app).get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert '<html lang="zh-Hans">' in page and "<h1>登录</h1>" in page
    page = WsgiClient(app).get("/login", headers={"Accept-Language": "pl-PL"}).text
    assert "<h1>Zaloguj się</h1>" in page


def test_a_user_changes_their_language_and_keeps_it_at_the_next_login(app, fake_api, admin):
    assert admin.post("/language", {"language": "pl", "next": "/"}).status == 403  # CSRF
    reply = admin.submit("/", "/language", {"language": "pl", "next": "/extensions"})
    assert reply.status == 303 and reply.location == "/extensions"
    assert fake_api.users["boss"]["language"] == "pl"
    page = admin.get("/extensions").text
    assert '<html lang="pl">' in page and "<h1>Numery wewnętrzne</h1>" in page
    assert '<option value="pl" lang="pl" selected>Polski</option>' in page
    # Another browser, another Accept-Language: the user's own choice wins after login.
    other = WsgiClient(app, remote_addr="127.0.0.77")
    log_in(other, "boss", ADMIN_PASSWORD)
    assert "<h1>Pulpit</h1>" in other.get("/", headers={"Accept-Language": "zh"}).text


def test_an_unknown_language_is_refused(admin, fake_api):
    reply = admin.submit("/", "/language", {"language": "xx", "next": "/"})
    assert reply.status == 400 and "language" not in fake_api.users["boss"]


def test_the_language_menu_stays_on_the_page_and_never_leaves_the_site(admin):
    page = admin.get("/calls?number=1001").text
    assert 'name="next" value="/calls?number=1001"' in page
    reply = admin.submit("/", "/language", {"language": "zh", "next": "https://example.com/"})
    assert reply.location == "/"


def test_the_scripts_messages_come_in_the_pages_language(admin):
    admin.submit("/", "/language", {"language": "zh", "next": "/"})
    block = re.search(r'<script type="application/json" id="messages">(.*?)</script>', admin.get("/now").text)
    messages = json.loads(block.group(1))
    assert messages["Live: connected."] == "实时：已连接。"


def test_reports_show_polish_numbers_and_dates(admin):
    admin.submit("/", "/language", {"language": "pl", "next": "/"})
    page = admin.get("/reports?from=2026-11-16&to=2026-11-22").text
    assert "16 listopada 2026" in page and "78,8%" in page


# -- nothing untranslated -----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["pl", "zh"])
def test_every_page_is_fully_translated(app, fake_api, marked, lang):
    pw.furnish(fake_api)
    found = {}
    statuses = set()
    for label, reply in pw.walk(app, fake_api, lang):
        statuses.add(reply.status)
        assert reply.status < 500, label
        for piece in pw.untranslated(reply.text, pw.data_words(fake_api)):
            found.setdefault(piece, label)
    assert {200, 400, 403, 404} <= statuses  # pages, refused forms, a forbidden box, a missing page
    assert not found, "\n".join(f"{label}: {piece}" for piece, label in found.items())


def test_the_first_run_page_is_translated(app, fake_api, marked):
    page = WsgiClient(app).get("/setup", headers={"Accept-Language": "pl"}).text
    assert "Witaj w Callbox" in page
    assert not pw.untranslated(page, pw.data_words(fake_api))


def test_the_check_catches_a_hard_coded_string(app, fake_api, marked, tmp_path, monkeypatch):
    """A template with one English sentence written straight into it fails the check."""
    original = (WEB / "templates" / "dashboard.tpl").read_text()
    (tmp_path / "dashboard.tpl").write_text(original.replace(
        "<h1>{{_('Dashboard')}}</h1>", "<h1>{{_('Dashboard')}}</h1>\n<p>Calls are flowing nicely</p>"))
    monkeypatch.setattr("web.kit.TEMPLATES", [str(tmp_path)] + i18n_templates())
    bottle.TEMPLATES.clear()
    try:
        client = pw.log_in_as(app, fake_api, "boss", "admin", "127.0.0.21")
        pw.choose_language(client, "pl")
        page = client.get("/").text
    finally:
        bottle.TEMPLATES.clear()
    assert "<h1>\ue000Pulpit\ue001</h1>" in page
    assert pw.untranslated(page, pw.data_words(fake_api)) == ["Calls are flowing nicely"]


def test_the_check_catches_a_message_missing_from_the_catalogue(app, fake_api, marked, monkeypatch):
    table = dict(catalogue("zh"))
    del table["Calls today"]
    monkeypatch.setattr("web.i18n.catalogue", lambda lang: table if lang == "zh" else {})
    client = pw.log_in_as(app, fake_api, "boss", "admin", "127.0.0.22")
    pw.choose_language(client, "zh")
    assert pw.untranslated(client.get("/").text, pw.data_words(fake_api)) == ["Calls today"]


def i18n_templates() -> list[str]:
    return [str(WEB / "templates")]
