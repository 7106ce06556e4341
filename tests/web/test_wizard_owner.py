"""The wizard as an owner meets it: time zone by country, a SIP provider, their voicemail."""

from __future__ import annotations

import re

from tests.web.test_wizard import _step
from web.kit import country_names, country_of, zone_options


def test_time_zones_are_offered_by_country_from_the_tz_database():
    options = dict((label, zone) for zone, label in zone_options("en"))
    assert options["Poland"] == "Europe/Warsaw"
    assert options["China — Shanghai (Asia/Shanghai)"] == "Asia/Shanghai"
    assert country_of("Europe/Warsaw") == "PL" and country_of("UTC") is None
    assert len(options) > 300  # the whole database, not a hand-written list


def test_country_names_come_in_the_readers_language():
    assert country_names("pl")["PL"] == "Polska"  # CLDR through Babel: no iso-codes needed
    assert country_names("zh")["CN"] == "中国"


def test_the_business_step_preselects_the_browsers_zone_until_one_is_chosen(admin, fake_api):
    page = admin.get("/wizard/business").text
    assert 'data-from-browser="1"' in page and 'name="browser_timezone"' in page
    assert re.search(r'<option value="UTC" selected>', page)  # until the script picks the browser's
    assert '<option value="Europe/Warsaw" >Poland</option>' in page
    assert '<script src="/static/wizard.js" defer></script>' in page
    # A browser without the script: the hidden field is empty, the select says UTC.
    reply = _step(admin, "business", {"name": "Róża", "timezone": "Asia/Shanghai",
                                      "browser_timezone": "Europe/Warsaw"})
    assert reply.status == 303 and fake_api.settings["box.timezone"] == "Asia/Shanghai"
    page = admin.get("/wizard/business").text
    assert 'data-from-browser="0"' in page
    assert '<option value="Asia/Shanghai" selected>' in page


def test_the_business_step_takes_the_browsers_zone_when_none_is_picked(admin, fake_api):
    reply = _step(admin, "business", {"name": "Róża", "timezone": "",
                                      "browser_timezone": "Europe/Warsaw"})
    assert reply.status == 303 and fake_api.settings["box.timezone"] == "Europe/Warsaw"


def test_the_provider_step_can_be_skipped_and_refuses_a_half_form(admin, fake_api):
    reply = _step(admin, "provider", {"host": "sip.operator.test", "username": "", "secret": ""})
    assert reply.status == 400 and "The user name the provider gave you." in reply.text
    assert fake_api.trunks == {}
    reply = _step(admin, "provider", {"skip": "1"})
    assert reply.status == 303 and reply.location == "/wizard/lines"
    assert fake_api.trunks == {}


def test_the_voicemail_step_needs_a_pin_and_names_a_box_that_is_missing(admin, fake_api):
    fake_api.extensions["1001"] = {"number": "1001", "name": "Anna", "secret": "x" * 16,
                                   "class_of_service": "national", "voicemail": True}
    reply = _step(admin, "voicemail", {"box": "1001", "pin": "", "email": ""})
    assert reply.status == 400 and "4 to 10 digits" in reply.text
    reply = _step(admin, "voicemail", {"box": "1001", "pin": "12ab", "email": ""})
    assert reply.status == 400 and "Use 4 to 10 digits." in reply.text
    reply = _step(admin, "voicemail", {"box": "1777", "pin": "1234", "email": ""})
    assert reply.status == 400 and "1777 has no voicemail box" in reply.text
    assert fake_api.box_changes == []


def test_the_test_call_step_tells_events_in_words_not_codes(admin, fake_api):
    page = admin.get("/wizard/test").text
    words = re.search(r'<script type="application/json" id="wizard-words">(.*?)</script>', page).group(1)
    assert "Agent {agent}: {says}." in words and "not answered" in words
    assert "Engine workers" not in page and "w1" not in page
