"""ApiClient against the fake control API over real HTTP."""

from __future__ import annotations

import json
import threading
import time

import pytest

from appliance.errors import ApiError, CallboxError
from tests.web.fake_api import FakeControlApi
from web.api_client import ApiClient, parse_sse


@pytest.fixture
def client(fake_api):
    return ApiClient(fake_api.url, fake_api.token)


def test_extensions_round_trip(client, fake_api):
    created = client.add_extension("1001", "Anna", class_of_service="local")
    assert created["secret"] == fake_api.extensions["1001"]["secret"]
    assert client.extensions() == [{"number": "1001", "name": "Anna", "class_of_service": "local",
                                    "voicemail": True, "call_waiting": True, "registered": False}]
    client.update_extension("1001", name="Anna B")
    assert client.extension("1001")["name"] == "Anna B"
    client.delete_extension("1001")
    assert client.extensions() == []


def test_errors_carry_the_status_and_the_api_message(client):
    client.add_extension("1001", "Anna")
    with pytest.raises(ApiError) as exc:
        client.add_extension("1001", "Again")
    assert (exc.value.status, exc.value.message) == (409, "extension 1001 exists already")
    assert isinstance(exc.value, CallboxError)
    with pytest.raises(ApiError) as exc:
        client.update_settings({"sip.port": 70000})
    assert exc.value.message == "sip.port: must be between 0 and 65535 (0 picks a free port)"
    with pytest.raises(ApiError) as exc:
        client.unban("127.0.0.9")
    assert exc.value.status == 404


def test_wrong_token_is_refused(fake_api):
    with pytest.raises(ApiError) as exc:
        ApiClient(fake_api.url, "wrong").health()
    assert exc.value.status == 401


def test_unreachable_core_is_status_zero(fake_api):
    url = fake_api.url
    fake_api.stop()
    with pytest.raises(ApiError) as exc:
        ApiClient(url, "t", timeout=2).health()
    assert exc.value.status == 0 and "not reachable" in exc.value.message


def test_from_data_dir_follows_a_restarted_core(tmp_path, fake_api):
    with pytest.raises(ApiError):
        ApiClient.from_data_dir(tmp_path)
    fake_api.write_discovery(tmp_path)
    client = ApiClient.from_data_dir(tmp_path)
    assert client.health()["status"] == "ok"
    fake_api.stop()
    successor = FakeControlApi().start()
    try:
        successor.write_discovery(tmp_path)
        assert client.health()["status"] == "ok"
        assert client.base_url == successor.url and client.token == successor.token
    finally:
        successor.stop()


def test_users_settings_audit_and_bans(client, fake_api):
    client.add_user("boss", "admin", "scrypt$1$2$3$4$5")
    assert client.user("boss")["password_hash"] == "scrypt$1$2$3$4$5"
    assert [u["username"] for u in client.users()] == ["boss"]
    assert client.update_settings({"box.name": "Desk"}) == {"changed": ["box.name"], "restart_needed": []}
    assert next(s for s in client.settings() if s["key"] == "box.name")["value"] == "Desk"
    client.add_audit("boss", "test", "one")
    client.add_audit("boss", "test", "two")
    assert [a["detail"] for a in client.audit(limit=1)] == ["two"]
    fake_api.ban("127.0.0.9")
    assert client.bans()[0]["ip"] == "127.0.0.9"
    client.unban("127.0.0.9")
    assert client.bans() == []
    fake_api.register("1001")
    assert client.registrations()[0]["aor"] == "1001"


def test_events_stream_yields_named_events(client, fake_api):
    received = []
    stream = client.events(idle_timeout=5)

    def read():
        for event in stream:
            received.append(event)
            if len(received) == 2:
                break

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 10
    while fake_api.subscribers() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    fake_api.emit("registration", {"aor": "1001"})
    fake_api.emit("unban", {"ip": "127.0.0.9"})
    reader.join(15)
    stream.close()
    assert [(e.name, e.data) for e in received] == [("registration", {"aor": "1001"}),
                                                    ("unban", {"ip": "127.0.0.9"})]


def test_sse_parser_handles_comments_multiline_and_plain_data():
    raw = [b": hello\n", b"event: ban\n", b"data: {\"ip\":\n", b"data:  \"1\"}\n", b"\n",
           b"data: plain\r\n", b"\r\n", b"event: skipped-without-data\n", b"\n"]
    events = list(parse_sse(raw))
    assert [(e.name, e.data) for e in events] == [("ban", json.loads('{"ip":\n "1"}')),
                                                  ("message", "plain")]


def test_call_records_send_times_with_their_offset_intact(client, fake_api):
    fake_api.add_call_record(caller="early", start="2026-11-03T07:30:00+01:00")
    fake_api.add_call_record(caller="late", start="2026-11-03T08:30:00+01:00")
    found = client.call_records("2026-11-03T08:00:00+01:00", "2026-11-04T00:00:00+01:00",
                                number="", offset=0, limit=10)
    assert [r["caller"] for r in found] == ["late"]
    assert fake_api.queries[-1][1]["from"] == ["2026-11-03T08:00:00+01:00"]


def test_call_records_csv_streams_what_the_core_sends(client, fake_api):
    for n in range(3):
        fake_api.add_call_record(caller=f"10{n}")
    body = b"".join(client.call_records_csv(number="101"))
    lines = body.decode().splitlines()
    assert lines[0].startswith("id,start,") and len(lines) == 2 and ",101," in lines[1]
    fake_api.has_cdr = False
    with pytest.raises(ApiError) as exc:
        client.call_records_csv()
    assert exc.value.status == 404


def test_engine_and_panel(client, fake_api):
    assert client.engine()["workers"][0]["id"] == "w1"
    assert client.panel()["leds"]["ready"]["lit"] is True
    assert client.press_panel("night", "toggle")["night_mode"] is True
    with pytest.raises(ApiError) as exc:
        client.press_panel("night", "smash")
    assert exc.value.status == 400
