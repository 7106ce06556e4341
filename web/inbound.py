"""All inbound routes on one page (the IVR page): where a call from outside goes.

The core keeps inbound routes in two places and checks them in this order:

1. the routes of `GET /api/routes` (`inbound`): a called number (and caller) straight to an
   extension or a ring group (`extension:1001`, `ring_group:sales`);
2. the routes of the call-flow set (`GET /api/flows`, `routes`): a called number into a node
   of the flows (the menu, the opening hours).

An owner should not need to know that. The IVR page lists both in one table, in the order the
core tries them, and one form saves both: a destination `flow:<node>` is a call-flow route,
anything else (`extension:`, `ring_group:`) a direct one. The Trunks page keeps the outbound
routes only and links here.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from appliance.errors import ApiError

FLOW = "flow:"
DESTINATION = re.compile(r"^[a-z][a-z_]{0,31}:[^\s:]{1,64}$")


def inbound_rows(direct: list[dict[str, Any]] | None, flows: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per inbound route, in the order the core tries them: direct routes first (by
    priority), then the call flows' routes (by priority). Each row has did, caller,
    destination, priority, name and `kind` ("direct" or "flow")."""
    rows = [{"kind": "direct", "name": "", "did": r.get("did", ""), "caller": r.get("caller", ""),
             "destination": r.get("destination", ""), "priority": r.get("priority", 0)}
            for r in sorted(direct or [], key=lambda r: r.get("priority", 0))]
    rows += [{"kind": "flow", "name": r.get("name") or "", "did": r.get("did", ""), "caller": r.get("caller", ""),
              "destination": FLOW + str(r.get("destination", "")), "priority": r.get("priority", 10)}
             for r in sorted((flows or {}).get("routes") or [], key=lambda r: r.get("priority", 10))]
    return rows


def rows_from_form(form) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The rows the form sent (removed and empty ones dropped) and {row: problem} for rows whose
    destination or priority is not even shaped right; the core judges the rest."""
    def value(name: str) -> str:
        return (form.getunicode(name) or "").strip()

    rows, problems = [], {}
    for i in range(int(value("route-count") or 0)):
        if value(f"route-remove-{i}") or not (value(f"route-did-{i}") or value(f"route-destination-{i}")):
            continue
        row: dict[str, Any] = {"did": value(f"route-did-{i}"), "caller": value(f"route-caller-{i}"),
                               "destination": value(f"route-destination-{i}"),
                               "name": value(f"route-name-{i}"), "priority": value(f"route-priority-{i}")}
        if not DESTINATION.match(row["destination"]):
            problems[len(rows)] = "destination"
        if row["priority"]:
            try:
                row["priority"] = int(row["priority"])
            except ValueError:
                problems[len(rows)] = "priority"
        rows.append(row)
    return rows, problems


def split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(direct routes as PUT /api/routes takes them, call-flow routes as the flow set has them)."""
    direct, flow = [], []
    for row in rows:
        if row["destination"].startswith(FLOW):
            route = {"name": row["name"] or None, "did": row["did"], "caller": row["caller"],
                     "destination": row["destination"][len(FLOW):],
                     "priority": row["priority"] if row["priority"] != "" else 10}
            flow.append(route)
        else:
            route = {"did": row["did"], "destination": row["destination"]}
            if row["caller"]:
                route["caller"] = row["caller"]
            if row["priority"] != "":
                route["priority"] = row["priority"]
            direct.append(route)
    return direct, flow


def save(api, rows: list[dict[str, Any]], current_routes: dict[str, Any],
         flows: dict[str, Any] | None) -> dict[str, Any]:
    """Save the rows: the call flows' routes with `PUT /api/flows`, the direct ones with
    `PUT /api/routes` (the outbound routes kept as they are). Only what changed is sent. When the
    second save is refused the first is put back, so the two never disagree with the page.
    Returns what was saved ({"flows": version or None, "direct": n, "flow": n}); raises
    FlowRejected or ApiError with the core's reason."""
    direct, flow = split(rows)
    flows_changed = flows is not None and flow != [dict(r) for r in flows.get("routes") or []]
    if flow and flows is None:
        raise ApiError(409, "there are no call flows yet: the set-up wizard makes the first")
    direct_changed = direct != [_plain(r) for r in current_routes.get("inbound") or []]
    version = None
    if flows_changed:
        proposed = copy.deepcopy(flows)
        proposed["routes"] = flow
        version = api.put_flows(proposed).get("version")
    if direct_changed:
        try:
            api.put_routes({"outbound": current_routes.get("outbound") or [], "inbound": direct})
        except ApiError:
            if flows_changed:
                api.put_flows(flows)
            raise
    return {"flows": version, "direct": len(direct), "flow": len(flow)}


def _plain(route: dict[str, Any]) -> dict[str, Any]:
    out = {"did": route.get("did", ""), "destination": route.get("destination", "")}
    if route.get("caller"):
        out["caller"] = route["caller"]
    if "priority" in route:
        out["priority"] = route["priority"]
    return out

