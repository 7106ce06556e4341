from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.provisioning.macs import Vendor, display_mac, guess_vendor, is_mac, normalise_mac


@pytest.mark.parametrize("written", [
    "00:15:65:AB:CD:EF", "00-15-65-ab-cd-ef", "0015.65ab.cdef", "001565ABCDEF", " 00 15 65 ab cd ef ",
])
def test_every_common_spelling_normalises_to_one_form(written):
    assert normalise_mac(written) == "001565abcdef"


@pytest.mark.parametrize("bad", [
    "", "001565abcde", "001565abcdef0", "00:15:65:ab:cd:eg", "000000000000", "ffffffffffff",
    "01005e000001",  # a multicast address
    "../../etc/pa", None, 1565,
])
def test_what_is_not_a_phone_mac_is_refused(bad):
    with pytest.raises(ValidationError):
        normalise_mac(bad)
    assert not is_mac(bad) if isinstance(bad, str) else True


def test_display_form_is_the_label_on_the_phone():
    assert display_mac("001565abcdef") == "00:15:65:AB:CD:EF"


@given(st.binary(min_size=6, max_size=6).filter(lambda b: not b[0] & 1 and b not in (b"\0" * 6, b"\xff" * 6)))
def test_normalising_a_display_form_gives_the_hex_back(raw):
    mac = raw.hex()
    assert normalise_mac(display_mac(mac)) == mac


@pytest.mark.parametrize("mac,agent,filename,vendor", [
    ("001565abcdef", "Yealink SIP-T46U 108.86.0.20 00:15:65:ab:cd:ef", "001565abcdef.cfg", Vendor.YEALINK),
    ("000b82123456", "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82123456", "cfg000b82123456.xml",
     Vendor.GRANDSTREAM),
    ("000413aabbcc", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13)", "000413AABBCC.xml", Vendor.SNOM),
    ("64167f010203", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018", "64167f010203.cfg", Vendor.POLY),
    ("0c383e112233", "Fanvil X4U 2.12.1", "0c383e112233.cfg", Vendor.FANVIL),
    # No User-Agent: the file name, then the maker's OUI.
    ("aa0000000001", "", "cfgaa0000000001.xml", Vendor.GRANDSTREAM),
    ("0c383e112233", "", "0c383e112233.cfg", Vendor.FANVIL),
    ("aa0000000001", "", "aa0000000001.cfg", None),
])
def test_vendor_is_guessed_from_what_the_phone_sent(mac, agent, filename, vendor):
    assert guess_vendor(mac, agent, filename) is vendor
