"""The contact center: queues and agents, call flows (IVR, business hours), the queue log and
ring groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import Route, body, no_content
from appliance.errors import FlowInvalid

if TYPE_CHECKING:
    from appliance.center_admin import CenterAdmin
    from appliance.ring_groups import RingGroups
    from appliance.store.records import MonthlyLog

TITLE = "The contact center: queues, agents, call flows, ring groups"

ROUTES = (
    Route("GET", "/api/queues", "list_queues",
          '`{"queues": [{name, strategy, survey, waiting, longest_wait_s, members}]}`'),
    Route("POST", "/api/queues", "create_queue",
          "a queue: `{name, strategy?, ring_timeout_s?, wrap_up_s?, max_callers?, max_wait_s?, overflow_to? "
          '("extension:1001", "voicemail:1005"), join_empty?, leave_when_empty?, announce_position_every_s?, '
          "announce_agent?, callback_enabled?, callback_retries?, callback_retry_delay_s?, vip_numbers?, "
          "skills_required?, auto_answer?, survey?}` (see `acd.md`) → `201`"),
    Route("PATCH", "/api/queues/{name}", "change_queue",
          "change some of a queue's settings (same fields as above, not `name`): the stored queue as it is now; "
          "callers and members stay", shown="/api/queues/<name>"),
    Route("GET", "/api/agents", "list_agents",
          '`{"agents": [{extension, name, status, state, break_reason, queues}]}`'),
    Route("POST", "/api/agents/{ext}", "create_agent",
          "make an extension an agent: `{queues: [..] or {name: level}, skills?}` → `201`"),
    Route("POST", "/api/agents/{ext}/{action}", "agent_action",
          "change the agent's status: `login`, `logout`, `available`, or `break` with `{reason}`",
          shown="/api/agents/<ext>/login\\|logout\\|available\\|break"),
    Route("GET", "/api/flows", "get_flows", "the active call-flow set (`404` before the first)"),
    Route("PUT", "/api/flows", "put_flows",
          "a whole flow set (`call-flows.md`): `{version, warnings}`, or `400` with "
          "`problems: [{where, id, field, reason, message}]` naming the node; nothing changes on error"),
    Route("PUT", "/api/flows/override", "flow_override",
          "`{node, override: auto\\|force_open\\|force_closed}`: a time condition forced open or closed by hand "
          "(kept across restarts; the front panel's night switch closes those that follow night mode)"),
    Route("GET", "/api/queue-log", "queue_log",
          '`{"events": [...]}` newest first (the lines `statistics.md` reads)'),
    Route("GET", "/api/ring-groups", "list_ring_groups",
          '`{"ring_groups": [{name, number?, members, strategy: ringall\\|hunt, ring_timeout_s}]}`'),
    Route("POST", "/api/ring-groups", "create_ring_group",
          "`{name, number?, members, strategy: ringall\\|hunt, ring_timeout_s}` → `201`"),
    Route("DELETE", "/api/ring-groups/{name}", "delete_ring_group", "`204`"),
)


class CenterRoutes:
    def __init__(self, center_admin: "CenterAdmin", queue_log: "MonthlyLog", ring_groups: "RingGroups") -> None:
        self.admin = center_admin
        self.log = queue_log
        self.ring_groups = ring_groups

    async def list_queues(self, request: web.Request) -> web.Response:
        return web.json_response({"queues": self.admin.queues()})

    async def create_queue(self, request: web.Request) -> web.Response:
        return web.json_response(self.admin.create_queue(await body(request)), status=201)

    async def change_queue(self, request: web.Request) -> web.Response:
        return web.json_response(self.admin.change_queue(request.match_info["name"], await body(request)))

    async def list_agents(self, request: web.Request) -> web.Response:
        return web.json_response({"agents": self.admin.agents()})

    async def create_agent(self, request: web.Request) -> web.Response:
        return web.json_response(self.admin.create_agent(request.match_info["ext"], await body(request)), status=201)

    async def agent_action(self, request: web.Request) -> web.Response:
        data = await body(request) if request.can_read_body else {}
        return web.json_response(self.admin.agent_action(request.match_info["ext"], request.match_info["action"], data))

    async def get_flows(self, request: web.Request) -> web.Response:
        return web.json_response(self.admin.get_flows())

    async def put_flows(self, request: web.Request) -> web.Response:
        try:
            return web.json_response(self.admin.put_flows(await body(request)))
        except FlowInvalid as e:
            return web.json_response({"error": str(e), "problems": [
                {"where": p.where, "id": p.id, "field": p.field, "reason": p.reason, "message": str(p)}
                for p in e.problems]}, status=400)

    async def flow_override(self, request: web.Request) -> web.Response:
        return web.json_response(self.admin.set_flow_override(await body(request)))

    async def queue_log(self, request: web.Request) -> web.Response:
        return web.json_response({"events": self.log.query(None, None, limit=200)})

    async def list_ring_groups(self, request: web.Request) -> web.Response:
        return web.json_response({"ring_groups": self.ring_groups.all()})

    async def create_ring_group(self, request: web.Request) -> web.Response:
        return web.json_response(self.ring_groups.create(await body(request)), status=201)

    async def delete_ring_group(self, request: web.Request) -> web.Response:
        self.ring_groups.delete(request.match_info["name"])
        return no_content()
