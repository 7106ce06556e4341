"""The IVR editor: the call-flow set as a tree, one node edited at a time, saved whole.

The core judges every save (PUT /api/flows validates the whole set); what it
refuses comes back as problems naming a node and a field, and the page puts
each one next to the node and the field it names, with nothing saved.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import bottle
from bottle import HTTPError, request, response

from appliance.errors import ApiError, FlowRejected
from appliance.logic.flows.model import NodeKind
from web.kit import (_, Role, WebState, ask_core, flow_tree, inbound_rows, inbound_rows_from_form,
                     node_form, notice, parse_node_form, problems_by_node, render, require,
                     save_inbound, see_other)

NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KINDS = [k.value for k in NodeKind]


def _flows(api) -> dict[str, Any] | None:
    """The active flow set, or None when none was saved yet."""
    try:
        return ask_core(api.flows)
    except HTTPError as exc:
        if exc.status_code == 404:
            return None
        raise


def _field_of(problem: dict[str, Any]) -> str:
    return re.split(r"[.\[ ]", str(problem.get("field") or ""), maxsplit=1)[0]


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the IVR editor to the app."""

    def _tree_page(flows: dict | None, problems: list[dict] | None = None,
                   error: str | None = None, rows: list[dict] | None = None,
                   routes_error: str | None = None, bad_rows: dict[int, str] | None = None) -> str:
        by_node, other = problems_by_node(problems or [])
        routes, orphans = flow_tree(flows or {}, by_node)
        if rows is None:
            rows = inbound_rows(_direct_routes(state.api).get("inbound"), flows)
        return render("ivr.tpl", title=_("IVR"), flows=flows, routes=routes, orphans=orphans,
                      other_problems=other, kinds=KINDS, error=error, inbound=rows,
                      routes_error=routes_error, bad_rows=bad_rows or {})

    def _node_page(flows: dict, node_id: str, kind: str, node: dict,
                   submitted: dict | None = None, errors: dict | None = None,
                   problems: list[dict] | None = None, error: str | None = None,
                   is_new: bool = False) -> str:
        by_node, other = problems_by_node(problems or [])
        routes, orphans = flow_tree(flows, by_node)
        ids = sorted(set(flows.get("nodes") or {}) | {node_id})
        return render("ivr_node.tpl", title=_("IVR node {node_id}", node_id=node_id), node_id=node_id, kind=kind,
                      fields=node_form(kind, node, ids, submitted), errors=errors or {},
                      node_problems=by_node.get(node_id, []), other_problems=other,
                      routes=routes, orphans=orphans, error=error, is_new=is_new)

    @app.get("/ivr")
    @require(Role.ADMIN)
    def ivr(api):
        return _tree_page(_flows(api))

    @app.post("/ivr/routes")
    @require(Role.ADMIN)
    def save_routes(api, user):
        """Every inbound route in one form: direct ones to the core's routes, flow ones into the
        call-flow set (web/inbound.py)."""
        flows = _flows(api)
        try:
            rows, bad = inbound_rows_from_form(request.forms)
        except ValueError:
            raise HTTPError(400, _("The form was incomplete; reload the page."))
        shown = [dict(r, kind="flow" if r["destination"].startswith("flow:") else "direct") for r in rows]
        if bad:
            response.status = 400
            return _tree_page(flows, rows=shown, bad_rows=bad, routes_error=_(
                "A destination is a kind and a name: extension:1001, ring_group:sales or flow:main_menu "
                "(a node of the call flows). Nothing was saved."))
        try:
            saved = save_inbound(api, rows, _direct_routes(api), flows)
        except FlowRejected as exc:
            response.status = 400
            return _tree_page(flows, rows=shown, routes_error=_(
                "The core refused the routes; nothing was saved: {reason}", reason=exc.message))
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            response.status = 400
            return _tree_page(flows, rows=shown, routes_error=_(
                "The core refused the routes; nothing was saved: {reason}", reason=exc.message))
        state.audit(user.username, "routes_changed",
                    f"inbound: {saved['direct']} direct, {saved['flow']} into the call flows"
                    + (f", flows version {saved['flows']}" if saved["flows"] else ""))
        notice(_("The inbound routes were saved."))
        raise see_other("/ivr#inbound-routes")

    @app.post("/ivr/nodes")
    @require(Role.ADMIN)
    def new_node(api):
        node_id = (request.forms.getunicode("id") or "").strip()
        kind = request.forms.getunicode("kind") or ""
        flows = _flows(api)
        if flows is None:
            raise HTTPError(409, _("There are no call flows yet: the set-up wizard makes the first."))
        if not NODE_ID.match(node_id) or kind not in KINDS:
            response.status = 400
            return _tree_page(flows, error=_("A node needs an id of 1-64 letters, digits, "
                                             "'-' or '_', and a kind."))
        if node_id in (flows.get("nodes") or {}):
            response.status = 409
            return _tree_page(flows, error=_("There is a node {node_id} already.", node_id=node_id))
        raise see_other(f"/ivr/nodes/{node_id}?kind={kind}")

    @app.get("/ivr/nodes/<node_id>")
    @require(Role.ADMIN)
    def edit_node(api, node_id):
        flows = _flows(api)
        if flows is None:
            raise HTTPError(404, _("There are no call flows yet."))
        node = (flows.get("nodes") or {}).get(node_id)
        if node is None:
            kind = request.query.getunicode("kind") or ""
            if not NODE_ID.match(node_id) or kind not in KINDS:
                raise HTTPError(404, _("There is no node {node_id}.", node_id=node_id))
            return _node_page(flows, node_id, kind, {}, is_new=True)
        return _node_page(flows, node_id, str(node.get("kind")), node)

    @app.post("/ivr/nodes/<node_id>")
    @require(Role.ADMIN)
    def save_node(api, user, node_id):
        flows = _flows(api)
        if flows is None or not NODE_ID.match(node_id):
            raise HTTPError(404, _("There are no call flows yet."))
        old = (flows.get("nodes") or {}).get(node_id)
        kind = str(old.get("kind")) if old else (request.forms.getunicode("kind") or "")
        if kind not in KINDS:
            raise HTTPError(400, _("Unknown node kind {kind}.", kind=repr(kind)))
        form = {k: request.forms.getunicode(k) for k in request.forms.keys()}
        node, errors, submitted = parse_node_form(kind, form)
        if errors:
            response.status = 400
            return _node_page(flows, node_id, kind, old or {}, submitted, errors,
                              error=_("Nothing was saved: fix the fields marked below."),
                              is_new=old is None)
        proposed = copy.deepcopy(flows)
        proposed.setdefault("nodes", {})[node_id] = node
        try:
            result = api.put_flows(proposed)
        except FlowRejected as exc:
            response.status = 400
            field_errors = {_field_of(p): p.get("reason") or p.get("message")
                            for p in exc.problems
                            if p.get("where") == "node" and p.get("id") == node_id}
            return _node_page(proposed, node_id, kind, old or {}, submitted, field_errors,
                              problems=exc.problems, is_new=old is None,
                              error=_("The core refused the change; nothing was saved. "
                                      "The problems are shown next to the nodes below."))
        except ApiError as exc:
            _refused(exc)
        state.audit(user.username, "flows_saved", f"node {node_id} "
                    f"({'added' if old is None else 'changed'}), version {result.get('version')}")
        _saved(result)
        raise see_other(f"/ivr#node-{node_id}")

    @app.post("/ivr/nodes/<node_id>/delete")
    @require(Role.ADMIN)
    def delete_node(api, user, node_id):
        flows = _flows(api)
        if flows is None or node_id not in (flows.get("nodes") or {}):
            raise HTTPError(404, _("There is no node {node_id}.", node_id=node_id))
        proposed = copy.deepcopy(flows)
        del proposed["nodes"][node_id]
        try:
            result = api.put_flows(proposed)
        except FlowRejected as exc:
            response.status = 400
            # Draw the set as it is: the problems name the nodes that still point to it.
            return _tree_page(flows, exc.problems,
                              error=_("Node {node_id} was not deleted: other nodes still send "
                                      "calls to it (marked below).", node_id=node_id))
        except ApiError as exc:
            _refused(exc)
        state.audit(user.username, "flows_saved",
                    f"node {node_id} deleted, version {result.get('version')}")
        _saved(result)
        raise see_other("/ivr")


def _direct_routes(api) -> dict[str, Any]:
    """The core's routes document ({"outbound", "inbound"}); empty when it has none to give."""
    try:
        return api.routes() or {}
    except ApiError as exc:
        if exc.status == 0 or exc.status >= 500:
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        return {}


def _refused(exc: ApiError) -> None:
    if exc.status == 0 or exc.status >= 500:
        raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
    raise HTTPError(400, exc.message)


def _saved(result: dict[str, Any]) -> None:
    warnings = result.get("warnings") or []
    notice(_("Saved as version {version}.", version=result.get("version"))
           + (" " + _("Warnings: {warnings}", warnings="; ".join(warnings)) if warnings else ""))
