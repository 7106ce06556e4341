"""Outbound campaigns: their lists, their rules and their results, kept on the box's disk.

The service holds what the admin set (the `campaigns` table of the store), each campaign's call
list (one JSON file per campaign under `campaigns/`, written atomically after every change, so
an attempt's result survives a power cut) and the do-not-call list (the `do_not_call` table).
What may be dialled and what follows an attempt are the domain's rules
(`appliance.logic.campaigns`); placing the calls is the dialer's (`campaign_dialer.py`).
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from appliance.atomicfile import atomic_write_bytes
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic import csv_safe
from appliance.logic.campaigns import call_list
from appliance.logic.campaigns.config import Campaign, campaign_from_dict
from appliance.logic.campaigns.model import (CAMPAIGN, ENTRY, CampaignEvent, CampaignState, Entry, EntryEvent,
                                             EntryState, Result)
from appliance.logic.campaigns.report import campaign_report
from appliance.logic.campaigns.rules import DoNotCall, after_attempt, list_done, next_to_dial, subscriber_key
from appliance.logic.handlers.campaign_call import AttemptOver
from appliance.ports import Clock, Names, Publish, Tables

log = logging.getLogger("callbox.campaigns")

ACTIONS = {"start": CampaignEvent.START, "pause": CampaignEvent.PAUSE, "resume": CampaignEvent.RESUME,
           "stop": CampaignEvent.STOP}
CSV_COLUMNS = ("number", "name", "zone", "state", "attempts", "result", "agent", "notes")


class _Worked:
    """A campaign as it is being worked: its settings (with their state) and its list."""

    def __init__(self, campaign: Campaign, entries: list[Entry]):
        self.id = campaign.id
        self.campaign = campaign
        self.state = campaign.state
        self.entries = entries
        self.by_id = {e.id: e for e in entries}


class Campaigns:
    def __init__(self, *, tables: Tables, folder: Path, clock: Clock, publish: Publish, queues: Names):
        self.tables = tables
        self.folder = Path(folder)
        self.clock = clock
        self.publish = publish
        self.queues = queues
        self.worked: dict[str, _Worked] = {}
        self.load()

    # --- storage --------------------------------------------------------------------------

    def load(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for doc in self.tables("campaigns").all():
            try:
                c = campaign_from_dict(doc)
            except ValidationError as e:
                log.error("campaign %s cannot be read, left out: %s", doc.get("id"), e)
                continue
            self.worked[c.id] = _Worked(c, self._read_entries(c.id))

    def _read_entries(self, cid: str) -> list[Entry]:
        path = self.folder / f"{cid}.json"
        if not path.exists():
            return []
        entries = [Entry.from_dict(d) for d in json.loads(path.read_text(encoding="utf-8"))]
        for e in entries:  # a call cut off by a restart is retried, never lost
            if e.state in (EntryState.DIALLING, EntryState.CONNECTED, EntryState.OFFERED):
                e.state = EntryState.WAITING
        return entries

    def _save_entries(self, w: _Worked) -> None:
        data = json.dumps([e.to_dict() for e in w.entries], ensure_ascii=False).encode()
        atomic_write_bytes(self.folder / f"{w.id}.json", data)

    def _save_campaign(self, w: _Worked) -> None:
        doc = w.campaign.to_dict() | {"state": w.state.value}
        table = self.tables("campaigns")
        if table.get(lambda d: d.get("id") == w.id) is None:
            table.insert(doc)
        else:
            table.update(doc, lambda d: d.get("id") == w.id)

    def _get(self, cid: str) -> _Worked:
        w = self.worked.get(cid)
        if w is None:
            raise NotFound(f"campaign {cid} does not exist")
        return w

    # --- what the admin does ----------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        return [self.describe(w.id) for w in sorted(self.worked.values(), key=lambda w: w.campaign.name.lower())]

    def describe(self, cid: str) -> dict[str, Any]:
        w = self._get(cid)
        return w.campaign.to_dict() | {"state": w.state.value, "progress": self.progress(cid)}

    def save(self, data: Any) -> dict[str, Any]:
        """Create a campaign, or change one that is not running (pause it first)."""
        incoming = campaign_from_dict(data, queues=tuple(self.queues()))
        old = self.worked.get(incoming.id)
        if old is not None and old.state is CampaignState.RUNNING:
            raise Conflict(f"campaign {incoming.id} is running: pause it to change it")
        state = old.state if old else CampaignState.DRAFT
        campaign = campaign_from_dict(incoming.to_dict() | {"state": state.value})
        w = _Worked(campaign, old.entries if old else [])
        w.state = state
        self.worked[campaign.id] = w
        self._save_campaign(w)
        if old is None:
            self._save_entries(w)
        return self.describe(campaign.id)

    def delete(self, cid: str) -> None:
        w = self._get(cid)
        if w.state is CampaignState.RUNNING:
            raise Conflict(f"campaign {cid} is running: stop it first")
        self.tables("campaigns").remove(lambda d: d.get("id") == cid)
        (self.folder / f"{cid}.json").unlink(missing_ok=True)
        del self.worked[cid]

    def control(self, cid: str, action: str) -> dict[str, Any]:
        w = self._get(cid)
        event = ACTIONS.get(action)
        if event is None:
            raise ValidationError(f"{action!r}: use start, pause, resume or stop")
        if not CAMPAIGN.allows(w.state, event):
            raise Conflict(f"campaign {cid} is {w.state.value}: it cannot {action}")
        if event is CampaignEvent.START and not w.entries:
            raise Conflict(f"campaign {cid} has nobody on its list yet")
        CAMPAIGN.fire(w, event)
        self._after_state_change(w)
        return self.describe(cid)

    def _after_state_change(self, w: _Worked) -> None:
        w.campaign = campaign_from_dict(w.campaign.to_dict() | {"state": w.state.value})
        self._save_campaign(w)
        self.publish("campaign", id=w.id, state=w.state.value, progress=self.progress(w.id))

    def import_csv(self, cid: str, data: bytes) -> dict[str, Any]:
        """Rows with a number join the list; each row that cannot is listed with its line and why."""
        w = self._get(cid)
        if w.state is CampaignState.STOPPED:
            raise Conflict(f"campaign {cid} is stopped")
        try:
            parsed = call_list.read(data, first_id=self._next_id(w), known={subscriber_key(e.number)
                                                                              for e in w.entries})
        except call_list.contacts_csv.CsvProblem as e:
            raise ValidationError(str(e)) from None
        self._add(w, parsed.entries)
        return {"added": len(parsed.entries), "duplicates": parsed.duplicates, "errors": parsed.errors,
                "encoding": parsed.encoding}

    def add_people(self, cid: str, people: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """People from the contacts or the call records ({number, name, fields?}); a number once."""
        w = self._get(cid)
        known = {subscriber_key(e.number) for e in w.entries}
        new, next_id, duplicates = [], self._next_id(w), 0
        for p in people:
            number = str(p.get("number") or "").strip()
            if not number or subscriber_key(number) in known:
                duplicates += 1 if number else 0
                continue
            known.add(subscriber_key(number))
            new.append(Entry(str(next_id), number, str(p.get("name") or ""), dict(p.get("fields") or {})))
            next_id += 1
        self._add(w, new)
        return {"added": len(new), "duplicates": duplicates, "errors": []}

    def _add(self, w: _Worked, new: list[Entry]) -> None:
        if not new:
            return
        w.entries += new
        w.by_id.update({e.id: e for e in new})
        self._save_entries(w)
        CAMPAIGN.fire(w, CampaignEvent.ENTRIES_ADDED)
        self._after_state_change(w)

    @staticmethod
    def _next_id(w: _Worked) -> int:
        return max((int(e.id) for e in w.entries if e.id.isdigit()), default=0) + 1

    def entries(self, cid: str, state: str = "", offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        w = self._get(cid)
        rows = [e.to_dict() for e in w.entries if not state or e.state.value == state]
        return rows[offset:offset + limit]

    def entry(self, cid: str, entry_id: str) -> Entry:
        e = self._get(cid).by_id.get(entry_id)
        if e is None:
            raise NotFound(f"campaign {cid} has no entry {entry_id}")
        return e

    def to_csv(self, cid: str) -> str:
        out = io.StringIO()
        writer = csv_safe.writer(out)
        writer.writerow(CSV_COLUMNS)
        for e in self._get(cid).entries:
            writer.writerow([e.number, e.name, e.zone, e.state.value, e.attempts, e.result, e.agent, e.notes])
        return out.getvalue()

    # --- the do-not-call list ------------------------------------------------------------------

    def do_not_call(self) -> list[dict[str, Any]]:
        return sorted((dict(d) for d in self.tables("do_not_call").all()), key=lambda d: d.get("number", ""))

    def forbid(self, number: str, why: str = "added by the admin") -> dict[str, Any]:
        number = str(number or "").strip()
        key = subscriber_key(number)
        if len(key.lstrip("+")) < 3:
            raise ValidationError(f"{number!r} is not a phone number")
        table = self.tables("do_not_call")
        found = table.get(lambda d: d.get("key") == key)
        if found is not None:
            return dict(found)
        doc = {"number": number, "key": key, "why": why, "added": self.clock()}
        table.insert(doc)
        self.publish("do_not_call", number=number, why=why)
        return doc

    def allow(self, number: str) -> None:
        key = subscriber_key(number)
        if not self.tables("do_not_call").remove(lambda d: d.get("key") == key):
            raise NotFound(f"{number} is not on the do-not-call list")

    def _dnc(self) -> DoNotCall:
        return DoNotCall(frozenset(d["key"] for d in self.tables("do_not_call").all() if d.get("key")))

    # --- working the lists -------------------------------------------------------------------

    def running(self) -> list[Campaign]:
        """Running campaigns, the highest priority first."""
        return sorted((w.campaign for w in self.worked.values() if w.state is CampaignState.RUNNING),
                      key=lambda c: -c.priority)

    def in_progress(self, cid: str) -> int:
        return sum(e.state in (EntryState.DIALLING, EntryState.CONNECTED, EntryState.OFFERED)
                   for e in self._get(cid).entries)

    def due(self, cid: str, free_agents: int) -> list[Entry]:
        """Who to dial (or offer) now; numbers found on the do-not-call list are set aside, not dialled."""
        w = self._get(cid)
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        chosen, blocked = next_to_dial(w.campaign, w.entries, now, free_agents=free_agents,
                                       in_progress=self.in_progress(cid), dnc=self._dnc())
        for e in blocked:
            ENTRY.fire(e, EntryEvent.BLOCK)
            e.result = Result.BLOCKED.value
            log.info("campaign %s: %s is on the do-not-call list: not dialled", cid, e.number)
        if blocked:
            self._save_entries(w)
            self._finish_if_done(w)
        return chosen

    def dialling(self, cid: str, entry_id: str, offered: bool = False) -> None:
        e = self.entry(cid, entry_id)
        ENTRY.fire(e, EntryEvent.OFFER if offered else EntryEvent.DIAL)
        self._save_entries(self._get(cid))

    def skip(self, cid: str, entry_id: str) -> None:
        """The agent passed on a previewed card: it goes back to the list."""
        e = self.entry(cid, entry_id)
        ENTRY.fire(e, EntryEvent.SKIP)
        self._save_entries(self._get(cid))

    def answered(self, cid: str, entry_id: str) -> None:
        e = self.entry(cid, entry_id)
        if e.state is EntryState.DIALLING:
            ENTRY.fire(e, EntryEvent.ANSWERED)

    def attempt_over(self, over: AttemptOver) -> None:
        """An attempt ended: retry later, give up, finish, or never again; the list is saved at once."""
        w = self.worked.get(over.campaign)
        e = w.by_id.get(over.entry) if w else None
        if w is None or e is None:
            log.error("a campaign call ended for %s/%s, which no longer exists", over.campaign, over.entry)
            return
        if over.never_again:
            self.forbid(e.number, why=f"pressed {over.digit or '9'} on campaign {w.id}")
            e.attempts += 1
            e.result = Result.REFUSED.value
            if e.state is not EntryState.DO_NOT_CALL:
                ENTRY.fire(e, EntryEvent.BLOCK)
        elif over.result is Result.ANSWERED:
            e.attempts += 1
            if e.state is EntryState.DIALLING:
                ENTRY.fire(e, EntryEvent.ANSWERED)
            if e.state is EntryState.CONNECTED:  # not if the agent booked a callback during the call
                if e.result not in w.campaign.dispositions:
                    e.result = Result.ANSWERED.value
                ENTRY.fire(e, EntryEvent.FINISH)
        elif e.state in (EntryState.DIALLING, EntryState.CONNECTED, EntryState.OFFERED):
            if e.state is EntryState.OFFERED:
                ENTRY.fire(e, EntryEvent.DIAL)
            after_attempt(w.campaign, e, over.result, self.clock())
        if over.agent:
            e.agent = over.agent
        self._save_entries(w)
        self.publish("campaign_attempt", campaign=w.id, entry=e.id, number=e.number, result=over.result.value,
                     agent=over.agent, score=over.score, state=e.state.value)
        self._finish_if_done(w)

    def set_result(self, cid: str, entry_id: str, *, agent: str, result: str, notes: str = "",
                   callback_at: float | None = None) -> dict[str, Any]:
        """The agent's disposition for a call (one of the campaign's words), notes, maybe a callback."""
        w = self._get(cid)
        e = self.entry(cid, entry_id)
        if result not in w.campaign.dispositions:
            raise ValidationError(f"{result!r} is not one of this campaign's results: "
                                  f"{', '.join(w.campaign.dispositions)}")
        if len(notes) > 2000:
            raise ValidationError("notes are at most 2000 characters")
        e.result, e.notes, e.agent = result, notes, agent
        if callback_at is not None:
            if callback_at <= self.clock():
                raise ValidationError("a callback is booked for a time to come")
            if e.state is EntryState.DIALLING:
                ENTRY.fire(e, EntryEvent.ANSWERED)
            ENTRY.fire(e, EntryEvent.SCHEDULE)
            e.due = callback_at
        elif e.state in (EntryState.CONNECTED, EntryState.OFFERED):
            ENTRY.fire(e, EntryEvent.FINISH)
        self._save_entries(w)
        self.publish("campaign_result", campaign=cid, entry=entry_id, agent=agent, result=result,
                     callback_at=callback_at)
        if callback_at is not None and w.state is CampaignState.FINISHED:
            CAMPAIGN.fire(w, CampaignEvent.ENTRIES_ADDED)
            self._after_state_change(w)
        return e.to_dict()

    def _finish_if_done(self, w: _Worked) -> None:
        if w.state is CampaignState.RUNNING and list_done(w.entries):
            CAMPAIGN.fire(w, CampaignEvent.LIST_DONE)
            self._after_state_change(w)

    def progress(self, cid: str) -> dict[str, Any]:
        entries = self._get(cid).entries
        counts = {s.value: 0 for s in EntryState}
        for e in entries:
            counts[e.state.value] += 1
        finished = counts["done"] + counts["do_not_call"]
        return {"total": len(entries), "states": counts,
                "done_pct": round(100.0 * finished / len(entries), 1) if entries else 0.0}

    def report(self, cid: str, records: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """The campaign's report from its list and its call records (the caller reads the records)."""
        w = self._get(cid)
        return {"campaign": cid, "name": w.campaign.name, "state": w.state.value} | campaign_report(
            w.entries, (r for r in records if r.get("campaign") == cid))
