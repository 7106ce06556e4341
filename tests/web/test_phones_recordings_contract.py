"""Phones, recordings and contract pages through the WSGI app, against the fake control API."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.web import fake_phones
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient
from web.kit import ContractForm, credentials_url, default_month, display_mac, sanitise_report


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{60 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


@pytest.fixture
def furnished(fake_api):
    for n, name in (("1001", "Ola Nowak"), ("1002", "Jan Kowalski")):
        fake_api.extensions[n] = {"number": n, "name": name, "secret": "s3cretSecret12",
                                  "class_of_service": "national", "voicemail": True}
    fake_phones.add_pending(fake_api, "00:15:65:AB:CD:EF")
    fake_phones.add_recording(fake_api, "c-1", agent="1001")
    fake_phones.add_recording(fake_api, "c-2", caller="+48222333444", agent="1002")
    return fake_api


def _actions(fake_api, action: str) -> list[dict]:
    return [a for a in fake_api.audit if a["action"] == action]


# -- phones -------------------------------------------------------------------------------

def test_phones_page_shows_the_url_the_pending_phone_and_the_fetch_log(admin, furnished):
    page = admin.get("/phones")
    assert page.status == 200
    assert '<code id="provisioning-url">http://127.0.0.1:8088/p/</code>' in page.text
    assert "00:15:65:AB:CD:EF" in page.text and 'action="/phones/001565abcdef/approve"' in page.text
    assert "option 66" in page.text
    assert "unknown phone, now waiting" in page.text  # the fetch log's outcome in words


def test_approving_a_pending_phone_binds_it_and_shows_its_password_once(admin, furnished):
    reply = admin.submit("/phones", "/phones/001565abcdef/approve", {"extension": "1002"})
    assert reply.status == 200, reply.text
    binding = furnished.phone_bindings["001565abcdef"]
    assert binding["extension"] == "1002" and binding["vendor"] == "yealink"  # as the core saw it
    shown = re.search(r'id="phone-password">([^<]+)<', reply.text).group(1)
    assert shown == binding["password"]
    assert f"http://001565abcdef:{shown}@127.0.0.1:8088/p/" in reply.text
    # The request asked the core to approve: no vendor sent.
    assert "001565abcdef" not in furnished.pending_phones
    listing = admin.get("/phones").text
    assert binding["password"] not in listing and "/phones/001565abcdef/files" in listing
    entry = _actions(furnished, "phone_bound")[0]
    assert entry["actor"] == "boss" and "1002" in entry["detail"]
    assert binding["password"] not in str(furnished.audit)


def test_binding_by_hand_checks_the_fields_and_keeps_the_input(admin, furnished):
    reply = admin.submit("/phones", "/phones", {"mac": "00:15:65:12:34:56", "extension": "1001",
                                                "vendor": ""})
    assert reply.status == 400 and 'value="00:15:65:12:34:56"' in reply.text
    assert not furnished.phone_bindings
    reply = admin.submit("/phones", "/phones", {"mac": "zz", "extension": "1001", "vendor": "snom"})
    assert reply.status == 400 and "12 hexadecimal digits" in reply.text  # the core's reason
    reply = admin.submit("/phones", "/phones", {"mac": "0015.6512.3456", "extension": "1001",
                                                "vendor": "snom", "model": "D785"})
    assert reply.status == 200
    assert furnished.phone_bindings["001565123456"]["vendor"] == "snom"


def test_unbind_and_file_preview(admin, furnished):
    admin.submit("/phones", "/phones", {"mac": "001565123456", "extension": "1001", "vendor": "yealink"})
    preview = admin.get("/phones/001565123456/files")
    assert preview.status == 200 and "account.1.user_name = 1001" in preview.text
    assert admin.post("/phones/001565123456/delete").status == 403  # no CSRF token
    assert "001565123456" in furnished.phone_bindings
    reply = admin.submit("/phones", "/phones/001565123456/delete", {})
    assert reply.status == 303 and "001565123456" not in furnished.phone_bindings
    assert _actions(furnished, "phone_unbound")[0]["detail"] == "001565123456"
    assert admin.get("/phones/not-a-mac!/files").status == 404


def test_phone_forms_need_the_csrf_token_and_the_admin(app, admin, furnished):
    assert admin.post("/phones/001565abcdef/approve", {"extension": "1001"}).status == 403
    assert admin.post("/phones", {"mac": "001565123456", "extension": "1001", "vendor": "snom"}).status == 403
    assert not furnished.phone_bindings
    supervisor = _as(app, furnished, "lead", "supervisor")
    assert supervisor.get("/phones").status == 403
    assert supervisor.submit("/", "/phones/001565abcdef/approve", {"extension": "1001"}).status == 403
    assert not furnished.phone_bindings


def test_phones_page_says_when_provisioning_is_off(admin, furnished):
    furnished.provisioning_on = False
    page = admin.get("/phones")
    assert page.status == 200 and "provisioning.enabled" in page.text


def test_mac_and_url_helpers():
    assert display_mac("001565abcdef") == "00:15:65:AB:CD:EF"
    assert credentials_url("http://box:8088/p/", "001565abcdef", "a/b") == "http://001565abcdef:a%2Fb@box:8088/p/"


# -- recordings ---------------------------------------------------------------------------

def test_recordings_list_filters_and_has_a_player_per_call(app, furnished):
    lead = _as(app, furnished, "lead", "supervisor")
    page = lead.get("/recordings")
    assert page.status == 200
    assert page.text.count("<audio controls") == 2 and 'src="/recordings/c-1.wav"' in page.text
    page = lead.get("/recordings?agent=1002&from=2026-11-01&to=2026-11-30")
    assert page.status == 200 and 'src="/recordings/c-2.wav"' in page.text and "c-1.wav" not in page.text
    asked = [p for m, p in furnished.requests if p == "/api/recordings"]
    assert asked
    assert lead.get("/recordings?from=yesterday").status == 400
    assert lead.get("/recordings?agent=<x>").status == 400


def test_listening_and_downloading_go_through_the_web_process_and_are_audited(app, furnished):
    lead = _as(app, furnished, "lead", "supervisor")
    reply = lead.get("/recordings/c-1.wav")
    assert reply.status == 200 and reply.header("Content-Type") == "audio/wav"
    assert reply.header("Content-Disposition") is None
    assert _actions(furnished, "recording_listened")[0]["actor"] == "lead"
    reply = lead.get("/recordings/c-2.wav?download=1")
    assert reply.status == 200 and "attachment" in reply.header("Content-Disposition")
    downloaded = _actions(furnished, "recording_downloaded")
    assert downloaded and downloaded[0] == {**downloaded[0], "actor": "lead", "detail": "c-2"}
    # The core was asked with the web process's token and the user as actor; the browser
    # never saw the token.
    assert furnished.token not in reply.text
    assert lead.get("/recordings/c-9.wav").status == 404
    assert not any(a["detail"] == "c-9" for a in furnished.audit)


def test_agents_may_not_see_recordings(app, furnished):
    agent = _as(app, furnished, "1001", "agent")
    assert agent.get("/recordings").status == 403
    assert agent.get("/recordings/c-1.wav").status == 403
    assert not _actions(furnished, "recording_listened")
    assert "/recordings" not in agent.get("/").text


# -- contract -----------------------------------------------------------------------------

CONTRACT = {"month": "2026-10", "t-count": "2", "t-queue-0": "sales", "t-answer_pct-0": "80",
            "t-within_s-0": "20", "t-max_abandon_pct-0": "5", "t-queue-1": "", "c-wage_per_hour": "40,5",
            "c-recruiting_per_hire": "2000", "c-training_per_hire": "1500",
            "c-annual_turnover_pct": "30", "c-agents": "5", "c-currency": "pln", "o-count": "2",
            "o-name-0": "Acme", "o-model-0": "per_handled_call", "o-price_per_call-0": "12",
            "o-name-1": "", "o-model-1": "per_hour"}


def test_contract_form_becomes_the_cores_request_bodies():
    form = ContractForm(CONTRACT)
    assert not form.errors
    assert form.body("sla", "pl") == {"month": "2026-10", "language": "pl", "targets": [
        {"queue": "sales", "answer_pct": 80.0, "within_s": 20.0, "max_abandon_pct": 5.0}]}
    cost = form.body("cost", "en")
    assert cost["costs"] == {"wage_per_hour": 40.5, "recruiting_per_hire": 2000.0,
                             "training_per_hire": 1500.0, "annual_turnover_pct": 30.0, "agents": 5,
                             "currency": "PLN"}
    assert cost["offers"] == [{"name": "Acme", "model": "per_handled_call", "price_per_call": 12.0,
                               "currency": "PLN"}]
    bad = ContractForm({**CONTRACT, "month": "2026-13", "t-answer_pct-0": "120", "c-agents": "2.5",
                        "o-model-0": "free"})
    assert set(bad.errors) == {"month", "t-answer_pct-0", "c-agents", "o-model-0"}
    assert default_month(__import__("datetime").date(2026, 1, 15)) == "2025-12"


def test_contract_page_shows_both_reports_framed_with_print_and_csv_links(admin, furnished):
    page = admin.get("/contract?" + urlencode(CONTRACT))
    assert page.status == 200, page.text
    assert 'value="Acme"' in page.text and 'value="40,5"' in page.text  # the form is kept
    query = re.search(r'<iframe class="report-frame" src="/contract/sla/print\?([^"]+)"', page.text).group(1)
    assert 'src="/contract/cost/print?' in page.text and 'href="/contract/sla.csv?' in page.text
    sent = [b for k, f, b in furnished.business_bodies if k == "sla"]
    assert sent[-1]["targets"][0]["queue"] == "sales" and sent[-1]["language"] == "en"
    printed = admin.get("/contract/sla/print?" + query.replace("&amp;", "&"))
    assert printed.status == 200 and printed.text.startswith("<!DOCTYPE html>")
    assert "<style>" in printed.text and "<nav" not in printed.text  # the core's page alone
    assert "style-src 'unsafe-inline'" in printed.header("Content-Security-Policy")
    assert "script-src" not in printed.header("Content-Security-Policy")  # default-src 'none' holds
    assert printed.header("X-Frame-Options") == "SAMEORIGIN"
    assert admin.get("/contract").header("X-Frame-Options") == "DENY"
    csv = admin.get("/contract/cost.csv?" + query.replace("&amp;", "&"))
    assert csv.status == 200 and "Acme,per_handled_call" in csv.text
    assert _actions(furnished, "report_exported")[0]["detail"] == "contract cost 2026-10"


def test_contract_print_page_follows_the_users_language(admin, furnished):
    admin.submit("/", "/language", {"language": "pl", "next": "/"})
    printed = admin.get("/contract/sla/print?" + urlencode(CONTRACT))
    assert printed.status == 200 and '<html lang="pl">' in printed.text
    assert furnished.business_bodies[-1][2]["language"] == "pl"


def test_contract_errors_are_shown_next_to_the_form_and_the_core_is_not_asked(admin, furnished):
    page = admin.get("/contract?" + urlencode({**CONTRACT, "c-agents": "many"}))
    assert page.status == 400 and 'id="c-agents-error"' in page.text
    assert not furnished.business_bodies
    page = admin.get("/contract?" + urlencode({**CONTRACT, "o-name-0": "", "o-price_per_call-0": "3"}))
    assert page.status == 400 and 'id="o-name-0-error"' in page.text
    assert admin.get("/contract/sla/print?month=bad").status == 400
    assert admin.get("/contract/nope/print?" + urlencode(CONTRACT)).status == 404


def test_only_the_admin_sees_the_contract(app, furnished):
    lead = _as(app, furnished, "lead", "supervisor")
    assert lead.get("/contract").status == 403
    assert lead.get("/contract/sla/print?" + urlencode(CONTRACT)).status == 403
    assert not furnished.business_bodies


def test_the_report_is_stripped_of_anything_active():
    dirty = ('<html><head><script>alert(1)</script><meta http-equiv="refresh" content="0;url=x">'
             '<link rel="stylesheet" href="http://x/"></head><body onload="go()">'
             '<a href="javascript:alert(1)">x</a><iframe src="/x"></iframe><p class="met">ok</p></body></html>')
    clean = sanitise_report(dirty)
    for bad in ("<script", "alert(1)</script", "http-equiv", "<link", "onload", "javascript:", "<iframe"):
        assert bad not in clean, bad
    assert '<p class="met">ok</p>' in clean
