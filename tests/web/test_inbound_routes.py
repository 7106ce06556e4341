"""Every inbound route on one page: the IVR page lists the routes straight to an extension or a
ring group (which the core tries first) and the call flows' routes in one table, in the order the
core tries them, and one form saves both. The Trunks page keeps the outbound routes only."""

from __future__ import annotations

import re

from tests.web.test_ivr import _box


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(kind, called number, destination) of each row of the inbound table, top to bottom."""
    table = page.split('id="inbound-routes"', 1)[1].split("</table>", 1)[0]
    out = []
    for kind, row in re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', table, re.S):
        did = re.search(r'name="route-did-\d+" value="([^"]*)"', row).group(1)
        dest = re.search(r'name="route-destination-\d+" value="([^"]*)"', row).group(1)
        out.append((kind, did, dest))
    return out


def _form(page, rows: list[dict]) -> dict:
    form = {"route-count": str(len(rows))}
    for i, r in enumerate(rows):
        for key, value in r.items():
            form[f"route-{key}-{i}"] = value
    return form


def test_both_kinds_of_inbound_route_are_one_table_in_the_order_the_core_tries_them(admin, fake_api):
    _box(fake_api)
    fake_api.routes["inbound"] = [{"did": "+48221234567", "destination": "extension:100", "priority": 5}]
    page = admin.get("/ivr").text
    assert _rows(page) == [("direct", "+48221234567", "extension:100"),
                           ("flow", "", "flow:business_hours"), ("new", "", "")]
    # The Trunks page no longer edits them: it says where they are.
    trunks = admin.get("/trunks").text
    assert 'name="in-did-0"' not in trunks and 'href="/ivr#inbound-routes"' in trunks


def test_one_save_writes_the_direct_routes_and_the_call_flows_routes(admin, fake_api):
    _box(fake_api)
    rows = [{"did": "+48221234567", "destination": "extension:100", "priority": "5"},
            {"did": "", "destination": "flow:business_hours", "priority": "10", "name": "All calls"},
            {"did": "+48221230000", "destination": "flow:main_menu", "priority": "1", "name": "Menu line"}]
    reply = admin.submit("/ivr", "/ivr/routes", _form(None, rows))
    assert reply.status == 303, reply.text[:2000]
    assert fake_api.routes["inbound"] == [{"did": "+48221234567", "destination": "extension:100", "priority": 5}]
    flows = fake_api.flow_versions[-1]
    assert [(r["did"], r["destination"], r["priority"]) for r in flows["routes"]] == [
        ("", "business_hours", 10), ("+48221230000", "main_menu", 1)]
    assert fake_api.audit[0]["action"] == "routes_changed"
    page = admin.get("/ivr").text
    assert _rows(page)[:3] == [("direct", "+48221234567", "extension:100"),
                               ("flow", "+48221230000", "flow:main_menu"), ("flow", "", "flow:business_hours")]
    # Saving outbound routes on the Trunks page keeps the inbound ones.
    admin.submit("/trunks", "/trunks", {"name": "op", "kind": "peer", "host": "192.168.1.20", "port": "",
                                        "transport": "udp", "username": "", "secret": "", "dids": "",
                                        "caller_id_number": ""})
    assert admin.submit("/trunks", "/routes", {"out-count": "1", "out-name-0": "national",
                                               "out-patterns-0": "0XXXXXXXXX", "out-trunks-0": "op"}).status == 303
    assert fake_api.routes["inbound"] == [{"did": "+48221234567", "destination": "extension:100", "priority": 5}]
    assert fake_api.routes["outbound"][0]["name"] == "national"


def test_a_route_into_a_node_that_does_not_exist_saves_nothing(admin, fake_api):
    _box(fake_api)
    versions = len(fake_api.flow_versions)
    rows = [{"did": "+48221234567", "destination": "extension:100"},
            {"did": "", "destination": "flow:nowhere", "name": "All calls"}]
    reply = admin.submit("/ivr", "/ivr/routes", _form(None, rows))
    assert reply.status == 400 and "nothing was saved" in reply.text and "nowhere" in reply.text
    assert len(fake_api.flow_versions) == versions and fake_api.routes["inbound"] == []
    assert 'value="flow:nowhere"' in reply.text  # the rows are kept for correction


def test_a_refused_direct_route_puts_the_call_flows_back(admin, fake_api):
    _box(fake_api)
    before = fake_api.flow_versions[-1]["routes"]
    rows = [{"did": "+48221230000", "destination": "flow:main_menu", "name": "Menu line"},
            {"did": "12(", "destination": "extension:100"}]  # a pattern the core refuses
    reply = admin.submit("/ivr", "/ivr/routes", _form(None, rows))
    assert reply.status == 400 and "nothing was saved" in reply.text
    assert fake_api.flow_versions[-1]["routes"] == before and fake_api.routes["inbound"] == []


def test_a_destination_without_a_kind_is_refused_on_the_page(admin, fake_api):
    _box(fake_api)
    reply = admin.submit("/ivr", "/ivr/routes", _form(None, [{"did": "1", "destination": "100"}]))
    assert reply.status == 400 and 'aria-invalid="true"' in reply.text
    assert fake_api.routes["inbound"] == []


def test_without_call_flows_the_direct_routes_still_save(admin, fake_api):
    reply = admin.submit("/ivr", "/ivr/routes", _form(None, [{"did": "1", "destination": "extension:1001"}]))
    assert reply.status == 303
    assert fake_api.routes["inbound"] == [{"did": "1", "destination": "extension:1001"}]
