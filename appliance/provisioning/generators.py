"""One configuration file per phone, in each maker's own format.

Pure: (vendor, MAC, account, site) in, {file name: bytes} out. XML is built
with ElementTree so that every name, password and label is escaped; the
key=value formats drop line breaks and control characters, which would
otherwise let a display name write settings of its own.

File names follow what each phone asks for at boot:

| vendor      | files                                                    |
|-------------|----------------------------------------------------------|
| Yealink     | `<mac>.cfg`                                              |
| Grandstream | `cfg<mac>.xml` (and `cfg<mac>`, the same XML)            |
| Snom        | `<mac>.xml` (the PnP URL names it)                       |
| Poly        | `<mac>.cfg` and `000000000000.cfg` (masters),            |
|             | `<mac>-callbox.cfg` (the settings)                       |
| Fanvil      | `<mac>.cfg`                                              |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from appliance.errors import ValidationError
from appliance.provisioning.macs import Vendor, normalise_mac
from appliance.provisioning.site import PhoneAccount, PhoneSite
from appliance.provisioning.timezones import DstRule, snom_zone_code, yealink_zone_name

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


def _et():
    """ElementTree and its expat parser (some 0.6 MB resident), imported when a phone first asks for
    an XML file rather than at every start of the core."""
    import xml.etree.ElementTree
    return xml.etree.ElementTree

POLY_MASTER = "000000000000.cfg"
POLY_SETTINGS_SUFFIX = "-callbox.cfg"

# Control characters (C0 and C1) and the two non-characters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def clean(value: object) -> str:
    """A value safe for any of the formats: no line breaks, no control characters.

    Spaces stay: a SIP secret may begin or end with one, and the phone must
    send exactly what the edge expects.
    """
    return _CONTROL.sub("", str(value))


def _key_value_file(header: list[str], pairs: list[tuple[str, object]], sep: str) -> bytes:
    lines = list(header) + [f"{key}{sep}{clean(value)}" for key, value in pairs]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xml(root: ET.Element) -> bytes:
    _et().indent(root)
    # Double quotes in the declaration: some phones' parsers accept no other.
    text = _et().tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8") + b"\n"


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    element = _et().SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


# ---------------------------------------------------------------- Yealink

_YEALINK_LANGUAGES = {"en": "English", "de": "German", "pl": "Polish", "fr": "French",
                      "es": "Spanish", "it": "Italian", "zh": "Chinese_S"}


def yealink(mac: str, account: PhoneAccount, site: PhoneSite) -> dict[str, bytes]:
    """Yealink T4x/T5x: `<mac>.cfg`, key = value after the `#!version:1.0.0.1` line."""
    zone = site.timezone
    pairs: list[tuple[str, object]] = [
        ("account.1.enable", 1),
        ("account.1.label", account.number),
        ("account.1.display_name", account.name),
        ("account.1.auth_name", account.number),
        ("account.1.user_name", account.number),
        ("account.1.password", account.secret),
        ("account.1.sip_server.1.address", site.sip_server),
        ("account.1.sip_server.1.port", site.sip_port),
        ("account.1.sip_server.1.transport_type", 0),  # UDP
        ("account.1.subscribe_mwi", 1),
        ("account.1.subscribe_mwi_to_vm", 1),
        ("account.1.codec.g722.enable", 1),
        ("account.1.codec.g722.priority", 1),
        ("account.1.codec.pcma.enable", 1),
        ("account.1.codec.pcma.priority", 2),
        ("account.1.codec.pcmu.enable", 1),
        ("account.1.codec.pcmu.priority", 3),
        ("account.1.codec.g729.enable", 0),
        ("account.1.dtmf.type", 1),  # RFC 2833/4733
        ("local_time.time_zone", zone.offset_text),
    ]
    name = yealink_zone_name(zone)
    if name:
        pairs += [("local_time.time_zone_name", name), ("local_time.summer_time", 2)]  # 2: by the zone's rule
    else:
        pairs += [("local_time.summer_time", 0)]
    pairs += [
        ("lang.gui", _YEALINK_LANGUAGES.get(site.language, "English")),
        ("lang.wui", _YEALINK_LANGUAGES.get(site.language, "English")),
        ("voice_mail.number.1", site.voicemail_number),
        ("linekey.1.type", 15),  # the line itself
        ("linekey.1.line", 1),
        ("linekey.1.label", account.number),
    ]
    for i, key in enumerate(site.keys, start=2):
        pairs += [(f"linekey.{i}.type", 13),  # speed dial
                  (f"linekey.{i}.line", 1),
                  (f"linekey.{i}.value", key.code),
                  (f"linekey.{i}.label", key.label)]
    header = ["#!version:1.0.0.1", f"## Callbox: phone {mac}, extension {clean(account.number)}"]
    return {f"{mac}.cfg": _key_value_file(header, pairs, " = ")}


# ------------------------------------------------------------ Grandstream

_GS_CODECS = {"PCMU": 0, "PCMA": 8, "G722": 9}
_GS_LANGUAGES = {"en": "en", "de": "de", "pl": "pl", "fr": "fr", "es": "es", "it": "it", "zh": "zh"}
# Multi-purpose keys: (mode, account, name, value) P-values of keys 1, 2, 3, …
_GS_MPK = [(323 + i, 301 + 3 * i, 302 + 3 * i, 303 + 3 * i) for i in range(6)]


def grandstream(mac: str, account: PhoneAccount, site: PhoneSite) -> dict[str, bytes]:
    """Grandstream GXP: `cfg<mac>.xml`, a `<gs_provision>` of P-values."""
    p: dict[int, object] = {
        271: 1,                      # account 1 active
        270: account.number,         # account name
        47: f"{site.sip_server}:{site.sip_port}",  # SIP server
        35: account.number,          # SIP user ID
        36: account.number,          # authenticate ID
        34: account.secret,          # authenticate password
        3: account.name,             # display name
        31: 1,                       # register
        33: site.voicemail_number,   # voicemail access number
        57: _GS_CODECS["G722"],      # codec preference 1
        58: _GS_CODECS["PCMA"],      # codec preference 2
        59: _GS_CODECS["PCMU"],      # codec preference 3
        79: 101,                     # RFC 2833 payload type
        64: "customize",             # time zone: the self-defined rule below
        246: site.timezone.posix,    # self-defined time zone (POSIX TZ)
        1362: _GS_LANGUAGES.get(site.language, "en"),
    }
    for key, (mode, acct, name, value) in zip(site.keys, _GS_MPK):
        p.update({mode: 0, acct: 0, name: key.label, value: key.code})  # mode 0: speed dial
    root = _et().Element("gs_provision", version="1")
    _sub(root, "mac", mac)
    config = _sub(root, "config", version="1")
    for number in sorted(p):
        _sub(config, f"P{number}", p[number])
    body = _xml(root)
    # Older firmware asks for the name without the extension first.
    return {f"cfg{mac}.xml": body, f"cfg{mac}": body}


# ------------------------------------------------------------------- Snom

_SNOM_LANGUAGES = {"en": "English", "de": "Deutsch", "pl": "Polski", "fr": "Francais",
                   "es": "Espanol", "it": "Italiano", "zh": "Chinese"}


def snom(mac: str, account: PhoneAccount, site: PhoneSite) -> dict[str, bytes]:
    """Snom D-series: `<mac>.xml`, the `<settings>` XML with idx-numbered identity settings."""
    root = _et().Element("settings")
    ps = _sub(root, "phone-settings", e="2")

    def user(tag: str, value: object) -> None:
        _sub(ps, tag, value, idx="1", perm="")

    user("user_active", "on")
    user("user_realname", account.name)
    user("user_name", account.number)
    user("user_pname", account.number)
    user("user_pass", account.secret)
    user("user_host", f"{site.sip_server}:{site.sip_port}")
    user("user_mailbox", site.voicemail_number)
    user("user_codec_priority_list", "g722,pcma,pcmu,telephone-event")
    code = snom_zone_code(site.timezone)
    if code:
        _sub(ps, "timezone", code, perm="")
    language = _SNOM_LANGUAGES.get(site.language, "English")
    _sub(ps, "language", language, perm="")
    _sub(ps, "web_language", language, perm="")
    keys = _sub(root, "functionKeys", e="2")
    for i, key in enumerate(site.keys):
        _sub(keys, "fkey", f"speed {key.code}", idx=str(i), context="active", label=key.label, perm="")
    return {f"{mac}.xml": _xml(root)}


# ------------------------------------------------------------------- Poly

_POLY_LANGUAGES = {"en": "English_United_Kingdom", "de": "German_Germany", "pl": "Polish_Poland",
                   "fr": "French_France", "es": "Spanish_Spain", "it": "Italian_Italy",
                   "zh": "Chinese_China"}


def _poly_master(config_files: str) -> bytes:
    root = _et().Element("APPLICATION", {
        "APP_FILE_PATH": "sip.ld", "CONFIG_FILES": config_files, "MISC_FILES": "",
        "LOG_FILE_DIRECTORY": "", "OVERRIDES_DIRECTORY": "", "CONTACTS_DIRECTORY": "",
        "LICENSE_DIRECTORY": "", "USER_PROFILES_DIRECTORY": "", "CALL_LISTS_DIRECTORY": "",
    })
    return _xml(root)


def _poly_dst(prefix: str, rule: DstRule) -> dict[str, str]:
    out = {f"{prefix}.month": str(rule.month),
           f"{prefix}.dayOfWeek": str(rule.weekday + 1),  # Poly counts Sunday as 1
           f"{prefix}.time": str(rule.hour)}
    if rule.week == 5:
        out[f"{prefix}.dayOfWeek.lastInMonth"] = "1"
    else:
        out[f"{prefix}.dayOfWeek.lastInMonth"] = "0"
        out[f"{prefix}.date"] = str((rule.week - 1) * 7 + 1)
    return out


def poly(mac: str, account: PhoneAccount, site: PhoneSite) -> dict[str, bytes]:
    """Poly VVX/Edge E (UC Software): masters that point at `<mac>-callbox.cfg`, and that file."""
    settings_name = f"{mac}{POLY_SETTINGS_SUFFIX}"
    root = _et().Element("polycomConfig")
    _sub(root, "reg", **{
        "reg.1.address": account.number,
        "reg.1.label": account.number,
        "reg.1.displayName": account.name,
        "reg.1.auth.userId": account.number,
        "reg.1.auth.password": account.secret,
        "reg.1.server.1.address": site.sip_server,
        "reg.1.server.1.port": str(site.sip_port),
        "reg.1.server.1.transport": "UDPOnly",
    })
    _sub(root, "msg", **{
        "msg.mwi.1.subscribe": account.number,
        "msg.mwi.1.callBackMode": "contact",
        "msg.mwi.1.callBack": site.voicemail_number,
    })
    _sub(root, "voice", **{
        "voice.codecPref.G722": "1", "voice.codecPref.G711_A": "2", "voice.codecPref.G711_Mu": "3",
        "voice.codecPref.G729_AB": "",
    })
    zone = site.timezone
    tz = {"tcpIpApp.sntp.gmtOffset": str(zone.offset_minutes * 60),
          "tcpIpApp.sntp.daylightSavings.enable": "1" if zone.has_dst else "0"}
    if zone.dst_start and zone.dst_end:
        tz["tcpIpApp.sntp.daylightSavings.fixedDayEnable"] = "0"
        tz |= _poly_dst("tcpIpApp.sntp.daylightSavings.start", zone.dst_start)
        tz |= _poly_dst("tcpIpApp.sntp.daylightSavings.stop", zone.dst_end)
    _sub(root, "tcpIpApp", **tz)
    _sub(root, "lcl", **{"lcl.ml.lang": _POLY_LANGUAGES.get(site.language, "English_United_Kingdom")})
    keys = {"feature.enhancedFeatureKeys.enabled": "1"}
    for i, key in enumerate(site.keys, start=1):
        keys |= {f"softkey.{i}.label": key.label, f"softkey.{i}.action": f"{key.code}$Tinvite$",
                 f"softkey.{i}.enable": "1", f"softkey.{i}.use.idle": "1"}
    _sub(root, "softkeys", **keys)
    return {
        f"{mac}.cfg": _poly_master(settings_name),
        POLY_MASTER: _poly_master(f"[PHONE_MAC_ADDRESS]{POLY_SETTINGS_SUFFIX}"),
        settings_name: _xml(root),
    }


# ----------------------------------------------------------------- Fanvil

_FANVIL_LANGUAGES = {"en": "en", "de": "de", "pl": "pl", "fr": "fr", "es": "es", "it": "it", "zh": "cn"}
# Fanvil codec numbers are the RTP payload types.
_FANVIL_CODECS = (("G722", 9), ("PCMA", 8), ("PCMU", 0))


def fanvil(mac: str, account: PhoneAccount, site: PhoneSite) -> dict[str, bytes]:
    """Fanvil X-series: `<mac>.cfg`, `<<VOIP CONFIG FILE>>` modules of `Name :value` lines."""
    zone = site.timezone
    sections: list[tuple[str, list[tuple[str, object]]]] = [
        ("<GLOBAL CONFIG MODULE>", [
            ("Enable SNTP", 1),
            ("Time Zone Name", f"UTC{zone.offset_text}"),
            ("Enable DST", 2 if zone.has_dst else 0),
            ("Default Language", _FANVIL_LANGUAGES.get(site.language, "en")),
        ]),
        ("<SIP CONFIG MODULE>", [
            ("--SIP Line List--", ""),
            ("SIP1 Phone Number", account.number),
            ("SIP1 Display Name", account.name),
            ("SIP1 Sip Name", account.number),
            ("SIP1 Register Addr", site.sip_server),
            ("SIP1 Register Port", site.sip_port),
            ("SIP1 Register User", account.number),
            ("SIP1 Register Pswd", account.secret),
            ("SIP1 Register TTL", 3600),
            ("SIP1 Enable Reg", 1),
            ("SIP1 MWI Num", site.voicemail_number),
            ("SIP1 DTMF Mode", 1),  # RFC 2833/4733
        ]),
        ("<MM CONFIG MODULE>", [
            (f"{position} Codec", payload) for position, (_, payload) in
            zip(("First", "Second", "Third"), _FANVIL_CODECS)
        ]),
        ("<DSS CONFIG MODULE>", [
            pair for i, key in enumerate(site.keys, start=1) for pair in (
                (f"Fkey{i} Type", 1),  # memory key
                (f"Fkey{i} Value", f"{key.code}@1/f"),  # speed dial on line 1
                (f"Fkey{i} Title", key.label),
            )
        ]),
    ]
    lines = ["<<VOIP CONFIG FILE>>Version:2.0002", ""]
    for title, pairs in sections:
        lines.append(title)
        lines += [f"{key:<19}:{clean(value)}" for key, value in pairs]
        lines.append("")
    lines.append("<<END OF FILE>>")
    return {f"{mac}.cfg": ("\r\n".join(lines) + "\r\n").encode("utf-8")}


GENERATORS: dict[Vendor, Callable[[str, PhoneAccount, PhoneSite], dict[str, bytes]]] = {
    Vendor.YEALINK: yealink,
    Vendor.GRANDSTREAM: grandstream,
    Vendor.SNOM: snom,
    Vendor.POLY: poly,
    Vendor.FANVIL: fanvil,
}


def config_files(vendor: Vendor | str, mac: str, account: PhoneAccount, site: PhoneSite) -> dict[str, bytes]:
    """Every file the phone may ask for, by lowercase file name."""
    files = GENERATORS[Vendor(vendor)](normalise_mac(mac), account, site)
    return {name.lower(): body for name, body in files.items()}


# Only the names the generators write: a model's shared file (Yealink's
# y000000000044.cfg) must not pass for a phone.
_MAC_IN_NAME = re.compile(r"^(?:cfg)?([0-9a-f]{12})(?:-callbox)?(?:\.xml|\.cfg)?$")


def mac_in_filename(filename: str) -> str | None:
    """The phone a file name belongs to, or None (Poly's shared master names no phone)."""
    m = _MAC_IN_NAME.match(filename.lower())
    if m is None or m.group(1) == "000000000000":
        return None
    try:
        return normalise_mac(m.group(1))
    except ValidationError:
        return None
