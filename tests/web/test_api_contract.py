"""The fake control API answers like the real core: one contract, run on both.

Some 300 web tests run against `tests/web/fake_api.py`, an in-memory stand-in for the core's
control API. It is only worth something while it answers what the core answers, so every call
`web/api_client.py` makes is made here against the fake *and* a real `callbox core` (one per
module, engine off), and the answers must have the same shape: the same keys, the same kinds of
values, the same error status for bad input and for things that do not exist. Where the fake
keeps a key the core does not send (or the other way round), the test fails and names it.

Two fixtures, as TinyDB runs its suite over two storages: `api` is parametrized (`fake`, `core`)
for checks that hold on each side alone; `both` runs one call on both sides and compares.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import wave
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from appliance.errors import ApiError
from appliance.settings import DECLARATIONS
from tests.integration.corebox import CoreProcess
from tests.web.conftest import ADMIN_PASSWORD, log_in
from tests.web.fake_api import FakeControlApi
from tests.web.wsgi_client import WsgiClient
from web.api_client import ApiClient
from web.app import WebSettings, create_app
from web.kit import hash_password

HASH = "scrypt$16384$8$1$" + base64.b64encode(b"salt").decode() + "$" + base64.b64encode(b"h" * 32).decode()


@pytest.fixture(scope="module")
def real_core(tmp_path_factory):
    core = CoreProcess(tmp_path_factory.mktemp("contract") / "data").start()
    yield core
    core.stop()


@pytest.fixture
def fake():
    api = FakeControlApi().start()
    yield api
    api.stop()


@pytest.fixture(params=["fake", "core"])
def api(request) -> ApiClient:
    """An ApiClient against the fake, then against the real core."""
    if request.param == "fake":
        return ApiClient(request.getfixturevalue("fake").url, request.getfixturevalue("fake").token)
    return ApiClient.from_data_dir(request.getfixturevalue("real_core").data_dir)


# -- comparing answers -----------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "str", dict: "object", list: "list", bytes: "bytes"}.get(type(value), type(value).__name__)


def shape_differences(fake: Any, core: Any, path: str = "", open_keys: tuple[str, ...] = ()) -> list[str]:
    """Where the two answers differ in shape. null is allowed anywhere (an optional value);
    an empty list matches any list; `open_keys` are paths of objects whose keys are data
    (a file name, a setting's value), compared by kind only."""
    if fake is None or core is None:
        return []
    if _kind(fake) != _kind(core):
        return [f"{path or 'answer'}: fake {_kind(fake)}, core {_kind(core)}"]
    if isinstance(fake, dict):
        if path in open_keys:
            return []
        out = [f"{path}.{k}: only the fake sends it" for k in sorted(set(fake) - set(core))]
        out += [f"{path}.{k}: only the core sends it" for k in sorted(set(core) - set(fake))]
        for k in sorted(set(fake) & set(core)):
            out += shape_differences(fake[k], core[k], f"{path}.{k}", open_keys)
        return out
    if isinstance(fake, list) and fake and core:
        return shape_differences(fake[0], core[0], f"{path}[]", open_keys)
    return []


@dataclass
class Outcome:
    value: Any = None
    status: int | None = None  # the error status, None when the call succeeded

    def __repr__(self) -> str:
        return f"error {self.status}" if self.status is not None else f"{_kind(self.value)}"


def _outcome(call: Callable[[ApiClient], Any], client: ApiClient) -> Outcome:
    try:
        value = call(client)
    except ApiError as exc:
        return Outcome(status=exc.status)
    if hasattr(value, "__next__"):  # a download: its bytes
        value = b"".join(value)
    return Outcome(value)


class Both:
    """One ApiClient on the fake, one on the core; `same()` makes a call on each and compares."""

    def __init__(self, fake_api: FakeControlApi, core: CoreProcess):
        self.fake_api = fake_api
        self.fake = ApiClient(fake_api.url, fake_api.token)
        self.core = ApiClient.from_data_dir(core.data_dir)

    def same(self, call: Callable[[ApiClient], Any], open_keys: tuple[str, ...] = ()) -> Any:
        fake, core = _outcome(call, self.fake), _outcome(call, self.core)
        assert fake.status == core.status, f"fake: {fake!r}, core: {core!r}"
        if fake.status is None:
            problems = shape_differences(fake.value, core.value, open_keys=open_keys)
            assert not problems, "\n".join(problems)
        return core.value

    def status(self, call: Callable[[ApiClient], Any]) -> int | None:
        """The error status both give (None: both succeeded)."""
        fake, core = _outcome(call, self.fake), _outcome(call, self.core)
        assert fake.status == core.status, f"fake: {fake!r}, core: {core!r}"
        return core.status


@pytest.fixture
def both(fake, real_core) -> Both:
    return Both(fake, real_core)


def _wav(seconds: float = 0.3) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * int(8000 * seconds))
    return out.getvalue()


# -- settings: the fake's are the core's declarations -------------------------------------------


def test_the_settings_are_the_cores_declarations(api):
    described = {d["key"]: d for d in api.settings()}
    assert list(described) == [s.key for s in DECLARATIONS]
    for s in DECLARATIONS:
        d = described[s.key]
        assert set(d) == {"key", "group", "type", "default", "value", "help", "restart", "choices"}
        assert (d["type"], d["default"], d["restart"], d["help"]) == (s.type_name, s.default, s.restart, s.help)


def test_settings_change_and_refusals_alike(both):
    both.same(lambda a: a.settings())
    both.same(lambda a: a.update_settings({"box.name": "Kwiaciarnia", "sip.port": 5062}))
    for bad in ({"sip.port": 70000}, {"no.such": 1}, {"sip.tcp": "perhaps"}, {"box.name": ""},
                {"recording.policy": "sometimes"}, {"sip.min_expires": 4000}):
        assert both.status(lambda a: a.update_settings(bad)) == 400, bad
    assert both.same(lambda a: a.update_settings({"box.name": "Callbox", "sip.port": 5060}))


def test_a_refused_setting_names_the_key_on_both(api):
    with pytest.raises(ApiError) as exc:
        api.update_settings({"box.name": "ok", "sip.port": 70000})
    assert exc.value.status == 400 and exc.value.message.startswith("sip.port: ")
    assert {d["key"]: d["value"] for d in api.settings()}["box.name"] != "ok"  # all or nothing


# -- extensions, users, audit ------------------------------------------------------------------


def test_extensions_alike(both):
    both.same(lambda a: a.health())
    added = both.same(lambda a: a.add_extension("1201", "Anna"))
    assert set(added) >= {"number", "name", "secret"}
    both.same(lambda a: a.extensions())
    both.same(lambda a: a.extension("1201"))
    both.same(lambda a: a.update_extension("1201", name="Anna K", class_of_service="internal"))
    assert both.status(lambda a: a.add_extension("1201", "Again")) == 409
    assert both.status(lambda a: a.add_extension("0x", "Bad")) == 400
    assert both.status(lambda a: a.add_extension("1202", "")) == 400
    assert both.status(lambda a: a.update_extension("1201", class_of_service="galactic")) == 400
    assert both.status(lambda a: a.extension("1299")) == 404
    assert both.status(lambda a: a.update_extension("1299", name="x")) == 404
    both.same(lambda a: a.registrations())
    both.same(lambda a: a.bans())
    assert both.status(lambda a: a.unban("192.0.2.9")) == 404
    both.same(lambda a: a.delete_extension("1201"))
    assert both.status(lambda a: a.delete_extension("1201")) == 404


def test_users_and_audit_alike(both):
    both.same(lambda a: a.add_user("contract-ann", "agent", HASH))
    both.same(lambda a: a.users())
    both.same(lambda a: a.user("contract-ann"))
    both.same(lambda a: a.update_user("contract-ann", role="supervisor", language="pl"))
    assert both.status(lambda a: a.add_user("contract-ann", "agent", HASH)) == 409
    assert both.status(lambda a: a.add_user("contract-bob", "emperor", HASH)) == 400
    assert both.status(lambda a: a.update_user("contract-ann", role="emperor")) == 400
    assert both.status(lambda a: a.user("contract-nobody")) == 404
    # The box has users now: the first-run set-up is closed, whatever the code.
    assert both.status(lambda a: a.first_admin("WRONG-CODE", "x", HASH)) == 409
    both.same(lambda a: a.add_audit("contract-ann", "login", ""))
    both.same(lambda a: a.audit(limit=5))
    both.same(lambda a: a.delete_user("contract-ann"))
    assert both.status(lambda a: a.delete_user("contract-ann")) == 404


# -- calls, engine, panel, alarms, logs ----------------------------------------------------------


def test_call_records_and_their_refusals_alike(both):
    both.same(lambda a: a.call_records(start="2026-11-01", end="2026-11-02"))
    csv_fake, csv_core = (b"".join(c.call_records_csv()).decode() for c in (both.fake, both.core))
    assert csv_fake.splitlines()[0] == csv_core.splitlines()[0]  # the same columns
    assert both.status(lambda a: a.call_records(start="yesterday")) == 400
    assert both.status(lambda a: a.call_records(limit=0)) == 400
    both.same(lambda a: a.alarms())
    assert both.status(lambda a: a.acknowledge_alarm(987654)) == 404
    both.same(lambda a: a.logs(lines=5))
    assert both.status(lambda a: a.update_call_record("no-such-call", notes="x")) == 404


def test_the_front_panel_alike(both):
    both.same(lambda a: a.panel())
    both.same(lambda a: a.press_panel("status", "press"))
    assert both.status(lambda a: a.press_panel("self-destruct", "press")) == 400
    assert both.status(lambda a: a.press_panel("night", "press")) == 400


def test_engine_alike(both):
    both.same(lambda a: a.engine())  # the core here runs no workers: empty lists, not a 404


# -- the contact center ----------------------------------------------------------------------------


FLOWS = {"schema": 1, "version": 1, "language": "en", "holidays": [], "holiday_ranges": [],
         "routes": [{"name": "All calls", "did": "", "caller": "", "priority": 10, "destination": "menu"}],
         "nodes": {"menu": {"kind": "ivr_menu", "prompt": "menu", "choices": {"1": "q"}, "timeout_s": 5,
                            "retries": 1, "invalid_destination": "q"},
                   "q": {"kind": "queue", "queue": "contract-sales"}}}


def test_queues_agents_and_flows_alike(both):
    assert both.status(lambda a: a.flows()) == 404  # no call flows yet
    both.same(lambda a: a.add_extension("1301", "Agent"))
    both.same(lambda a: a.add_queue({"name": "contract-sales"}))
    assert both.status(lambda a: a.add_queue({"name": "contract-sales"})) == 409
    assert both.status(lambda a: a.add_queue({"name": "contract bad name!"})) == 400
    both.same(lambda a: a.queues())
    both.same(lambda a: a.add_agent("1301", ["contract-sales"]))
    assert both.status(lambda a: a.add_agent("1301", ["contract-sales"])) == 409
    assert both.status(lambda a: a.add_agent("1399", ["contract-sales"])) == 404
    assert both.status(lambda a: a.add_agent("1301", ["no-such-queue"])) in (400, 409)
    both.same(lambda a: a.agent_action("1301", "login"))
    both.same(lambda a: a.agent_action("1301", "break", reason="lunch"))
    assert both.status(lambda a: a.agent_action("1301", "dance")) in (400, 404)
    assert both.status(lambda a: a.agent_action("1398", "login")) == 404
    both.same(lambda a: a.agents())
    both.same(lambda a: a.queue_log())
    both.same(lambda a: a.put_flows(FLOWS))
    both.same(lambda a: a.flows())
    broken = json.loads(json.dumps(FLOWS))
    broken["nodes"]["menu"]["choices"]["2"] = "nowhere"
    assert both.status(lambda a: a.put_flows(broken)) == 400


# -- trunks, lines, routes -------------------------------------------------------------------------


def test_trunks_lines_and_routes_alike(both):
    both.same(lambda a: a.add_trunk({"name": "contract-prov", "kind": "register", "host": "192.0.2.10",
                                     "port": 5060, "transport": "udp", "username": "u", "secret": "s3cret-x",
                                     "register": False, "dids": ["48221230000"]}))
    assert both.status(lambda a: a.add_trunk({"name": "contract-prov", "kind": "register",
                                              "host": "192.0.2.11", "username": "u",
                                              "secret": "s3cret-x"})) == 409
    assert both.status(lambda a: a.add_trunk({"name": "bad", "kind": "telepathy"})) == 400
    both.same(lambda a: a.trunks())
    both.same(lambda a: a.put_routes({"outbound": [{"name": "national", "patterns": ["0XXXXXXXXX"],
                                                    "trunks": ["contract-prov"]}],
                                      "inbound": [{"did": "48221230000", "destination": "extension:1201",
                                                   "priority": 5}]}))
    both.same(lambda a: a.routes())
    assert both.status(lambda a: a.put_routes({"inbound": [{"did": "1", "destination": "nowhere"}]})) == 400
    both.same(lambda a: a.lines())
    assert both.status(lambda a: a.add_line({"name": "gsm1", "kind": "carrier-pigeon"})) == 400
    both.same(lambda a: a.put_routes({"outbound": [], "inbound": []}))
    both.same(lambda a: a.delete_trunk("contract-prov"))
    assert both.status(lambda a: a.delete_trunk("contract-prov")) == 404


# -- voicemail, reports, prompts, recordings --------------------------------------------------------


def test_voicemail_alike(both):
    both.same(lambda a: a.add_extension("1401", "Boxed"))
    both.same(lambda a: a.voicemail_boxes())
    both.same(lambda a: a.voicemail_messages("1401"))
    both.same(lambda a: a.update_voicemail_box("1401", pin="4321", email="owner@example.com"))
    assert both.status(lambda a: a.update_voicemail_box("1401", pin="12")) == 400
    assert both.status(lambda a: a.voicemail_messages("1499")) == 404
    assert both.status(lambda a: a.voicemail_audio("1401", "no-such-message")) == 404
    assert both.status(lambda a: a.delete_voicemail("1401", "no-such-message")) == 404


@pytest.mark.parametrize("kind", ["queues", "agents", "staffing", "heatmap", "today"])
def test_reports_alike(both, kind):
    query = {} if kind == "today" else {"from": "2026-11-01", "to": "2026-11-08"}
    both.same(lambda a: a.report(kind, **query), open_keys=(".days", ".hours", ".cells"))
    head = [b"".join(c.report_csv(kind, **query)).decode().splitlines()[:1] for c in (both.fake, both.core)]
    assert head[0] == head[1]


def test_report_refusals_alike(both):
    assert both.status(lambda a: a.report("horoscope")) == 404
    assert both.status(lambda a: a.report("queues", **{"from": "not-a-day"})) == 400


def test_prompts_alike(both):
    both.same(lambda a: a.prompts())
    both.same(lambda a: a.upload_prompt("en", "contract-hold", _wav()))
    assert both.status(lambda a: a.upload_prompt("en", "contract-hold", b"RIFF\x00\x00garbage")) == 400
    assert both.status(lambda a: a.upload_prompt("en", "Bad Name!", _wav())) in (400, 404)


def test_recordings_and_contract_reports_alike(both):
    both.same(lambda a: a.recordings())
    assert both.status(lambda a: a.recording_audio("no-such-call", "boss")) == 404
    body = {"from": "2026-11-01", "to": "2026-11-08"}
    both.same(lambda a: a.business_report("sla", body))
    both.same(lambda a: a.business_report("cost", body | {"monthly_cost": 1000}))
    assert both.status(lambda a: a.business_report("horoscope", body)) == 404


# -- phones, contacts, calls, backup -------------------------------------------------------------


def test_desk_phones_alike(both):
    both.same(lambda a: a.add_extension("1501", "Desk"))
    both.same(lambda a: a.phones())
    both.same(lambda a: a.bind_phone("00:15:65:aa:bb:01", "1501", vendor="yealink"))
    assert both.status(lambda a: a.bind_phone("not-a-mac", "1501", vendor="yealink")) == 400
    assert both.status(lambda a: a.bind_phone("00:15:65:aa:bb:02", "1599", vendor="yealink")) == 404
    both.same(lambda a: a.phone_log())
    both.same(lambda a: a.phone_files("00:15:65:aa:bb:01"), open_keys=("",))
    both.same(lambda a: a.unbind_phone("00:15:65:aa:bb:01"))
    assert both.status(lambda a: a.unbind_phone("00:15:65:aa:bb:01")) == 404


def test_contacts_alike(both):
    added = both.same(lambda a: a.add_contact({"name": "Jan Kowalski", "company": "Kwiaty",
                                               "numbers": ["+48601234567"]}))
    fake_id = both.fake.contacts(q="Kowalski")[0]["id"]
    core_id = added["id"]
    for client, cid in ((both.fake, fake_id), (both.core, core_id)):
        client.update_contact(cid, company="Kwiaty i Róże")
    problems = shape_differences(both.fake.contact(fake_id), both.core.contact(core_id))
    assert not problems, problems
    both.same(lambda a: a.contacts(q="Kowalski"))
    both.same(lambda a: a.lookup_contact("+48601234567"))
    assert both.status(lambda a: a.add_contact({"name": ""})) == 400
    assert both.status(lambda a: a.contact("no-such-contact")) == 404
    both.same(lambda a: a.import_contacts_csv(b"name,company,numbers\nAnna Nowak,,+48602000000\n"))
    head = [b"".join(c.contacts_csv()).decode().splitlines()[0] for c in (both.fake, both.core)]
    assert head[0] == head[1]
    for client, cid in ((both.fake, fake_id), (both.core, core_id)):
        client.delete_contact(cid)


def test_click_to_dial_refusals_alike(both):
    assert both.status(lambda a: a.dial("1599", "1001")) in (400, 404)


def test_a_backup_is_a_gzip_on_both(both):
    for client in (both.fake, both.core):
        assert b"".join(client.backup("boss"))[:2] == b"\x1f\x8b"
    assert both.status(lambda a: a.restore(b"not an archive")) == 400


# -- the settings page, rendered from the real core's declarations ------------------------------


def test_the_settings_page_renders_and_saves_against_the_real_core(real_core):
    """The page builds its form from what the core declares; no test rendered it from the real
    declarations before, only from the fake's hand list."""
    client = ApiClient.from_data_dir(real_core.data_dir)
    client.add_user("contract-boss", "admin", hash_password(ADMIN_PASSWORD))
    client.update_settings({"setup.wizard": {"step": "done"}})  # else the first login opens the wizard
    browser = WsgiClient(create_app(WebSettings(), client))
    assert log_in(browser, "contract-boss", ADMIN_PASSWORD).status == 303
    page = browser.get("/settings")
    assert page.status == 200
    for s in DECLARATIONS:
        if s.type is dict:  # a structure (the wizard's record, the pin map) is shown, not edited
            assert f'name="set:{s.key}"' not in page.text, s.key
        else:
            assert f'name="set:{s.key}"' in page.text, s.key
    assert '<select id="f-recording-policy"' in page.text and 'type="checkbox" id="f-sip-tcp"' in page.text
    assert 'name="set:smtp.password" type="password" value=""' in page.text
    # Sent back as the page shows it, with two changes: only those reach the core.
    form = {"shown": [], "csrf_token": page.csrf()}
    for name, value in re.findall(r'name="(set:[^"]+)"[^>]*?value="([^"]*)"', page.text):
        form[name] = html.unescape(value)
        form["shown"].append(name[4:])
    for name in re.findall(r'name="(set:[^"]+)"[^>]*? checked', page.text):
        form[name] = "on"
    for select in re.findall(r'<select id="[^"]+" name="(set:[^"]+)"', page.text):
        form[select] = re.search(rf'name="{re.escape(select)}".*?<option value="([^"]*)" selected',
                                 page.text, re.S).group(1)
        form["shown"].append(select[4:])
    form["set:box.name"] = "Kwiaciarnia Róża"
    form["set:recording.policy"] = "queues"
    reply = browser.post("/settings", form)
    assert reply.status == 303, reply.text[:3000]
    values = {d["key"]: d["value"] for d in client.settings()}
    assert (values["box.name"], values["recording.policy"]) == ("Kwiaciarnia Róża", "queues")
    changed = [a for a in client.audit(limit=5) if a["action"] == "settings_changed"][0]["detail"]
    assert "box.name" in changed and "recording.policy" in changed and "sip.port" not in changed
    # A refusal by the core comes back next to its field, nothing saved.
    form["set:sip.port"] = "70000"
    form["set:box.name"] = "Other"
    reply = browser.post("/settings", form)
    assert reply.status == 400 and 'id="f-sip-port-error"' in reply.text
    assert {d["key"]: d["value"] for d in client.settings()}["box.name"] == "Kwiaciarnia Róża"
