"""The order of a service's queue: urgency first, then waiting time, with a bound.

The queue is a sorted set scored by when the conversation entered the queue minus a head start
(docs/queue.md). A conversation the youth said is urgent gets ``[limits]
urgent_head_start_seconds``, one a nurse flagged ``acute`` gets ``acute_head_start_seconds``;
both together get the larger, never the sum. Head starts are bounded, so anyone who has waited
longer than the largest head start is never overtaken by a later arrival again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HeadStarts:
    """Seconds of head start per reason (from ``[limits]``)."""

    urgent: int
    acute: int

    @property
    def bound(self) -> int:
        """The most any conversation can be moved up: the rule's bound (docs/queue.md)."""
        return max(self.urgent, self.acute, 0)


def head_start(urgent: bool, flag: str, starts: HeadStarts) -> int:
    """The head start of a conversation: the youth's own "it's urgent", a nurse's acute flag,
    the larger of the two when both (a flag does not stack on the youth's urgency: the bound
    stays one head start)."""
    out = 0
    if urgent:
        out = max(out, starts.urgent)
    if flag == "acute":
        out = max(out, starts.acute)
    return out


def queue_score(since: float, head: int) -> float:
    """The conversation's score in its queue (lower: further ahead): when it entered the
    queue, moved up by its head start."""
    return since - head


def overtakes(score_a: float, score_b: float) -> bool:
    """Whether ``a`` is ahead of ``b`` in the queue (equal scores: Redis orders by member,
    which for random ids is neither; callers should not rely on it)."""
    return score_a < score_b


@dataclass(frozen=True)
class Intake:
    """What the youth chose to say before the chat (both optional): a topic code of the
    service and "it's urgent"."""

    topic: str = ""
    urgent: bool = False


NO_INTAKE = Intake()
