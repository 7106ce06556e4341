"""What a REFER's Refer-To asks for, read once for the extension calls and the queue calls."""

from appliance.transfers import refer_target


def test_a_blind_transfer_names_a_number_and_no_call_to_join():
    assert refer_target("<sip:1002@10.231.0.1>") == ("1002", "")
    assert refer_target("sip:1002@box.local;transport=ws") == ("1002", "")


def test_an_attended_transfer_names_the_consultation_call():
    target = "<sip:1003@10.231.0.1?Replaces=abc%40desk%3Bto-tag%3D1%3Bfrom-tag%3D2>"
    assert refer_target(target) == ("1003", "abc@desk")


def test_what_is_not_a_sip_uri_asks_for_nothing():
    assert refer_target("<not a uri") is None
    assert refer_target("") is None
