"""Voicemail and reports pages through the WSGI app, against the fake control API."""

from __future__ import annotations

import re

from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.fake_more import wav
from tests.web.wsgi_client import WsgiClient
from web.kit import Translator, heat_rows, service_level_svg


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{40 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


# -- voicemail ----------------------------------------------------------------------------

def test_admin_sees_every_box_with_new_and_old_counts(admin, fake_api):
    page = admin.get("/voicemail")
    assert page.status == 200
    rows = re.findall(r'<a href="/voicemail/(\w+)">\1</a></td>\s*<td>(\d+)</td><td>(\d+)</td>', page.text)
    assert rows == [("1001", "1", "1"), ("sales", "0", "0")]


def test_an_agent_opens_only_their_own_box(app, fake_api):
    agent = _as(app, fake_api, "1001", "agent")
    assert agent.get("/voicemail").location == "/voicemail/1001"
    assert agent.get("/voicemail/1001").status == 200
    assert agent.get("/voicemail/sales").status == 403
    assert agent.get("/voicemail/sales/m9.wav").status == 403
    before = len(fake_api.requests)
    reply = agent.submit("/voicemail/1001", "/voicemail/sales/settings", {"email": "x@example.com"})
    assert reply.status == 403
    assert not any(m == "PATCH" for m, _ in fake_api.requests[before:])


def test_listening_streams_the_wav_through_the_web_process_and_is_audited(app, fake_api, admin):
    page = admin.get("/voicemail/1001").text
    assert 'src="/voicemail/1001/m1.wav"' in page and fake_api.token not in page
    reply = admin.get("/voicemail/1001/m1.wav")
    assert reply.status == 200 and reply.header("Content-Type") == "audio/wav"
    assert reply.text.encode("latin-1", "replace")[:4] == b"RIFF"
    assert fake_api.audit[0]["action"] == "voicemail_listened"
    assert fake_api.audit[0]["actor"] == "boss" and fake_api.audit[0]["detail"] == "1001/m1"
    download = admin.get("/voicemail/1001/m2.wav?download=1")
    assert "attachment" in download.header("Content-Disposition")
    assert (fake_api.audit[0]["action"], fake_api.audit[0]["detail"]) == ("voicemail_downloaded", "1001/m2")
    assert admin.get("/voicemail/1001/nope.wav").status == 404
    assert fake_api.audit[0]["action"] != "voicemail_listened" or fake_api.audit[0]["detail"] != "1001/nope"


def test_a_logged_out_browser_cannot_listen(app, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    stranger = WsgiClient(app)
    assert stranger.get("/voicemail/1001/m1.wav").status == 303
    assert not any(a["action"] == "voicemail_listened" for a in fake_api.audit)


def test_deleting_a_message_needs_the_csrf_token(admin, fake_api):
    assert admin.post("/voicemail/1001/m1/delete").status == 403
    assert len(fake_api.voicemail_messages["1001"]) == 2
    reply = admin.submit("/voicemail/1001", "/voicemail/1001/m1/delete", {})
    assert reply.status == 303
    assert [m["id"] for m in fake_api.voicemail_messages["1001"]] == ["m2"]
    assert fake_api.audit[0]["action"] == "voicemail_deleted"


def test_box_settings_are_patched_and_a_bad_pin_is_shown_next_to_its_field(admin, fake_api):
    reply = admin.submit("/voicemail/1001", "/voicemail/1001/settings",
                         {"pin": "12", "email": "ola@example.com", "max_message_s": "120",
                          "max_messages": "20", "attach_audio": "on"})
    assert reply.status == 400
    assert re.search(r'id="vm-pin-error" role="alert">Use 4 to 10 digits', reply.text)
    assert fake_api.box_changes == []
    reply = admin.submit("/voicemail/1001", "/voicemail/1001/settings",
                         {"pin": "4321", "email": "ola@example.com", "max_message_s": "120",
                          "max_messages": "20", "notify_unsolicited": "on"})
    assert reply.status == 303
    assert fake_api.box_changes[-1] == ("1001", {"pin": "4321", "email": "ola@example.com",
                                                 "max_message_s": 120, "max_messages": 20,
                                                 "attach_audio": False, "notify_unsolicited": True})
    assert "4321" not in str(fake_api.audit)


def test_the_cores_refusal_of_box_settings_is_shown_and_the_input_kept(admin, fake_api):
    reply = admin.submit("/voicemail/1001", "/voicemail/1001/settings",
                         {"email": "not-an-address", "max_message_s": "120", "max_messages": "20"})
    assert reply.status == 400
    assert re.search(r'id="vm-email-error" role="alert">must be an address', reply.text)
    assert 'value="not-an-address"' in reply.text
    assert fake_api.box_changes == []


def test_an_agent_cannot_change_the_limits_of_their_box(app, fake_api):
    agent = _as(app, fake_api, "1001", "agent")
    assert 'name="max_messages"' not in agent.get("/voicemail/1001").text
    agent.submit("/voicemail/1001", "/voicemail/1001/settings",
                 {"email": "o@example.com", "max_messages": "9999"})
    assert "max_messages" not in fake_api.box_changes[-1][1]


# -- reports ------------------------------------------------------------------------------

def test_reports_are_for_admins_and_supervisors(app, fake_api):
    assert _as(app, fake_api, "lead", "supervisor").get("/reports").status == 200
    agent = _as(app, fake_api, "1001", "agent")
    assert agent.get("/reports").status == 403
    assert agent.get("/reports/queues.csv").status == 403


def test_reports_page_asks_the_core_with_the_filter_and_draws_every_part(admin, fake_api):
    page = admin.get("/reports?from=2026-11-01&to=2026-11-03&interval=hour&queue=sales"
                     "&target_sl=90&target_s=15")
    assert page.status == 200
    asked = dict(fake_api.report_queries)
    assert asked["queues"] == {"from": "2026-11-01", "to": "2026-11-03", "interval": "hour",
                               "queue": "sales"}
    assert asked["staffing"]["target_sl"] == "0.9" and asked["staffing"]["target_s"] == "15.0"
    assert "<svg" in page.text and 'class="target"' in page.text
    # The busiest hour of the fake heat map (10 calls) has the top colour, a quiet one none.
    assert re.search(r'class="heat heat-9"[^>]*>10<', page.text)
    assert 'class="heat heat-0"' in page.text
    assert '<meter min="0" max="1" value="0.62"' in page.text
    assert 'href="/reports/queues.csv?from=2026-11-01&amp;to=2026-11-03&amp;interval=hour' in page.text


def test_a_malformed_filter_names_the_field_and_asks_the_core_nothing(admin, fake_api):
    reply = admin.get("/reports?from=yesterday")
    assert reply.status == 400 and "from: must be a day like 2026-11-01" in reply.text
    assert fake_api.report_queries == []


def test_csv_downloads_are_proxied_with_the_filter_and_audited(admin, fake_api):
    reply = admin.get("/reports/heatmap.csv?from=2026-11-01&to=2026-11-07")
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/csv")
    assert reply.text.startswith("weekday,days,00,01")
    assert 'filename="heatmap-2026-11-01-2026-11-07.csv"' in reply.header("Content-Disposition")
    assert fake_api.report_queries[-1] == ("heatmap.csv", {"from": "2026-11-01", "to": "2026-11-07"})
    assert fake_api.audit[0]["action"] == "report_exported"
    assert admin.get("/reports/secrets.csv").status == 404


def test_service_level_chart_draws_a_bar_per_interval_against_the_target():
    t = Translator("en")
    svg = service_level_svg([("a", 0.9), ("b", None), ("c", 0.5)], 0.8, "SL", "desc",
                            lambda v: t.percent(v, 0))
    bars = re.findall(r'<rect class="bar (ok|low)"[^>]*height="([\d.]+)"', svg)
    assert [b[0] for b in bars] == ["ok", "low"]
    assert float(bars[0][1]) > float(bars[1][1]) > 0
    assert "<title>a: 90%</title>" in svg and "b:" not in svg


def test_heat_levels_follow_the_busiest_hour():
    rows = heat_rows({"weekdays": ["Mon"], "calls": [[0, 1, 5, 10]]})
    assert rows == [("Mon", [(0, 0), (1, 1), (5, 4), (10, 9)])]
    assert heat_rows({"calls": [[0, 0]]}) == [("Mon", [(0, 0), (0, 0)])]


def test_wav_helper_makes_a_readable_file():
    import io
    import wave
    with wave.open(io.BytesIO(wav(0.1))) as w:
        assert (w.getframerate(), w.getnframes()) == (8000, 800)
