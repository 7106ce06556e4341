"""`callbox core`: the brain, and the only writer of the data directory.

The composition root: it builds every service on one asyncio loop and hands
each the narrow ports it needs (`appliance.ports`), never itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.errors import NotFound, SettingError, SipParseError
from appliance.sip.message import parse_uri
from appliance.network import NetworkWatch
from appliance.alarms import AlarmLog, Alarms, alarm_extra, follow_events
from appliance.events import EventBus
from appliance.settings import Settings, declaration
from appliance.sip.digest import DigestAuth
from appliance.sip.edge import SipEdge
from appliance.agent_phones import AgentPhones
from appliance.browser_media import BridgedMedia
from appliance.media_bridge_runtime import MediaBridgeRuntime
from appliance.sip.registrar import Registrar
from appliance.sip.security import Guard, SecurityPolicy
from appliance.store.atomic import atomic_write_bytes
from appliance.store.db import Store
from appliance.store.records import MonthlyLog
from appliance.switchboard import Switchboard, SwitchboardPorts
from appliance.prompt_files import PromptFiles
from appliance.logic.acd import ContactCenter
from appliance.logic.flows import FlowSet
from appliance.ports import DataDir
from appliance.business_runtime import Business
from appliance.center_admin import CenterAdmin
from appliance.campaigns import Campaigns
from appliance.campaign_calls import placer
from appliance.campaign_dialer import CampaignDialer, DialerPorts
from appliance.contacts import Contacts
from appliance.lines_runtime import Lines
from appliance.numbers_runtime import Numbers
from appliance.phones_runtime import Phones
from appliance.privacy_runtime import Privacy
from appliance.recording import Recordings
from appliance.reports import Reports
from appliance.ring_groups import RingGroups
from appliance.trunks import Trunks
from appliance.voicemail_boxes import VoicemailBoxes
from appliance.voicemail_mail import VoicemailMail, mailer_from_settings
from appliance.crm_webhook import post_events
from appliance.front_panel import FrontPanel
from appliance.recent_log import RECENT_LOG
from appliance.registration_snapshot import RegistrationSnapshot
from appliance.web_users import WebUsers
from appliance.extensions import Extensions

log = logging.getLogger("callbox.core")

HOUSEKEEPING_S = 1.0


# Refreshes that change only the expiry are written this often, so a restart keeps them.
REGISTRATION_SNAPSHOT_S = 60.0


def _request_user(req) -> str:
    try:
        return parse_uri(req.uri or "").user or ""
    except SipParseError:
        return ""


def security_policy(s: Settings) -> SecurityPolicy:
    return SecurityPolicy(
        ban_failures=s["security.ban_failures"], ban_window_s=float(s["security.ban_window_s"]),
        ban_time_s=float(s["security.ban_time_s"]), rate_limit_per_s=float(s["security.rate_limit_per_s"]),
        rate_burst=s["security.rate_burst"], allow_networks=list(s["security.allow_networks"]),
        scanner_user_agents=tuple(s["security.scanner_user_agents"]))


NETWORK_ACTION = ("Plug the box into the office network (or check its Wi-Fi); it finds its address by itself. "
                  "`callbox check` on the box says what it sees.")


class Core:
    def __init__(self, data_dir: Path, overrides: dict[str, Any] | None = None, clock=time.time):
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.started = clock()
        from appliance.backup import RESET_MARK
        if (self.data_dir / RESET_MARK).exists():  # a factory reset cut off by a power loss
            from appliance.backup import finish_interrupted_reset
            finish_interrupted_reset(self.data_dir)
        self.store = Store(self.data_dir)
        stored = self._settings_doc().get("overrides", {})
        # Command-line overrides (ports for tests and the demo) win but are not stored.
        self.settings = Settings(stored).with_changes(overrides or {})
        self.events = EventBus(clock=clock)
        self.alarms = Alarms(self.events.publish, clock)
        self.events.listen(follow_events(self.alarms))
        self.audit_trail = MonthlyLog(self.data_dir / "audit", time_key="time")
        self.call_records = self.store.call_records
        self.switchboard: Switchboard | None = None
        self.campaign_dialer: CampaignDialer | None = None  # dials while the switchboard runs
        self.queue_log = MonthlyLog(self.data_dir / "queue_log", time_key="time")
        self.sms_log = MonthlyLog(self.data_dir / "sms", time_key="time")
        self.contact_center = ContactCenter(time.time)
        self.reports = Reports(self.data_dir, tz=self.settings["box.timezone"], clock=clock,
                               records=self.call_records, queue_log=self.queue_log)
        self.phones = None
        self.exit_code = 0
        self._stop_event: asyncio.Event | None = None
        s = self.settings
        # Where phones reach the box: found on the LAN (or sip.bind), followed when it changes.
        self.network = NetworkWatch(bind=s["sip.bind"], interface=s["network.interface"])
        self.network.on_change(self._address_moved)
        if self.network.found.loopback_only and s["sip.bind"] in ("0.0.0.0", "::"):
            log.error("the box has no LAN address: %s", self.network.found.reason, extra=alarm_extra())
        # Registrations run on a monotonic clock (a wall clock jump must not expire every phone).
        self.registrar_clock = time.monotonic
        self.registrar = Registrar(self.registrar_clock, min_expires=s["sip.min_expires"], max_expires=s["sip.max_expires"],
                                   default_expires=s["sip.default_expires"])
        self.registration_snapshot = RegistrationSnapshot(self.registrar, self.data_dir / "state/registrations.json")
        self.guard = Guard(security_policy(s), clock)
        # The edge signs what it forwards to the engine with this key (new at every start).
        self.identity_key = secrets.token_bytes(32)
        self.extension_book = book = Extensions(
            tables=self.store.table, publish=self.events.publish, registered=lambda n: bool(self.registrar.bindings(n)),
            registered_numbers=lambda: {b.aor for b in self.registrar.all_bindings()},
            check_free=lambda n: self.numbers.check_free(n), forget=self._forget_extension)
        self.extensions, self.extension_numbers, self.extension_or_none = book.all, book.numbers, book.get_or_none
        self.extension, self.create_extension, self.update_extension = book.get, book.create, book.update
        self.delete_extension = book.delete
        self.auth = DigestAuth(s["sip.realm"], book.secret, nonce_ttl=float(s["sip.nonce_ttl"]),
                               algorithms=tuple(s["sip.digest_algorithms"]), clock=clock)
        # Browser phones' audio: the media bridge process, started with the WebSocket listener.
        self.media_bridge = MediaBridgeRuntime(address=lambda: self.network.address, alarms=self.alarms,
                                               on_ended=lambda call, why: self.browser_media.bridge_ended(call, why))
        self.browser_media = BridgedMedia(self.media_bridge.current,
                                          media_ended=lambda call: self.edge.hang_up_browser_call(call))
        self.edge = SipEdge(registrar=self.registrar, guard=self.guard, auth=self.auth, events=self.events,
                            identity_key=self.identity_key, forward_target=self._forward_target,
                            on_bindings_changed=self.registration_snapshot.changed,
                            advertised_host=self.network.address, clock=clock,
                            registrar_clock=self.registrar_clock,
                            trunk_of=lambda src, req: self.trunks.identify(src.ip, src.port, lambda: _request_user(req)),
                            response_hook=lambda msg: self.trunks.on_response(msg), browser_media=self.browser_media)
        self._start_voicemail()
        self._build_services()
        self.recordings.repair_all()
        self.registration_snapshot.restore()
        self.agent_phones = AgentPhones(
            self.contact_center, registered=lambda ext: bool(self.registrar.lookup(ext)),
            run_acd=lambda cmds: self.switchboard.run_acd(cmds) if self.switchboard is not None else None,
            log_out=lambda ext: self.center_admin.agent_action(ext, "logout", {}),
            later=lambda seconds, fn: asyncio.get_running_loop().call_later(seconds, fn))
        self.agent_phones.restore()   # whose phone is here, now that registrations are back
        self.events.listen(self.agent_phones.on_event)
        self.api_runner = None
        self._token = ""
        self.api_url = ""
        self.heartbeat = time.monotonic()

    def _build_services(self) -> None:
        """Each service gets the ports it needs, never the core; siblings meet only through these."""
        paths, setting, publish, tables = DataDir(self.data_dir), self.setting, self.events.publish, self.store.table
        self.web_users = w = WebUsers(tables=tables, clock=self.clock, audit_trail=self.audit_trail)
        self.users, self.user, self.create_user, self.update_user = w.users, w.user, w.create_user, w.update_user
        self.delete_user, self.audit, self.audit_log = w.delete_user, w.audit, w.audit_log
        directory = dict(extension=self.extension_or_none, extension_numbers=self.extension_numbers)
        self.lines = Lines(paths=paths, tables=tables, setting=setting, publish=publish, sms_log=self.sms_log,
                           edge_port=lambda: self.edge.port)
        self.trunks = Trunks(tables=tables, setting=setting, publish=publish, send=self.edge.send,
                             edge_address=lambda: f"{self.edge.advertised_host}:{self.edge.port}",
                             line_trunks=self.lines.trunks, line_names=lambda: [c["name"] for c in self.lines.configs()],
                             **directory)
        self.numbers = Numbers(extension_numbers=self.extension_numbers, queue_names=self.contact_center.queue_names,
                               ring_groups=lambda: self.ring_groups.all(), voicemail_boxes=self._box_numbers,
                               routes=lambda: self.flows.routes if self.flows is not None else ())
        self.ring_groups = RingGroups(tables=tables, extension_numbers=self.extension_numbers,
                                      check_free=self.numbers.check_free)
        self.center_admin = CenterAdmin(
            center=self.contact_center, tables=tables, clock=self.clock, publish=publish, paths=paths,
            registered=lambda ext: bool(self.registrar.lookup(ext)), run_acd=self.run_acd,
            ring_groups=lambda: [g["name"] for g in self.ring_groups.all()], voicemail_boxes=self._box_numbers,
            route_clashes=self.numbers.route_clashes, **directory)
        # Callers (the call flows, the control API) ask the core for these.
        self.flow_overrides = self.center_admin.flow_overrides
        self.set_flow_override = self.center_admin.set_flow_override
        self.contacts = Contacts(tables=tables, setting=setting, call_records=self.call_records)
        self.campaigns = Campaigns(tables=tables, folder=paths.folder("campaigns"), clock=self.clock, publish=publish,
                                   queues=self.contact_center.queue_names)
        self.business = Business(rollup=self.reports.rollup, queue_log=self.queue_log, setting=setting)
        self.recordings = Recordings(paths=paths, setting=setting, extension=self.extension_or_none,
                                     alarms=self.alarms, call_records=self.call_records)
        self.privacy = Privacy(setting=setting, paths=paths, call_records=self.call_records, queue_log=self.queue_log,
                               sms_log=self.sms_log, voicemail=self.voicemail, voicemail_changed=self.voicemail_changed,
                               expire_recordings=self.recordings.expire, audit=self.audit)
        self.voicemail_mail = VoicemailMail(
            mailer=mailer_from_settings(setting, self.data_dir / "state" / "mail", self.clock), mailbox=self.voicemail,
            box=self.voicemail_box, publish=publish, notify_mwi=self.edge.notify_mwi)
        self.voicemail_deposited = self.voicemail_mail.deposited
        self.front_panel = FrontPanel(
            setting=setting, publish=publish, listen=self.events.listen, disk_full=lambda: self.recordings.disk_full,
            engine_restarting=lambda: self.switchboard is not None and any(
                not w["alive"] for w in self.switchboard.status()),
            alarm_kinds=self.alarms.kinds, factory_reset=self._factory_reset)
        self.panel_state, self.panel_press = self.front_panel.state, self.front_panel.press

    @property
    def panel(self):
        return self.front_panel.panel

    @property
    def night_mode(self) -> bool:
        return self.front_panel.night_mode

    def setting(self, key: str) -> Any:
        """The current value of a setting (services read it through this, so changes apply at once)."""
        return self.settings[key]

    @property
    def flows(self) -> FlowSet | None:
        return self.center_admin.flows

    def _box_numbers(self) -> list[str]:
        return [b.number for b in self.voicemail.boxes()]

    def run_acd(self, commands: list) -> None:
        """What the ACD decided, carried out by the switchboard (without an engine, only logged)."""
        if self.switchboard is not None:
            self.switchboard.run_acd(commands)
            return
        for cmd in commands:
            entry = getattr(cmd, "entry", None)
            if entry is not None:
                self.queue_log.append(entry.to_dict())

    # --- settings --------------------------------------------------------------------

    def _settings_doc(self) -> dict[str, Any]:
        docs = self.store.table("settings").all()
        return dict(docs[0]) if docs else {}

    def change_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        new = self.settings.with_changes(changes)  # raises SettingError, nothing changed
        stored = Settings(self._settings_doc().get("overrides", {})).with_changes(changes)
        table = self.store.table("settings")
        table.truncate()
        table.insert({"overrides": stored.overrides})
        self.settings = new
        self._apply_live_settings()
        restart = [k for k in changes if declaration(k).restart]
        self.events.publish("settings", changed=sorted(changes), restart_needed=sorted(restart))
        return {"changed": sorted(changes), "restart_needed": sorted(restart)}

    def _apply_live_settings(self) -> None:
        s = self.settings
        self.guard.update_policy(security_policy(s))
        self.registrar.min_expires = s["sip.min_expires"]
        self.registrar.max_expires = s["sip.max_expires"]
        self.registrar.default_expires = s["sip.default_expires"]
        self.auth.nonce_ttl = float(s["sip.nonce_ttl"])
        self.auth.algorithms = tuple(s["sip.digest_algorithms"])

    def network_status(self) -> dict[str, Any]:
        """The address found and why (`callbox check`, the web's system page)."""
        engine = self.settings["engine.bind"] or self.network.address
        return self.network.found.public() | {
            "sip": f"{self.settings['sip.bind']}:{self.edge.port}", "engine": engine,
            "provisioning_url": self.phones.url() if self.phones is not None else ""}

    def _address_moved(self, old, new) -> None:
        """The LAN address changed (DHCP, another cable, Wi-Fi): calls in progress finish where
        they are; everything new uses the new address; phones are told to fetch their settings."""
        self.edge.advertised_host = new.address
        self.media_bridge.address_moved()
        if self.edge.mwi is not None:
            self.edge.mwi.host = new.address
        if self.switchboard is not None and not self.settings["engine.bind"]:
            self.switchboard.move_to(new.address)
        if self.phones is not None:
            self.phones.move_to(new.address)
        self.trunks.address_moved()
        self.events.publish("network", address=new.address, interface=new.interface, reason=new.reason,
                            old_address=old.address)
        if new.loopback_only:
            self.alarms.raise_alarm("network", f"The box lost its LAN address ({new.reason}): phones cannot "
                                    "reach it.", NETWORK_ACTION)
        else:
            self.alarms.clear("network")
            self._tell_phones_to_resync()

    def _tell_phones_to_resync(self) -> int:
        from appliance.sip.resync import check_sync
        local = f"{self.network.address}:{self.edge.port}"
        sent = 0
        for b in self.registrar.all_bindings():
            try:
                self.edge.send(check_sync(b.aor, b.contact, local), b.source.transport, (b.source.ip, b.source.port))
                sent += 1
            except (OSError, ValueError) as e:  # one phone gone must not stop the others' NOTIFY
                log.warning("could not tell %s to fetch its settings: %s", b.aor, e)
        return sent

    def _forward_target(self, request, ext: str) -> tuple[str, int] | None:
        target = self.settings["sip.forward_to"]
        if target:
            host, _, port = target.rpartition(":")
            return host.strip("[]"), int(port)
        if self.switchboard is None:
            return None
        return self.switchboard.forward_target(request, ext)

    def _forget_extension(self, number: str) -> None:
        """A deleted extension: its registrations end, its phones are forgotten."""
        self.registrar.remove_aor(number)
        if self.phones is not None:
            self.phones.forget_extension(number)
        self.registration_snapshot.changed()

    # --- registrations and bans -------------------------------------------------------

    def registrations(self) -> list[dict[str, Any]]:
        now = self.registrar_clock()
        return [{"aor": b.aor, "contact": b.contact,
                 "source": f"{b.source.transport}:{b.source.ip}:{b.source.port}",
                 "expires_in": b.expires_in(now), "user_agent": b.user_agent}
                for b in sorted(self.registrar.all_bindings(), key=lambda b: (b.aor, b.contact))]

    def bans(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.guard.bans()]

    def unban(self, ip: str) -> None:
        if not self.guard.unban(ip):
            raise NotFound(f"{ip} is not banned")
        self.events.publish("unban", ip=ip, by="api")

    # --- running -------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "uptime_s": round(self.clock() - self.started, 1),
                "sip_port": self.edge.port, "registrations": len(self.registrar.all_bindings()),
                "bans": len(self.guard.bans()), "network": self.network_status()}

    async def start(self) -> None:
        from appliance.control.api import start_api
        from appliance.control.wiring import control_services
        s = self.settings
        await self.edge.start(s["sip.bind"], s["sip.port"], tcp=s["sip.tcp"])
        if await self.edge.start_websockets(s["sip.bind"], s["sip.wss_port"], self.data_dir / "tls"):  # the page's pair
            self.media_bridge.start()
        self.api_runner, self.api_url = await start_api(control_services(self), s["api.bind"], s["api.port"])
        await self.trunks.start()
        await self.lines.start()
        if s["provisioning.enabled"]:
            phones = Phones(paths=DataDir(self.data_dir), setting=self.setting, extension=self.extension_or_none,
                            publish=self.events.publish, box_address=lambda: self.network.address)
            try:
                await phones.start(self.network.address)
                self.phones = phones
            except OSError as e:  # the port is taken: phones can still be set up by hand
                log.error("phone provisioning is off: %s", e, extra=alarm_extra())
                self.alarms.raise_alarm("provisioning", f"Phone provisioning is off: {e}",
                                        "Another program holds the provisioning port: free it or change "
                                        "provisioning.port, then restart the box.")
        # The built-in prompt set (a couple of seconds of espeak-ng) is made off the loop, by a child
        # process (its audio buffers stay out of the core) watched from a thread that a stopping core
        # does not wait for (each file is written atomically).
        languages = tuple(s["prompts.builtin_languages"])
        if languages:
            from appliance.prompts import make_builtin_prompts_apart
            threading.Thread(target=make_builtin_prompts_apart, args=(self.data_dir / "prompts", languages),
                             name="callbox-prompts", daemon=True).start()
        if not s["sip.forward_to"] and s["engine.enabled"]:
            key_file = self.data_dir / "run" / "edge.key"
            atomic_write_bytes(key_file, self.identity_key.hex().encode(), mode=0o600)
            self.switchboard = Switchboard(self._switchboard_ports(), bind=s["engine.bind"] or self.network.address,
                                           edge_key_file=str(key_file))
            await self.switchboard.start(s["engine.max_calls"])
            self.campaign_dialer = self._campaign_dialer(self.switchboard)
            self.campaign_dialer.start()
        atomic_write_bytes(self.data_dir / "run" / "api.json",
                           json.dumps({"url": self.api_url, "token": self.api_token(),
                                       "sip_port": self.edge.port, "pid": os.getpid()}).encode(), mode=0o600)
        log.info("control API on %s", self.api_url)
        found = self.network.found
        log.info("phones reach the box at %s (%s)", found.address, found.reason)
        self.heartbeat = time.monotonic()  # a slow start (workers, prompts) is not a hung loop
        if found.loopback_only and s["sip.bind"] in ("0.0.0.0", "::"):
            self.alarms.raise_alarm("network", f"The box has no LAN address ({found.reason}): phones cannot "
                                    "reach it.", NETWORK_ACTION)

    def _campaign_dialer(self, sb: Switchboard) -> CampaignDialer:
        center = self.contact_center
        return CampaignDialer(DialerPorts(
            clock=self.clock, campaigns=self.campaigns, free_agents=center.free_agents,
            campaign_offer=center.campaign_offer, campaign_talking=center.campaign_talking,
            campaign_done=center.campaign_done, run_acd=self.run_acd, plan=self.trunks.plan_campaign,
            is_extension=lambda number: self.extension_or_none(number) is not None,
            phone_of=lambda number: next(iter(self.edge.contacts_to_call(number)), None),
            place=placer(sb), write_record=sb.records.write))

    def _switchboard_ports(self) -> SwitchboardPorts:
        """What the calls in the engine workers may ask of the box: contacts, trunks, the ACD, voicemail."""
        groups = self.ring_groups
        return SwitchboardPorts(
            publish=self.events.publish, setting=self.setting, paths=DataDir(self.data_dir),
            contacts=self.edge.contacts_to_call, extension=self.extension_or_none,
            extension_numbers=self.extension_numbers, ring_group=groups.by_number, ring_group_named=groups.get,
            dialer=self.trunks, center=self.contact_center, agent_action=self.center_admin.agent_action,
            flows=lambda: self.flows, night_mode=lambda: self.night_mode, flow_overrides=self.flow_overrides,
            mailbox=self.voicemail, pin_guard=self.pin_guard, voicemail_box=self.voicemail_box,
            voicemail_changed=self.voicemail_changed, voicemail_deposited=lambda b, m: self.voicemail_deposited(b, m),
            recordings=self.recordings, call_records=self.call_records, queue_log=self.queue_log, alarms=self.alarms,
            prompt_file=PromptFiles(self.data_dir / "prompts", self.alarms))

    def api_token(self) -> str:
        """A token made once per box (first boot), kept 0600 in the state directory."""
        if self._token:
            return self._token
        path = self.data_dir / "state" / "api_token"
        try:
            self._token = path.read_text().strip()
        except FileNotFoundError:
            self._token = secrets.token_urlsafe(32)
            atomic_write_bytes(path, self._token.encode(), mode=0o600)
        return self._token

    # --- voicemail ------------------------------------------------------------------------------

    def _start_voicemail(self) -> None:
        from appliance.logic import voicemail as vm
        from appliance.sip.mwi import MwiService
        from appliance.voicemail_store import VoicemailStore
        self.voicemail = VoicemailStore(self.data_dir, self.clock)
        recovered = self.voicemail.recover_incoming()  # messages cut off by a crash or power loss
        if recovered:
            log.warning("recovered %d voicemail message(s) recorded before a restart", len(recovered))
        self.pin_guard = vm.PinGuard(self.clock, max_failures=self.settings["voicemail.pin_lockout_failures"],
                                     lockout_s=self.settings["voicemail.pin_lockout_s"])
        boxes = VoicemailBoxes(store=self.voicemail, extension=self.extension_or_none, publish=self.events.publish,
                               notify_mwi=lambda box, **how: self.edge.notify_mwi(box, **how))
        self.voicemail_box, self.voicemail_counts, self.voicemail_changed = boxes.box, boxes.counts, boxes.changed
        self.edge.mwi = MwiService(self.clock, boxes.counts, self.network.address)

    async def housekeeping(self) -> None:
        last_snapshot = time.monotonic()
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            if time.monotonic() - last_snapshot >= REGISTRATION_SNAPSHOT_S:
                last_snapshot = time.monotonic()
                self.registration_snapshot.changed()
                await asyncio.get_running_loop().run_in_executor(None, self._daily)
                await asyncio.get_running_loop().run_in_executor(None, self.recordings.compress_pending)
            self.heartbeat = time.monotonic()
            expired = self.registrar.expire()
            for b in expired:
                self.events.publish("unregistration", aor=b.aor, contact=b.contact, reason="expired")
            if expired:
                self.registration_snapshot.changed()
            for ban in self.guard.expire():
                self.events.publish("unban", ip=ban.ip, by="expiry")
            self.front_panel.tick()

    async def stop(self) -> None:
        if self.phones is not None:
            await self.phones.stop()
        await self.lines.stop()
        await self.trunks.stop()
        if self.campaign_dialer is not None:
            self.campaign_dialer.stop()
        if self.switchboard is not None:
            await self.switchboard.stop()
        await self.edge.stop()
        await self.media_bridge.stop()
        if self.api_runner is not None:
            await self.api_runner.cleanup()
        self.registration_snapshot.close()
        self.audit_trail.close()
        self.queue_log.close()
        self.sms_log.close()
        self.store.close()

    async def run(self) -> None:
        from appliance.sdnotify import SystemdNotifier, WatchdogFeeder
        await self.start()
        self.front_panel.start()
        stop = self._stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        notifier = SystemdNotifier()
        alarm_log = AlarmLog(self.alarms, self.clock)
        logging.getLogger().addHandler(alarm_log)
        tasks = [asyncio.create_task(self.housekeeping()), asyncio.create_task(self.voicemail_mail.deliver()),
                 asyncio.create_task(post_events(self.events, self.setting)), asyncio.create_task(self.network.run())]
        interval = notifier.watchdog_interval()
        if interval:
            feeder = WatchdogFeeder(notifier, interval / 2, self.is_healthy)
            tasks.append(asyncio.create_task(feeder.run()))
        notifier.ready()
        notifier.status(f"SIP on {self.edge.port}, API on {self.api_url}")
        try:
            await stop.wait()
        finally:
            notifier.stopping()
            logging.getLogger().removeHandler(alarm_log)
            for t in tasks:
                t.cancel()
            self.front_panel.close()
            await self.stop()

    def stage_restore(self, data: bytes) -> dict[str, Any]:
        """Check an uploaded backup; if it is good, restart to restore it (nothing changes otherwise)."""
        from appliance.backup import verify_backup
        from appliance.errors import BackupError
        tmp = self.data_dir / "run" / "upload.tar.gz"
        atomic_write_bytes(tmp, data, mode=0o600)  # every secret of the box is in it
        try:
            info = verify_backup(tmp)
        except BackupError:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(Path(str(self.data_dir) + ".restore.tar.gz"))
        self.audit("api", "restore_staged", info.summary() if hasattr(info, "summary") else "")
        return {"restarting": True}

    def restart_soon(self) -> None:
        """Exit non-zero so systemd starts the core again (Restart=on-failure), which restores first."""
        self.exit_code = 3
        if self._stop_event is not None:
            asyncio.get_running_loop().call_later(0.5, self._stop_event.set)

    def _factory_reset(self) -> None:
        from appliance.backup import factory_reset
        factory_reset(self.data_dir, core_holds_lock=True)
        # Everything in memory is stale now: exit non-zero so systemd starts us afresh.
        self.exit_code = 3
        if self._stop_event is not None:
            self._stop_event.set()

    def _daily(self) -> None:
        """Retention, at most once a day (checked every minute)."""
        today = time.strftime("%Y-%m-%d")
        if getattr(self, "_retention_day", None) != today:
            self._retention_day = today
            self.privacy.apply_retention()

    def is_healthy(self) -> bool:
        """False when the loop stopped making progress: systemd's watchdog then restarts us."""
        return time.monotonic() - self.heartbeat < max(5.0, 3 * HOUSEKEEPING_S)


def apply_pending_restore(data_dir: Path) -> None:
    """A backup uploaded through the API is restored here, before anything opens the data."""
    from appliance.backup import restore_backup
    pending = Path(str(data_dir) + ".restore.tar.gz")
    if pending.exists():
        log.warning("restoring the uploaded backup %s", pending)
        restore_backup(pending, data_dir)
        pending.unlink()


def run_core(data_dir: Path, overrides: dict[str, Any] | None = None) -> None:
    logging.getLogger().addHandler(RECENT_LOG)  # after the CLI set up the console log
    apply_pending_restore(Path(data_dir))
    try:
        core = Core(data_dir, overrides)
    except SettingError as e:
        raise SystemExit(f"callbox core: bad setting {e}") from None
    try:
        import uvloop  # libuv's loop: the SIP edge answers noticeably more requests per core with it
    except ImportError:
        asyncio.run(core.run())
    else:
        uvloop.run(core.run())
    if core.exit_code:
        raise SystemExit(core.exit_code)
