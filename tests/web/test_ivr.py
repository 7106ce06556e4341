"""The IVR editor through the WSGI app, against the fake control API and the core's validator."""

from __future__ import annotations

import re

from appliance.logic.flows.template import default_flows

HOURS = {"mon": [("09:00", "17:00")], "fri": [("09:00", "15:00")]}


def _box(fake_api) -> None:
    fake_api.queues["sales"] = {"name": "sales"}
    fake_api.queues["support"] = {"name": "support"}
    fake_api.extensions["100"] = {"number": "100", "name": "Operator", "secret": "s" * 16,
                                  "class_of_service": "national", "voicemail": True}
    flows = default_flows(HOURS, "sales", "100", timezone="Europe/Warsaw").to_dict()
    fake_api.flow_versions.append(flows)


def _node_block(html: str, node_id: str) -> str:
    """The tree's entry for one node: from its box to the end of its problem list."""
    match = re.search(rf'<div class="flow-node[^"]*" id="node-{node_id}".*?</div>', html, re.S)
    assert match, f"node {node_id} is not drawn"
    return match.group(0)


def test_without_flows_the_editor_points_to_the_wizard(admin, fake_api):
    page = admin.get("/ivr")
    assert page.status == 200 and 'href="/wizard"' in page.text


def test_the_tree_runs_from_routes_through_nodes_to_destinations(admin, fake_api):
    _box(fake_api)
    page = admin.get("/ivr").text
    route = page.index("All calls")
    order = [page.index(f'id="node-{n}"') for n in ("business_hours", "main_menu", "sales")]
    assert route < order[0] < order[1] < order[2]
    assert "press 1 →" in page and "closed →" in page
    assert "mon 09:00-17:00" in page
    for node in ("business_hours", "main_menu", "sales", "support", "operator",
                 "closed_greeting", "closed_voicemail"):
        assert f'href="/ivr/nodes/{node}"' in page, node


def test_editing_a_node_saves_the_whole_set(admin, fake_api):
    _box(fake_api)
    form = admin.get("/ivr/nodes/main_menu")
    assert "1 sales" in form.text and 'name="timeout_s"' in form.text
    reply = admin.post("/ivr/nodes/main_menu", {
        "csrf_token": form.csrf(), "label": "Main menu", "prompt": "main-menu",
        "choices": "1 support\n2 sales\n0 operator", "timeout_s": "7", "retries": "1",
        "invalid_destination": "operator", "timeout_destination": ""})
    assert (reply.status, reply.location) == (303, "/ivr")
    saved = fake_api.flow_versions[-1]
    assert saved["version"] == 2
    menu = saved["nodes"]["main_menu"]
    assert menu["choices"] == {"0": "operator", "1": "support", "2": "sales"}
    assert menu["timeout_s"] == 7 and menu["retries"] == 1
    assert set(saved["nodes"]) == set(fake_api.flow_versions[0]["nodes"])
    assert fake_api.audit[0]["action"] == "flows_saved"


def test_a_rejected_edit_shows_the_problem_next_to_the_node_and_saves_nothing(admin, fake_api):
    _box(fake_api)
    form = admin.get("/ivr/nodes/sales")
    reply = admin.post("/ivr/nodes/sales", {"csrf_token": form.csrf(), "label": "Sales",
                                            "queue": "no-such-queue"})
    assert reply.status == 400
    assert len(fake_api.flow_versions) == 1
    sales = _node_block(reply.text, "sales")
    assert "has-problem" in sales and "no-such-queue" in sales
    assert "no-such-queue" not in _node_block(reply.text, "support")
    assert 'class="field-error" id="n-queue-error"' in reply.text  # and next to the field
    assert 'value="no-such-queue"' in reply.text  # the input is kept


def test_a_loop_is_refused_and_marked_on_the_looping_node(admin, fake_api):
    _box(fake_api)
    form = admin.get("/ivr/nodes/closed_greeting")
    reply = admin.post("/ivr/nodes/closed_greeting", {
        "csrf_token": form.csrf(), "prompt": "closed-greeting", "next": "closed_greeting"})
    assert reply.status == 400
    assert "loop" in _node_block(reply.text, "closed_greeting")


def test_adding_a_node_and_deleting_one_still_in_use(admin, fake_api):
    _box(fake_api)
    page = admin.get("/ivr")
    reply = admin.post("/ivr/nodes", {"csrf_token": page.csrf(), "id": "bye", "kind": "hangup"})
    assert reply.location == "/ivr/nodes/bye?kind=hangup"
    form = admin.get(reply.location)
    assert form.status == 200 and "New hangup node" in form.text
    reply = admin.post("/ivr/nodes/bye", {"csrf_token": form.csrf(), "kind": "hangup",
                                          "label": "Good bye"})
    assert reply.status == 303
    assert fake_api.flow_versions[-1]["nodes"]["bye"]["label"] == "Good bye"
    assert "Nodes no route reaches" in admin.get("/ivr").text

    reply = admin.post("/ivr/nodes/sales/delete", {"csrf_token": form.csrf()})
    assert reply.status == 400 and "was not deleted" in reply.text
    assert "sales" in fake_api.flow_versions[-1]["nodes"]
    assert "has-problem" in _node_block(reply.text, "main_menu")
    reply = admin.post("/ivr/nodes/bye/delete", {"csrf_token": form.csrf()})
    assert reply.status == 303 and "bye" not in fake_api.flow_versions[-1]["nodes"]


def test_a_malformed_field_is_caught_before_asking_the_core(admin, fake_api):
    _box(fake_api)
    form = admin.get("/ivr/nodes/main_menu")
    requests_before = len(fake_api.requests)
    reply = admin.post("/ivr/nodes/main_menu", {
        "csrf_token": form.csrf(), "prompt": "main-menu", "choices": "1",
        "timeout_s": "soon", "invalid_destination": "operator"})
    assert reply.status == 400
    assert "must be a number" in reply.text and "write the digit, a space and the node" in reply.text
    assert ("PUT", "/api/flows") not in fake_api.requests[requests_before:]
