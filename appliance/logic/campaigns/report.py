"""A campaign's report: who was tried and reached, with what results, talk time, abandoned, CSAT.

Pure: the list's entries and the campaign's call records (one per attempt) in, one table out.
"Reached" means a person answered; "abandoned" is the share of answered calls that found no
agent (progressive campaigns), the figure regulators and customers both watch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from appliance.logic.campaigns.model import Entry, EntryState, Result
from appliance.logic.csat import Summary


def campaign_report(entries: Iterable[Entry], records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    entries = list(entries)
    records = list(records)
    attempted = [e for e in entries if e.attempts > 0]
    results = Counter(str(r.get("campaign_result") or "") for r in records)
    answered = results[Result.ANSWERED.value] + results[Result.REFUSED.value] + results[Result.ABANDONED.value]
    reached_entries = {r.get("campaign_entry") for r in records
                       if r.get("campaign_result") in (Result.ANSWERED.value, Result.REFUSED.value)}
    talk = [float(r.get("talk_s") or 0.0) for r in records if float(r.get("talk_s") or 0.0) > 0]
    attempts = Counter(e.attempts for e in attempted)
    csat = Summary()
    for r in records:
        if r.get("agent") and r.get("campaign_result") == Result.ANSWERED.value and "csat" in r:
            csat.add(r["csat"] if isinstance(r["csat"], int) else None)
    dispositions = Counter(e.result for e in entries if e.result)
    return {
        "contacts": len(entries),
        "attempted": len(attempted),
        "reached": len(reached_entries),
        "attempts": len(records),
        "attempts_per_contact": round(sum(e.attempts for e in attempted) / len(attempted), 2) if attempted else 0.0,
        "attempts_distribution": {str(k): v for k, v in sorted(attempts.items())},
        "results": dict(sorted(results.items())),
        "dispositions": dict(sorted(dispositions.items())),
        "talk_s": round(sum(talk), 1),
        "talk_avg_s": round(sum(talk) / len(talk), 1) if talk else 0.0,
        "abandoned_pct": round(100.0 * results[Result.ABANDONED.value] / answered, 1) if answered else 0.0,
        "do_not_call": sum(e.state is EntryState.DO_NOT_CALL for e in entries),
        "waiting": sum(e.state is EntryState.WAITING for e in entries),
        "csat": csat.to_dict(),
    }
