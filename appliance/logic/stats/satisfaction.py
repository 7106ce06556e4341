"""Satisfaction (CSAT) in the report tables, from the `csat` of each call record.

A record with `csat` is a call whose caller heard the survey: the field holds the score 1-5, or
null when they pressed nothing (offered, not answered). Tallies keep the offered surveys and a
count per score, so days add up exactly; the figures shown are those of `appliance.logic.csat`'s
`Summary` (answered, average, the share of 4s and 5s in per cent).
"""

from __future__ import annotations

from typing import Any, Protocol

from appliance.logic.csat import SCORES, Summary
from appliance.logic.stats.schema import Record

COLUMNS = ("csat_offered", "csat_answered", "csat_average", "csat_pct")


class Surveys(Protocol):
    """A tally that counts surveys: offered, and how many of each score."""

    csat_offered: int
    csat_scores: list[int]  # scores 1..5 in this order


def no_scores() -> list[int]:
    return [0] * len(SCORES)


def score_of(record: Record) -> int | None:
    value = record.get("csat")
    return value if isinstance(value, int) and not isinstance(value, bool) and value in SCORES else None


def count(tally: Surveys, record: Record) -> None:
    """Count the survey of one call record, if its caller heard one."""
    if "csat" not in record:
        return
    tally.csat_offered += 1
    score = score_of(record)
    if score is not None:
        tally.csat_scores[SCORES.index(score)] += 1


def merge(into: Surveys, other: Surveys) -> None:
    into.csat_offered += other.csat_offered
    into.csat_scores = [a + b for a, b in zip(into.csat_scores, other.csat_scores)]


def summary(tally: Surveys) -> Summary:
    return Summary(offered=tally.csat_offered, counts=dict(zip(SCORES, tally.csat_scores)))


def figures(tally: Surveys) -> dict[str, Any]:
    """The report's CSAT columns of a tally (average and share are None without an answer)."""
    s = summary(tally)
    return {"csat_offered": s.offered, "csat_answered": s.answered, "csat_average": s.average,
            "csat_pct": s.csat_pct}


def valid(scores: Any) -> bool:
    return isinstance(scores, list) and len(scores) == len(SCORES) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in scores)
