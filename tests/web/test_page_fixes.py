"""Small things an owner trips over: the prompts page, words that stayed English."""

from __future__ import annotations

from web.kit import Translator, panel_reason, translate_blocks


def test_the_prompts_page_puts_the_forms_and_their_errors_above_a_compact_list(admin, fake_api):
    reply = admin.submit("/prompts", "/prompts/speak", {"name": "Bad Name", "language": "pl", "text": ""})
    assert reply.status == 400
    page = reply.text
    error = page.index("Use 1 to 64 lowercase letters")
    assert error < page.index('id="h-prompt-list"')  # next to the form, not after every prompt
    assert page.index('action="/prompts/speak"') < page.index('id="h-prompt-list"')


def test_engine_workers_up_reads_in_the_readers_language():
    blocks = translate_blocks({"summary": {"workers": "3 of 3", "active": "2"}}, Translator("pl"))
    assert blocks["summary"] == {"workers": "3 z 3", "active": "2"}


def test_the_panels_backend_reason_is_polish_on_a_polish_page():
    t = Translator("pl")
    said = panel_reason(t, "no panel hardware: RPi.GPIO is not installed (No module named 'RPi')")
    assert said == "brak sprzętu panelu: RPi.GPIO nie jest zainstalowany (No module named 'RPi')"
    assert panel_reason(t, "asked for the simulated panel") == "wybrano panel symulowany"
    assert panel_reason(Translator("en"), "something new") == "something new"
