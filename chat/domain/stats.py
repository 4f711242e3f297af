"""Statistics for the lead overview: pure functions, no I/O.

Everything here works on metadata only: counts, outcome codes, flag kinds and durations in
whole seconds. Nothing identifies a person or carries content.

Definitions (also shown to leads on the overview page):

- median: the middle value of the sorted samples; with an even number of samples, the mean of
  the two middle values, rounded down to whole seconds.
- 90th percentile: nearest rank, the smallest sample with at least 90 % of samples at or below
  it (the ``ceil(0.9 n)``-th smallest).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

FLAG_KINDS = ("concern", "acute")


def intake_counters(topic: str, urgent: bool) -> list[str]:
    """The week's intake counters one start adds to: its topic's and "urgent"."""
    return ([f"t:{topic}"] if topic else []) + (["urgent"] if urgent else [])


def median(samples: Sequence[int]) -> int | None:
    if not samples:
        return None
    s = sorted(samples)
    mid = len(s) // 2
    if len(s) % 2:
        return s[mid]
    return (s[mid - 1] + s[mid]) // 2


def percentile(samples: Sequence[int], p: float) -> int | None:
    """Nearest-rank percentile (0 < p <= 100)."""
    if not samples:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    s = sorted(samples)
    rank = math.ceil(p / 100 * len(s))
    return s[max(rank, 1) - 1]


def p90(samples: Sequence[int]) -> int | None:
    return percentile(samples, 90)


def local_day(ts: float, tz: ZoneInfo) -> str:
    """The service-local calendar day of a timestamp, as YYYY-MM-DD (the stats bucket)."""
    return dt.datetime.fromtimestamp(ts, tz=tz).date().isoformat()


def iso_week(day: str) -> str:
    """The ISO week ("2026-W49") of a local day ("2026-12-02")."""
    year, week, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def valid_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


@dataclass(frozen=True)
class DayFigures:
    """One service's figures for one day, plus the live queue figures."""

    service: str
    day: str
    waiting_now: int
    longest_wait_s: int | None
    on_duty: int
    started: int
    claimed: int
    closed: int
    transfers: int
    auto_closed: int
    claim_median_s: int | None
    claim_p90_s: int | None
    duration_median_s: int | None
    duration_p90_s: int | None
    outcomes: Mapping[str, int] = field(default_factory=dict)
    flags: Mapping[str, int] = field(default_factory=dict)
    # Of the day's ISO week: owed answers that waited in the answer-later list, answered, and
    # of those, answered by the promised time.
    later_answered: int = 0
    later_within_target: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service, "day": self.day, "waiting_now": self.waiting_now,
            "longest_wait_s": self.longest_wait_s, "on_duty": self.on_duty,
            "started": self.started, "claimed": self.claimed, "closed": self.closed,
            "transfers": self.transfers, "auto_closed": self.auto_closed,
            "claim_median_s": self.claim_median_s, "claim_p90_s": self.claim_p90_s,
            "duration_median_s": self.duration_median_s, "duration_p90_s": self.duration_p90_s,
            "outcomes": dict(self.outcomes), "flags": dict(self.flags),
            "later_answered": self.later_answered,
            "later_within_target": self.later_within_target,
        }


def figures(
    service: str, day: str, counters: Mapping[str, str | int], claim_waits: Iterable[int],
    durations: Iterable[int], outcomes: Sequence[str], waiting_now: int,
    longest_wait_s: int | None, on_duty: int, later: tuple[int, int] = (0, 0),
) -> DayFigures:
    """Turn the stored counters and samples of a day into the figures a lead sees."""
    waits = [int(x) for x in claim_waits]
    durs = [int(x) for x in durations]

    def count(name: str) -> int:
        return int(counters.get(name, 0))

    known = list(outcomes) + sorted(
        k[2:] for k in counters if k.startswith("o:") and k[2:] not in outcomes)
    return DayFigures(
        service=service, day=day, waiting_now=waiting_now, longest_wait_s=longest_wait_s,
        on_duty=on_duty, started=count("started"), claimed=len(waits), closed=count("closed"),
        transfers=count("transfers"), auto_closed=count("auto_closed"),
        claim_median_s=median(waits), claim_p90_s=p90(waits),
        duration_median_s=median(durs), duration_p90_s=p90(durs),
        outcomes={o: count("o:" + o) for o in known},
        flags={k: count("f:" + k) for k in FLAG_KINDS},
        later_answered=later[0], later_within_target=later[1],
    )


CSV_COLUMNS = ("service", "day", "waiting_now", "longest_wait_s", "on_duty", "started",
               "claimed", "closed", "transfers", "auto_closed", "claim_median_s", "claim_p90_s",
               "duration_median_s", "duration_p90_s")


def to_csv(rows: Sequence[DayFigures]) -> str:
    """One line per service; outcome and flag counts as extra columns (outcome:<code>)."""
    outcome_cols = sorted({o for r in rows for o in r.outcomes})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([*CSV_COLUMNS, *(f"outcome:{o}" for o in outcome_cols),
                *(f"flag:{k}" for k in FLAG_KINDS)])
    for r in rows:
        data = r.as_json()
        w.writerow([_cell(data[c]) for c in CSV_COLUMNS]
                   + [r.outcomes.get(o, 0) for o in outcome_cols]
                   + [r.flags.get(k, 0) for k in FLAG_KINDS])
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: service names come from config, but be safe anyway.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def inactivity_due(last: int, now: float, close_after_s: int, warn_before_s: int,
                   warned_for: int) -> str | None:
    """What the sweep should do with an active conversation: "close", "warn" or None.

    ``warned_for`` is the ``last`` activity time a warning was already sent for (0: none).
    """
    idle = now - last
    if idle >= close_after_s:
        return "close"
    if warn_before_s > 0 and idle >= close_after_s - warn_before_s and warned_for != last:
        return "warn"
    return None
