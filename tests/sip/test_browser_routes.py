"""Browser routes: the edge's URI that leads to one browser connection, signed with its key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.sip.browser_routes import PARAM, browser_route, connection_of, names_edge_route, route_of_request, route_value
from appliance.sip.message import SipMessage
from appliance.sip.source import Source

KEY = b"k" * 32
BROWSER = Source("wss", "192.168.1.55", 51234)


def _request(uri: str, route: str | None = None) -> SipMessage:
    headers = [("Via", "SIP/2.0/UDP 192.168.1.10:5080;branch=z9hG4bK1"), ("Call-ID", "c1"), ("CSeq", "1 INVITE")]
    if route is not None:
        headers.append(("Route", route))
    return SipMessage.request("INVITE", uri, headers)


def test_a_route_names_its_connection_and_only_the_key_makes_one():
    value = route_value(KEY, BROWSER)
    assert connection_of(KEY, value) == BROWSER
    assert connection_of(b"x" * 32, value) is None                      # another start of the box
    ip, port, mac = value.split("~")
    assert connection_of(KEY, f"{ip}~{int(port) + 1}~{mac}") is None    # another browser's connection
    assert connection_of(KEY, f"192.168.1.66~{port}~{mac}") is None


@pytest.mark.parametrize("value", ["", "~", "a~b~c", "1.2.3.4~x~00", "1.2.3.4~5~6~7", "é~1~2"])
def test_malformed_values_name_nothing(value):
    assert connection_of(KEY, value) is None


@given(st.text(max_size=80))
def test_no_value_makes_connection_of_raise(value):
    connection_of(KEY, value)


def test_a_request_names_its_browser_in_the_request_uri_or_in_the_top_route():
    route = browser_route(KEY, BROWSER, "192.168.1.10:5060", "1001")
    assert route.startswith("sip:1001@192.168.1.10:5060;") and f"{PARAM}=" in route
    assert route_of_request(KEY, _request(route)) == (BROWSER, True)
    in_dialog = _request("sip:x9k2@df7jal23ls0d.invalid;transport=ws",
                         f"<{browser_route(KEY, BROWSER, '192.168.1.10:5060')};lr>")
    assert route_of_request(KEY, in_dialog) == (BROWSER, False)
    assert route_of_request(KEY, _request("sip:1001@192.168.1.10:5060")) is None
    assert route_of_request(KEY, _request("sip:1001@192.168.1.10:5060", "<sip:192.168.1.10;lr>")) is None
    assert route_of_request(b"x" * 32, _request(route)) is None
    assert names_edge_route(f"<{route};lr>") and not names_edge_route("<sip:10.0.0.1;lr>")
    assert not names_edge_route("<<garbage")
