"""One namespace of numbers through the API of a real core: extensions, ring groups, shared voicemail
boxes, feature codes and the numbers of call-flow routes never collide, and the refusal names the owner."""

from __future__ import annotations

from appliance.logic.flows import default_flows


def _flows(*routes: dict) -> dict:
    flows = default_flows({"mon": [("09:00", "17:00")]}, "sales", "1001", support_queue=None,
                          operator=None).to_dict()
    flows["routes"] = [*routes, *flows["routes"]]
    return flows


def _route(name: str, did: str) -> dict:
    return {"name": name, "did": did, "caller": "", "priority": 5, "destination": "business_hours"}


def test_every_path_keeps_numbers_apart(core):
    core.add_extension("1001")
    assert core.api("POST", "/api/queues", {"name": "sales"})[0] == 201
    status, body = core.api("PUT", "/api/flows", _flows(_route("main", "500"), _route("night", "_8XX")))
    assert status == 200, body

    # The day-one incident: extension 500 while a route answers 500.
    status, body = core.api("POST", "/api/extensions", {"number": "500", "name": "Oops"})
    assert status == 409 and body["error"] == "number: 500 is already the number of call-flow route 'main'"
    status, body = core.api("POST", "/api/extensions", {"number": "801", "name": "Oops"})
    assert status == 409 and "call-flow route 'night' (its pattern _8XX)" in body["error"]
    assert [e["number"] for e in core.api("GET", "/api/extensions")[1]["extensions"]] == ["1001"]

    # Ring groups: not a route's number, nor an extension's.
    status, body = core.api("POST", "/api/ring-groups", {"name": "office", "number": "500", "members": ["1001"]})
    assert status == 409 and body["error"] == "number: 500 is already the number of call-flow route 'main'"
    status, body = core.api("POST", "/api/ring-groups", {"name": "office", "number": "1001", "members": ["1001"]})
    assert status == 409 and body["error"] == "number: 1001 is already the number of extension 1001"
    assert core.api("POST", "/api/ring-groups", {"name": "office", "number": "600", "members": ["1001"]})[0] == 201
    status, body = core.api("POST", "/api/extensions", {"number": "600", "name": "Oops"})
    assert status == 409 and body["error"] == "number: 600 is already the number of ring group 'office'"

    # A shared voicemail box takes a number of its own; an extension's own box does not.
    assert core.api("PATCH", "/api/voicemail/1001", {"email": "anna@example.com"})[0] == 200
    assert core.api("PATCH", "/api/voicemail/650", {"email": "team@example.com"})[0] == 200
    status, body = core.api("POST", "/api/extensions", {"number": "650", "name": "Oops"})
    assert status == 409 and body["error"] == "number: 650 is already the number of voicemail box 650"
    status, body = core.api("PATCH", "/api/voicemail/500", {"email": "x@example.com"})
    assert status == 409 and body["error"] == "box: 500 is already the number of call-flow route 'main'"

    # Routes: not an extension's, a group's, a box's number, nor a feature code; the set is refused whole.
    for did, owner in (("1001", "extension 1001"), ("600", "ring group 'office'"), ("650", "voicemail box 650"),
                       ("*97", "feature code *97 (your own voicemail)")):
        status, body = core.api("PUT", "/api/flows", _flows(_route("main", "500"), _route("new", did)))
        assert status == 400, body
        assert body["problems"] == [{"where": "route", "id": "new", "field": "did",
                                     "reason": f"{did} is already the number of {owner}",
                                     "message": f"route 'new': did {did} is already the number of {owner}"}]
    status, body = core.api("PUT", "/api/flows", _flows(_route("main", "500"), _route("sixes", "_6XX")))
    assert status == 400 and "_6XX would take 600, which is already the number of ring group 'office'" \
        in body["error"]
    assert [r["did"] for r in core.api("GET", "/api/flows")[1]["routes"]] == ["500", "_8XX", ""]
    # Saving the routes it has again is no clash with itself.
    assert core.api("PUT", "/api/flows", core.api("GET", "/api/flows")[1])[0] == 200
