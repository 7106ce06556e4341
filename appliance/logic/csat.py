"""Customer satisfaction (CSAT): the caller rates the call 1-5 after it, and the box sums it up.

A score is one digit 1-5 pressed after "how did we do?"; anything else is no score (the caller
hung up or pressed another key), which is counted separately, never as a low score. The
headline figure is the CSAT share: scores of 4 or 5 among all scores, as contact centers
report it, beside the average and the distribution.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

SCORES = (1, 2, 3, 4, 5)
SATISFIED = (4, 5)


def score_of(digit: str) -> int | None:
    """The score a pressed key gives; None for a key that is not 1-5."""
    return int(digit) if isinstance(digit, str) and len(digit) == 1 and digit in "12345" else None


@dataclass
class Summary:
    offered: int = 0                      # surveys the callers heard
    counts: dict[int, int] = field(default_factory=lambda: {s: 0 for s in SCORES})

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        n = self.answered
        return round(sum(s * c for s, c in self.counts.items()) / n, 2) if n else None

    @property
    def csat_pct(self) -> float | None:
        n = self.answered
        return round(100.0 * sum(self.counts[s] for s in SATISFIED) / n, 1) if n else None

    def add(self, score: int | None) -> None:
        self.offered += 1
        if score in self.counts:
            self.counts[score] += 1

    def to_dict(self) -> dict[str, Any]:
        return {"offered": self.offered, "answered": self.answered, "average": self.average,
                "csat_pct": self.csat_pct, "distribution": {str(s): c for s, c in self.counts.items()}}


def summarise(results: Iterable[dict[str, Any]], by: Callable[[dict[str, Any]], str | None] | None = None
              ) -> dict[str, Summary]:
    """Survey results ({"score": 1-5 or None, ...}) summed up, all in "" or grouped by `by`."""
    groups: dict[str, Summary] = defaultdict(Summary)
    for r in results:
        key = by(r) if by else ""
        if key is None:
            continue
        groups[key].add(r.get("score") if isinstance(r.get("score"), int) else None)
    return dict(groups)
