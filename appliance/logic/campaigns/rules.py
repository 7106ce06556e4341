"""What happens after an attempt, and who may be dialled now: retries, do-not-call, pacing.

Pure functions over a campaign and its entries; the runtime asks them and carries out the
answer (`appliance.campaigns_runtime`). Every attempt, dialled or not, becomes a call record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from appliance.logic.campaigns.config import Campaign
from appliance.logic.campaigns.model import ENTRY, Entry, EntryEvent, EntryState, Mode, Result

NEVER_AGAIN_DIGIT = "9"  # "press 9 never to be called again" on a message campaign


def number_key(number: str) -> str:
    """A number as the do-not-call list compares it: its digits, and the + of an international one.

    "+48 600-100-200", "0048600100200" and "+48600100200" are one number; a national number
    is compared as written (digits only), so the list holds both forms when people give both.
    """
    text = (number or "").strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def subscriber_key(number: str) -> str:
    """What one person's number is known by whatever its form: its last 9 digits (or all, if fewer).

    A national number and its international form ("600 100 200", "+48 600 100 200") share it,
    so a list does not call one person twice and "never again" holds for both forms.
    """
    digits = re.sub(r"\D", "", number_key(number))
    return digits[-9:] if len(digits) >= 9 else number_key(number)


@dataclass(frozen=True)
class DoNotCall:
    """Numbers the business must not call (from the admin's list and from "press 9")."""

    keys: frozenset[str]

    @classmethod
    def of(cls, numbers: Iterable[str]) -> DoNotCall:
        return cls(frozenset(k for k in (subscriber_key(n) for n in numbers) if k))

    def blocks(self, number: str) -> bool:
        return subscriber_key(number) in self.keys


def after_attempt(campaign: Campaign, entry: Entry, result: Result, now: float) -> EntryEvent:
    """Fire RETRY or GIVE_UP for an unreached attempt, with the entry's next due time; the event fired."""
    entry.attempts += 1
    entry.tries[result.value] = entry.tries.get(result.value, 0) + 1
    entry.result = result.value
    rule = campaign.retries.get(result)
    retried = entry.tries[result.value] - 1  # tries of this result before this one
    if rule is None or retried >= rule.times or entry.attempts >= campaign.max_attempts:
        ENTRY.fire(entry, EntryEvent.GIVE_UP)
        return EntryEvent.GIVE_UP
    entry.due = now + rule.delay_s
    ENTRY.fire(entry, EntryEvent.RETRY)
    return EntryEvent.RETRY


def callable_now(campaign: Campaign, entry: Entry, now: datetime) -> bool:
    """Due, waiting, and inside calling hours in the callee's own time zone."""
    return (entry.state is EntryState.WAITING and entry.due <= now.timestamp()
            and campaign.calling_hours.may_call(now, entry.zone or campaign.zone))


def next_to_dial(campaign: Campaign, entries: Iterable[Entry], now: datetime, *, free_agents: int,
                 in_progress: int, dnc: DoNotCall) -> tuple[list[Entry], list[Entry]]:
    """(entries to dial or offer now, entries to block as do-not-call); nothing while not running.

    Progressive: one call per free agent, counting calls already ringing. Preview: one card per
    free agent. Message: up to the campaign's lines at once. Scheduled callbacks come first,
    then the list in its order.
    """
    if campaign.state.value != "running":
        return [], []
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    room = (campaign.max_lines if campaign.mode is Mode.MESSAGE else free_agents) - in_progress
    chosen: list[Entry] = []
    blocked: list[Entry] = []
    ordered = sorted((e for e in entries if e.state is EntryState.WAITING), key=lambda e: (not e.agent, e.due))
    for entry in ordered:
        if dnc.blocks(entry.number):
            blocked.append(entry)
            continue
        if len(chosen) < room and callable_now(campaign, entry, now):
            chosen.append(entry)
    return chosen, blocked


def list_done(entries: Iterable[Entry]) -> bool:
    """Nothing left to try: every entry done or blocked."""
    return all(e.state in (EntryState.DONE, EntryState.DO_NOT_CALL) for e in entries)
