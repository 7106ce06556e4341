"""Every page of the admin UI, rendered with the fake API, for the language checks.

`furnish` fills the fake core with one of everything; `walk` logs in with each
role and yields (label, reply) for every page and for the forms' error states.
"""

from __future__ import annotations

import json
import zoneinfo
import re
from html.parser import HTMLParser
from typing import Iterator

from appliance.logic.flows.template import default_flows
from tests.web import fake_contacts, fake_phones
from tests.web.fake_api import SETTINGS
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import Reply, WsgiClient
from web.kit import MARK_CLOSE, MARK_OPEN, VENDOR_NAMES, display_mac, zone_options

# Words that read the same in every language: product and protocol names, units, codes.
ALLOWED_WORDS = {"Callbox", "SIP", "CSV", "IVR", "ACD", "GSM", "UDP", "TCP", "TLS", "WAV", "MP3",
                 "OGG", "FLAC", "PIN", "SIM", "DID", "MiB", "KiB", "GiB", "MB", "kB", "LED", "LEDs",
                 "USB", "IP", "API", "CPU", "DTMF", "URL", "HTTP", "JSON", "OK", "UTC", "GB", "TV",
                 "English", "Polski", "XXXXXXXXX", "MAC", "PLN"}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
CONTRACT_QUERY = ("month=2026-10&t-count=1&t-queue-0=sales&t-answer_pct-0=80&c-wage_per_hour=40"
                  "&c-recruiting_per_hire=2000&c-training_per_hire=1500&c-annual_turnover_pct=30"
                  "&c-agents=5&o-count=1&o-name-0=Acme&o-model-0=per_hour&o-price_per_hour-0=50")
ADMIN_PAGES = ["/", "/extensions", "/extensions/1001/edit", "/extensions/1001/sheet",
               "/registrations", "/bans", "/settings", "/users", "/audit", "/now", "/calls",
               "/calls?from=2026-11-01&to=2026-11-30", "/system", "/queues", "/ivr",
               "/ivr/nodes/main_menu", "/wallboard", "/wallboard/kiosk", "/wizard",
               "/wizard/business", "/wizard/hours", "/wizard/staff", "/wizard/flows",
               "/wizard/voicemail", "/wizard/provider", "/wizard/lines", "/wizard/test", "/voicemail", "/voicemail/1001", "/reports",
               "/reports?interval=hour&from=2026-11-01&to=2026-11-03", "/trunks", "/prompts",
               "/agent", "/no-such-page", "/calls?from=yesterday", "/phones",
               "/phones/001565123456/files", "/recordings", "/recordings?agent=1001&from=2026-11-01",
               "/recordings?from=yesterday", "/contract", "/contract?" + CONTRACT_QUERY,
               "/contract?month=2026-13&c-agents=x&o-count=1&o-name-0=&o-price_per_call-0=1",
               "/contacts", "/contacts?q=kwiat", "/contacts?q=nobody", "/contacts/c1/edit"]
ERROR_FORMS = [("/extensions", "/extensions", {"number": "1", "name": "x"}),
               ("/settings", "/settings", {"shown": "sip.port", "setting.sip.port": "99999"}),
               ("/users", "/users", {"username": "x", "role": "agent", "password": "a"}),
               ("/trunks", "/trunks", {"name": "bad name", "kind": "register", "host": "x y"}),
               ("/trunks", "/lines", {"name": "L1", "kind": "gsm", "device": "COM1"}),
               ("/trunks", "/routes", {"out-count": "1", "out-name-0": "out", "out-patterns-0": "0X.",
                                       "out-trunks-0": "nowhere", "in-count": "0"}),
               ("/voicemail/1001", "/voicemail/1001/settings", {"pin": "12", "email": "x",
                                                                 "max_message_s": "abc", "max_messages": "5"}),
               ("/prompts", "/prompts/speak", {"name": "Bad Name", "language": "pl", "text": ""}),
               ("/", "/account/password", {"current": "wrong", "password": "x", "password2": "y"}),
               ("/phones", "/phones", {"mac": "zz", "extension": "", "vendor": ""}),
               ("/phones", "/phones", {"mac": "zz", "extension": "1001", "vendor": "snom"}),
               ("/phones", "/phones/001565abcdef/approve", {"extension": "1002"}),
               ("/contacts", "/contacts", {"name": "", "numbers": "12", "notes": "9" * 2001}),
               ("/contacts/c1/edit", "/contacts/c1/edit", {"name": "Ola", "numbers": "12"}),
               ("/contacts", "/contacts/import", {}),
               ("/system", "/system/restore", {"confirm": "on"})]


def furnish(fake_api) -> None:
    """One of everything the pages can show."""
    for n, name in (("1001", "Ola Nowak"), ("1002", "Jan Kowalski"), ("100", "Operator")):
        fake_api.extensions[n] = {"number": n, "name": name, "secret": "s3cretSecret12",
                                  "class_of_service": "national", "voicemail": True}
    fake_api.queues["sales"] = {"name": "sales"}
    fake_api.queues["support"] = {"name": "support"}
    for n in ("1001", "1002"):
        fake_api.agents[n] = {"extension": n, "name": fake_api.extensions[n]["name"],
                              "status": "AVAILABLE" if n == "1001" else "ON_BREAK", "state": "IDLE",
                              "break_reason": "" if n == "1001" else "lunch", "queues": {"sales": 1}}
    fake_api.flow_versions.append(default_flows({"mon": [("09:00", "17:00")]}, "sales", "100",
                                                timezone="Europe/Warsaw").to_dict())
    fake_api.register("1001")
    fake_api.ban("192.0.2.9")
    fake_api.add_call_record(caller="1001", callee="1002", start="2026-11-20T10:00:00+01:00")
    fake_api.caller_waits("sales", "+48601111111", waited_s=40)
    fake_api.start_call("1002", "100")
    fake_phones.add_pending(fake_api, "00:15:65:AB:CD:EF")
    fake_api.phone_bindings["001565123456"] = {
        "mac": "001565123456", "extension": "1001", "vendor": "snom", "model": "D785",
        "created": 1_795_000_000.0, "fetched": 1_795_000_100.0, "password": "pw"}
    fake_api.phone_fetches.insert(0, {"time": 1_795_000_100.0, "ip": "127.0.0.51", "mac": "001565123456",
                                      "file": "001565123456.xml", "outcome": "ok", "user_agent": ""})
    fake_phones.add_recording(fake_api, "c-1", agent="1001")
    fake_contacts.add_contact(fake_api, "Ola Kowalczyk", ["+48601234567", "+48221234567"],
                              company="Kwiaciarnia", email="ola@kwiaciarnia.test", notes="Zawsze róże")
    fake_api.add_call_record(caller="+48601234567", callee="100", agent="1002",
                             disposition_code="complaint", notes="Zwiędłe kwiaty",
                             start="2026-11-19T11:00:00+01:00")
    fake_api.lines.append({"name": "gsm1", "kind": "gsm", "number": "+48600100200", "simulated": True,
                           "sip_port": 5070, "restarts": 0, "state": "registered", "signal": 21,
                           "operator": "Orange PL", "sim": "ready", "last_error": ""})


def log_in_as(app, fake_api, username: str, role: str, remote: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=remote)
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    reply = log_in(client, username, ADMIN_PASSWORD)
    assert reply.status == 303, reply.text
    return client


def choose_language(client: WsgiClient, lang: str) -> Reply:
    reply = client.submit("/", "/language", {"language": lang, "next": "/"})
    assert reply.status == 303, reply.text
    return reply


def walk(app, fake_api, lang: str) -> Iterator[tuple[str, Reply]]:
    """(label, reply) for every page in `lang`, as admin, supervisor, agent and before login."""
    admin = log_in_as(app, fake_api, "boss", "admin", "127.0.0.11")
    choose_language(admin, lang)
    for path in ADMIN_PAGES:
        yield f"admin {path}", admin.get(path)
    for page, action, form in ERROR_FORMS:
        yield f"admin POST {action}", admin.submit(page, action, form)
    token = admin.get("/contacts").csrf()
    yield "admin import with bad rows", admin.post_multipart(
        "/contacts/import", {"csrf_token": token},
        {"file": ("c.csv", b"name,numbers\n,+48500100201\nEwa,12\nJan,+48500100202\n")})
    yield "admin restore of a bad file", admin.post_multipart(
        "/system/restore", {"csrf_token": token, "confirm": "on"}, {"backup": ("b.tgz", b"junk")})
    admin.post_multipart("/system/restore", {"csrf_token": token, "confirm": "on"},
                         {"backup": ("b.tgz", fake_contacts.make_backup())})
    yield "admin after a restore", admin.get("/system")
    admin.submit("/contacts", "/dial", {"to": "+48601234567", "next": "/contacts"})
    yield "admin after dialling", admin.get("/contacts")
    supervisor = log_in_as(app, fake_api, "lead", "supervisor", "127.0.0.12")
    choose_language(supervisor, lang)
    for path in ("/", "/reports", "/wallboard", "/queues", "/extensions", "/recordings", "/contract"):
        yield f"supervisor {path}", supervisor.get(path)
    agent = log_in_as(app, fake_api, "1001", "agent", "127.0.0.13")
    choose_language(agent, lang)
    for path in ("/", "/voicemail/1001", "/voicemail/sales", "/reports", "/recordings", "/contacts",
                 "/contacts.csv", "/contacts/c1/edit"):
        yield f"agent {path}", agent.get(path)
    call = fake_api.caller_waits("sales", "+48601234567")
    fake_api.offer(call, "1001")
    yield "agent screen pop", agent.get("/agent")
    fake_api.hang_up_agent("1001")
    yield "agent after the call", agent.get("/agent")
    yield "agent POST notes", agent.submit("/agent", f"/agent/calls/{call}/notes",
                                           {"notes": "", "disposition_code": ""})
    agent.submit("/agent", f"/agent/calls/{call}/notes", {"notes": "ok", "disposition_code": "sale"})
    yield "agent notes saved", agent.get("/agent")
    agent.submit("/agent", "/dial", {"to": "not a number", "next": "/agent"})
    yield "agent dial refused", agent.get("/agent")
    fake_api.extensions["1001"]["class_of_service"] = "internal"
    agent.submit("/agent", "/dial", {"to": "+48601234567", "next": "/agent"})
    yield "agent dial not allowed", agent.get("/agent")
    fake_api.extensions["1001"]["class_of_service"] = "national"
    agent.submit("/contacts", "/dial", {"to": "+48601234567", "next": "/contacts"})
    yield "agent dialled", agent.get("/contacts")
    stranger = WsgiClient(app, remote_addr="127.0.0.14")
    header = {"Accept-Language": {"pl": "pl-PL,pl;q=0.9,en;q=0.5", "zh": "zh-CN,zh;q=0.9"}.get(lang, "en")}
    yield "anonymous /login", stranger.get("/login", headers=header)
    token = stranger.get("/login", headers=header).csrf()
    yield "anonymous bad login", stranger.post("/login", {"username": "boss", "password": "nope",
                                                          "csrf_token": token}, headers=header)


class _Text(HTMLParser):
    """Visible text and the attributes people read (labels, titles, placeholders)."""

    READ_ATTRS = ("aria-label", "title", "placeholder", "alt", "data-confirm", "data-label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.READ_ATTRS and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and ("type", "submit") in attrs and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    # <title> counts too: it is what a tab and a screen reader announce.
    return [p for p in parser.parts if p.strip()]


def data_words(fake_api) -> set[str]:
    """Words that come from the fake core's data (names, numbers, queue and route names...)."""
    blob = json.dumps({k: v for k, v in vars(fake_api).items()
                       if isinstance(v, (dict, list, str)) and not k.startswith("_")},
                      default=str, ensure_ascii=False)
    # Setting help texts are the core's own words, passed on as they are.
    blob += json.dumps([d["help"] for d in SETTINGS])
    # Time zone names (IANA) and the host the browser used are names, not sentences.
    blob += " ".join(zoneinfo.available_timezones()).replace("/", " ") + " callbox.test"
    # Countries and their zones as the tz database names them (web/timezones.py).
    blob += " ".join(label for lang in ("en", "pl", "zh") for _, label in zone_options(lang))
    # Phone makers are brand names; MACs are shown as on the phone's label.
    blob += " " + " ".join(VENDOR_NAMES.values())
    blob += " " + " ".join(display_mac(m) for m in list(fake_api.phone_bindings) + list(fake_api.pending_phones))
    return set(WORD.findall(blob))


def untranslated(html: str, allowed: set[str]) -> list[str]:
    """Pieces of visible text that did not go through the catalogue and are not data."""
    found = []
    for part in visible_text(html):
        rest, inner = part, re.compile(f"{MARK_OPEN}[^{MARK_OPEN}{MARK_CLOSE}]*{MARK_CLOSE}")
        while inner.search(rest):  # translations nest: a date inside a sentence
            rest = inner.sub(" ", rest)
        words = [w for w in WORD.findall(rest) if w not in allowed and w not in ALLOWED_WORDS]
        if words:
            found.append(" ".join(rest.split()))
    return found
