"""The dashboard answers an owner's first questions: today's calls, whom to call back,
voicemail waiting, who is on, and the alarms above everything."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.web import page_walk as pw
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient
from web.kit import calls_today, who_is_on

WARSAW = ZoneInfo("Europe/Warsaw")


def at(hour: int, minute: int = 0, day: int = 14) -> str:
    # The fake clock stands at 2023-11-14 23:13 in Warsaw.
    return datetime(2023, 11, day, hour, minute, tzinfo=WARSAW).isoformat()


def a_day_of_calls(fake_api) -> None:
    fake_api.settings["box.timezone"] = "Europe/Warsaw"
    add = fake_api.add_call_record
    add(caller="+48601000009", callee="500", direction="inbound", disposition="NO ANSWER",
        start=at(18, day=13))  # yesterday: not today's business
    add(caller="+48601000001", caller_name="Kwiaciarnia", callee="500", direction="inbound",
        disposition="NO ANSWER", queue="sales", start=at(9, 5))
    add(caller="+48601000001", callee="500", direction="inbound", disposition="CANCELLED",
        queue="sales", start=at(9, 40))
    add(caller="+48601000002", callee="500", direction="inbound", disposition="ANSWERED",
        queue="sales", start=at(10))
    add(caller="+48601000003", callee="500", direction="inbound", disposition="NO ANSWER",
        start=at(11))
    add(caller="1001", callee="+48601000003", direction="outbound", disposition="NO ANSWER",
        start=at(11, 30))  # called back (nobody picked up, but someone tried)
    add(caller="+48601000004", callee="500", direction="inbound", disposition="NO ANSWER",
        start=at(12))
    add(caller="+48601000004", callee="500", direction="inbound", disposition="ANSWERED",
        start=at(12, 10))  # got through later
    add(caller="anonymous", callee="500", direction="inbound", disposition="NO ANSWER", start=at(13))
    add(caller="1001", callee="1002", direction="internal", disposition="ANSWERED", start=at(14))


def test_today_counts_customer_calls_and_lists_who_still_waits_for_a_call_back():
    records = [
        {"caller": "+48601", "direction": "inbound", "disposition": "NO ANSWER", "start": at(9)},
        {"caller": "+48601", "direction": "inbound", "disposition": "NO ANSWER", "start": at(10)},
        {"caller": "+48602", "direction": "inbound", "disposition": "NO ANSWER", "start": at(8)},
        {"caller": "+48602", "direction": "inbound", "disposition": "ANSWERED", "start": at(11)},
        {"caller": "1001", "callee": "1002", "direction": "internal", "disposition": "ANSWERED",
         "start": at(12)},
        # a desk phone dialled the service number: the menu makes it a customer's call
        {"caller": "1003", "callee": "500", "direction": "internal", "disposition": "CANCELLED",
         "flow": ["main"], "start": at(13)},
    ]
    day = calls_today(records)
    assert (day.answered, day.missed, day.internal) == (1, 4, 1)
    assert [(m.number, m.tries) for m in day.call_back] == [("1003", 1), ("+48601", 2)]


def test_who_is_on_groups_agents_by_what_they_do():
    agents = [{"extension": "1001", "name": "Ola", "status": "AVAILABLE", "state": "IDLE"},
              {"extension": "1002", "status": "AVAILABLE", "state": "TALKING"},
              {"extension": "1003", "status": "AVAILABLE", "state": "WRAP_UP"},
              {"extension": "1004", "status": "ON_BREAK", "state": "IDLE", "break_reason": "lunch"},
              {"extension": "1005", "status": "AVAILABLE", "state": "NO_PHONE"},
              {"extension": "1006", "status": "LOGGED_OUT", "state": "IDLE"}]
    assert who_is_on(agents) == {"available": ["1001 Ola"], "talking": ["1002", "1003"],
                                 "on break": ["1004"], "no phone": ["1005"]}


def test_the_dashboard_shows_the_owners_day(admin, fake_api):
    a_day_of_calls(fake_api)
    pw.furnish(fake_api)  # agents 1001 available, 1002 on break; a voicemail box with news
    page = admin.get("/").text
    assert re.search(r'id="calls-answered">2 answered<', page)
    assert re.search(r'id="calls-missed"[^>]*>5 missed<', page)
    table = page[page.index('id="call-back"'):page.index("</table>", page.index('id="call-back"'))]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    assert len(rows) == 1 and "+48601000001" in rows[0] and "Kwiaciarnia" in rows[0]
    assert "09:40" in rows[0] and ">2<" in rows[0]
    assert 'href="tel:+48601000001"' in rows[0]  # boss is not an extension: no dial button
    assert "+48601000003" not in table and "+48601000004" not in table and "anonymous" not in table
    assert 'id="voicemail-new">1<' in page and "box 1001: 1" in page
    who = page[page.index('id="who-is-on"'):page.index("</ul>", page.index('id="who-is-on"'))]
    assert re.search(r"<strong>1</strong> available: 1001 Ola Nowak", who)
    assert re.search(r"<strong>1</strong> on break: 1002 Jan Kowalski", who)
    assert "Core" not in page and "Registered phones" not in page


def test_alarms_stay_at_the_top_of_the_dashboard(admin, fake_api):
    fake_api.alarm_list = [{"id": 1, "text": "Line gsm1 is down.", "action": "Check the modem.",
                            "incident": False, "count": 1}]
    page = admin.get("/").text
    assert page.index("Line gsm1 is down.") < page.index('id="calls-answered"')


def test_an_agent_owner_dials_a_missed_caller_back_from_the_dashboard(app, fake_api):
    a_day_of_calls(fake_api)
    fake_api.extensions["1001"] = {"number": "1001", "name": "Ola", "secret": "x" * 16,
                                   "class_of_service": "national", "voicemail": True}
    add_user(fake_api, "1001", "supervisor", ADMIN_PASSWORD)
    client = WsgiClient(app, remote_addr="127.0.0.41")
    assert log_in(client, "1001", ADMIN_PASSWORD).status == 303
    page = client.get("/").text
    assert '<input type="hidden" name="to" value="+48601000001">' in page
    reply = client.submit("/", "/dial", {"to": "+48601000001", "next": "/"})
    assert reply.status == 303
