"""Where a conversation belongs in its service's lists and in a nurse's slots, as its hash says.

The hash is the authority; the queue, the active set, the later lists, the risk flags and a
nurse's slot set are indexes of it. On a Redis Cluster a move changes them in steps, and the
repair sweep (chat/jobs/repair.py) makes them agree with this again after a lost step.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.domain.conversation import Conversation, State


@dataclass(frozen=True)
class Placement:
    """One conversation in one service's lists: a score where it belongs there, None where it
    does not."""

    queue: int | None = None  # waiting here: its place (unless the gone sweep set it aside)
    active: int | None = None  # active here: since its claim
    later: int | None = None  # later here: the later conversations (score: last activity)
    owed: int | None = None  # later here with an answer owed: the answer-later list
    flag: str = ""  # its risk flag, while open here


def placement(conv: Conversation | None, service: str) -> Placement:
    if conv is None or conv.service != service or conv.state == State.CLOSED:
        return Placement()
    flag = conv.flag
    if conv.state == State.WAITING:
        # Its place: when it entered, moved up by its head start (chat/domain/ordering.py).
        return Placement(queue=conv.queued_since - conv.head_start, flag=flag)
    if conv.state == State.ACTIVE:
        return Placement(active=conv.claimed_at or conv.last, flag=flag)
    return Placement(later=conv.last, owed=conv.owed or None, flag=flag)


def holds(conv: Conversation | None, nurse: str) -> bool:
    """Whether ``nurse``'s slot set should name the conversation: she has it, active."""
    return conv is not None and conv.state == State.ACTIVE and conv.nurse == nurse
