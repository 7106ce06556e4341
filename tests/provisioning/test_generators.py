"""Every vendor's file, parsed the way the phone would, holds the right values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.provisioning.generators import clean, config_files, mac_in_filename
from appliance.provisioning.macs import Vendor
from appliance.provisioning.site import AGENT_KEYS, PhoneAccount, PhoneSite
from appliance.provisioning.timezones import load_timezone, parse_posix_tz, read_tzif_footer

MAC = "00:15:65:AB:CD:EF"
LOW = "001565abcdef"


def key_values(body: bytes, sep: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in body.decode("utf-8").splitlines():
        if not line.strip() or line.startswith(("#", "<")):
            continue
        key, found, value = line.partition(sep)
        assert found, f"line without {sep!r}: {line!r}"
        key = key.strip()
        assert key not in out, f"{key} set twice"
        out[key] = value.strip() if sep == " = " else value
    return out


def test_yealink(account: PhoneAccount, site: PhoneSite):
    files = config_files(Vendor.YEALINK, MAC, account, site)
    assert list(files) == [f"{LOW}.cfg"]
    body = files[f"{LOW}.cfg"]
    assert body.startswith(b"#!version:1.0.0.1\n")
    kv = key_values(body, " = ")
    assert kv["account.1.enable"] == "1"
    assert kv["account.1.label"] == account.number
    assert kv["account.1.display_name"] == account.name
    assert kv["account.1.auth_name"] == kv["account.1.user_name"] == account.number
    assert kv["account.1.password"] == account.secret
    assert kv["account.1.sip_server.1.address"] == "192.0.2.10"
    assert kv["account.1.sip_server.1.port"] == "5070"
    priorities = {c: int(kv[f"account.1.codec.{c}.priority"]) for c in ("g722", "pcma", "pcmu")}
    assert sorted(priorities, key=priorities.get) == ["g722", "pcma", "pcmu"]
    assert all(kv[f"account.1.codec.{c}.enable"] == "1" for c in priorities)
    assert kv["local_time.time_zone"] == "+1"
    assert kv["local_time.time_zone_name"] == "Poland(Warsaw)"
    assert kv["lang.gui"] == "Polish"
    assert kv["voice_mail.number.1"] == "*97"
    speed = {kv[f"linekey.{i}.value"]: kv[f"linekey.{i}.label"] for i in range(2, 5)
             if kv.get(f"linekey.{i}.type") == "13"}
    assert speed == {k.code: k.label for k in AGENT_KEYS}


def test_grandstream(account: PhoneAccount, site: PhoneSite):
    files = config_files(Vendor.GRANDSTREAM, MAC, account, site)
    root = ET.fromstring(files[f"cfg{LOW}.xml"])
    assert files[f"cfg{LOW}"] == files[f"cfg{LOW}.xml"]
    assert root.tag == "gs_provision"
    assert root.findtext("mac") == LOW
    p = {e.tag: e.text for e in root.find("config")}
    assert p["P271"] == "1"
    assert p["P270"] == p["P35"] == p["P36"] == account.number
    assert p["P34"] == account.secret
    assert p["P3"] == account.name
    assert p["P47"] == "192.0.2.10:5070"
    assert p["P33"] == "*97"
    assert (p["P57"], p["P58"], p["P59"]) == ("9", "8", "0")  # G.722, A-law, µ-law
    assert p["P246"] == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert p["P1362"] == "pl"
    mpk = {p[f"P{303 + 3 * i}"]: p[f"P{302 + 3 * i}"] for i in range(3)}
    assert mpk == {k.code: k.label for k in AGENT_KEYS}


def test_snom(account: PhoneAccount, site: PhoneSite):
    files = config_files(Vendor.SNOM, MAC, account, site)
    root = ET.fromstring(files[f"{LOW}.xml"])
    ps = root.find("phone-settings")

    def user(tag):
        found = [e for e in ps.findall(tag) if e.get("idx") == "1"]
        assert len(found) == 1, tag
        return found[0].text

    assert user("user_realname") == account.name
    assert user("user_name") == user("user_pname") == account.number
    assert user("user_pass") == account.secret
    assert user("user_host") == "192.0.2.10:5070"
    assert user("user_mailbox") == "*97"
    assert ps.findtext("timezone") == "POL+1"
    assert ps.findtext("language") == "Polski"
    keys = {e.text: e.get("label") for e in root.find("functionKeys")}
    assert keys == {f"speed {k.code}": k.label for k in AGENT_KEYS}


def test_poly_masters_point_to_the_settings(account: PhoneAccount, site: PhoneSite):
    files = config_files(Vendor.POLY, MAC, account, site)
    master = ET.fromstring(files[f"{LOW}.cfg"])
    shared = ET.fromstring(files["000000000000.cfg"])
    assert master.tag == shared.tag == "APPLICATION"
    assert master.get("CONFIG_FILES") == f"{LOW}-callbox.cfg"
    assert shared.get("CONFIG_FILES") == "[PHONE_MAC_ADDRESS]-callbox.cfg"
    attrs = {}
    for element in ET.fromstring(files[f"{LOW}-callbox.cfg"]):
        attrs.update(element.attrib)
    assert attrs["reg.1.address"] == attrs["reg.1.auth.userId"] == account.number
    assert attrs["reg.1.displayName"] == account.name
    assert attrs["reg.1.auth.password"] == account.secret
    assert attrs["reg.1.server.1.address"] == "192.0.2.10"
    assert attrs["reg.1.server.1.port"] == "5070"
    assert attrs["msg.mwi.1.callBackMode"] == "contact"
    assert attrs["msg.mwi.1.callBack"] == "*97"
    assert attrs["tcpIpApp.sntp.gmtOffset"] == "3600"
    # Europe: from the last Sunday of March at 2 to the last Sunday of October at 3.
    start = "tcpIpApp.sntp.daylightSavings.start"
    stop = "tcpIpApp.sntp.daylightSavings.stop"
    assert (attrs[f"{start}.month"], attrs[f"{start}.dayOfWeek"], attrs[f"{start}.dayOfWeek.lastInMonth"],
            attrs[f"{start}.time"]) == ("3", "1", "1", "2")
    assert (attrs[f"{stop}.month"], attrs[f"{stop}.time"]) == ("10", "3")
    assert attrs["lcl.ml.lang"] == "Polish_Poland"
    actions = {attrs[f"softkey.{i}.action"] for i in (1, 2, 3)}
    assert actions == {f"{k.code}$Tinvite$" for k in AGENT_KEYS}


def test_fanvil(account: PhoneAccount, site: PhoneSite):
    files = config_files(Vendor.FANVIL, MAC, account, site)
    body = files[f"{LOW}.cfg"]
    assert body.startswith(b"<<VOIP CONFIG FILE>>")
    assert body.rstrip().endswith(b"<<END OF FILE>>")
    kv = key_values(body, ":")
    kv = {k: v for k, v in kv.items() if not k.startswith("--")}
    assert kv["SIP1 Phone Number"] == kv["SIP1 Register User"] == account.number
    assert kv["SIP1 Display Name"] == account.name
    assert kv["SIP1 Register Pswd"] == account.secret
    assert kv["SIP1 Register Addr"] == "192.0.2.10"
    assert kv["SIP1 Register Port"] == "5070"
    assert kv["SIP1 MWI Num"] == "*97"
    assert (kv["First Codec"], kv["Second Codec"], kv["Third Codec"]) == ("9", "8", "0")
    assert kv["Time Zone Name"] == "UTC+1"
    assert {kv[f"Fkey{i} Value"] for i in (1, 2, 3)} == {f"{k.code}@1/f" for k in AGENT_KEYS}


@pytest.mark.parametrize("vendor", list(Vendor))
def test_a_line_break_in_a_name_cannot_write_a_setting_of_its_own(vendor, site):
    sly = PhoneAccount("1003", "Eve\nSIP1 Register Addr :203.0.113.66\r\naccount.1.sip_server.1.address = 203.0.113.66",
                       "Gq4Wm8Lz2Xc6Vb9n")
    for body in config_files(vendor, MAC, sly, site).values():
        if body.startswith(b"<?xml"):
            ET.fromstring(body)  # still well-formed
            continue
        for line in body.decode("utf-8").splitlines():
            assert not line.startswith(("SIP1 Register Addr :203", "account.1.sip_server.1.address = 203")), line


def test_the_two_phones_get_their_own_secrets(site):
    one = PhoneAccount("1001", "A", "Aa1aaaaaaaaaaaaa")
    two = PhoneAccount("1002", "B", "Bb2bbbbbbbbbbbbb")
    for vendor in Vendor:
        a = b"".join(config_files(vendor, "001565000001", one, site).values())
        b = b"".join(config_files(vendor, "001565000002", two, site).values())
        assert one.secret.encode() in a and two.secret.encode() not in a
        assert two.secret.encode() in b and one.secret.encode() not in b


@pytest.mark.parametrize("name,mac", [
    ("cfg001565abcdef.xml", "001565abcdef"), ("001565ABCDEF.xml", "001565abcdef"),
    ("001565abcdef-callbox.cfg", "001565abcdef"), ("000000000000.cfg", None), ("y000000000044.cfg", None),
    ("001565abcdef0.cfg", None), ("001565abcdef-local.cfg", None), ("x001565abcdef.cfg", None),
])
def test_the_phone_a_file_name_belongs_to(name, mac):
    assert mac_in_filename(name) == mac


def test_account_repr_hides_the_secret():
    assert "Xk3" not in repr(PhoneAccount("1001", "A", "Xk3vQ9pL2mZ7wR4t"))


@pytest.mark.parametrize("posix,offset,dst", [
    ("CET-1CEST,M3.5.0,M10.5.0/3", 60, True),
    ("EST5EDT,M3.2.0,M11.1.0", -300, True),
    ("IST-5:30", 330, False),
    ("<+0545>-5:45", 345, False),
    ("<-03>3", -180, False),
    ("UTC0", 0, False),
])
def test_posix_rules(posix, offset, dst):
    zone = parse_posix_tz("X", posix)
    assert zone.offset_minutes == offset
    assert zone.has_dst is dst


def test_zone_file_footer_is_read_when_the_table_does_not_know_the_zone(tmp_path):
    (tmp_path / "Mars").mkdir()
    (tmp_path / "Mars" / "Base").write_bytes(b"TZif2" + b"\0" * 40 + b"\nABC-3DEF,M4.1.0,M9.5.0\n")
    zone = load_timezone("Mars/Base", tmp_path)
    assert zone.offset_minutes == 180 and zone.dst_start.month == 4
    assert read_tzif_footer(b"not a zone file") is None
    assert load_timezone("Nowhere/Else", tmp_path).name == "UTC"


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=40), secret=st.text(min_size=1, max_size=30))
def test_any_name_and_secret_give_well_formed_xml_holding_them(name, secret):
    account = PhoneAccount("1001", name, secret)
    site = PhoneSite("192.0.2.10")
    snom = ET.fromstring(config_files(Vendor.SNOM, MAC, account, site)[f"{LOW}.xml"])
    assert (snom.find("phone-settings/user_realname").text or "") == clean(name)
    assert (snom.find("phone-settings/user_pass").text or "") == clean(secret)
    gs = ET.fromstring(config_files(Vendor.GRANDSTREAM, MAC, account, site)[f"cfg{LOW}.xml"])
    assert (gs.find("config/P3").text or "") == clean(name)
    poly = ET.fromstring(config_files(Vendor.POLY, MAC, account, site)[f"{LOW}-callbox.cfg"])
    assert poly.find("reg").get("reg.1.displayName") == clean(name)
