"""Where a conversation belongs in a service's lists and a nurse's slots, from its hash alone
(what the repair sweep makes the lists agree with). No I/O."""

from __future__ import annotations

from chat.domain.conversation import Conversation
from chat.domain.placement import Placement, holds, placement


def conv(**fields: str) -> Conversation:
    base = {"svc": "s", "st": "waiting", "created": "100", "last": "150"}
    return Conversation.from_hash("c1", {**base, **fields})


def test_a_waiting_conversation_belongs_in_its_queue_at_its_place() -> None:
    assert placement(conv(), "s") == Placement(queue=100)
    assert placement(conv(queued="120", flag="acute"), "s") == Placement(queue=120, flag="acute")


def test_an_active_one_in_the_active_set_and_its_holders_slots_only() -> None:
    c = conv(st="active", nurse="n1", claimed_at="130")
    assert placement(c, "s") == Placement(active=130)
    assert holds(c, "n1") and not holds(c, "n2")
    assert not holds(conv(nurse="n1"), "n1")  # a released one keeps no slot


def test_a_later_one_among_the_later_and_on_the_answer_later_list_if_owed() -> None:
    assert placement(conv(st="later"), "s") == Placement(later=150)
    assert placement(conv(st="later", owed="140"), "s") == Placement(later=150, owed=140)


def test_closed_gone_or_moved_belongs_nowhere() -> None:
    for c in (conv(st="closed", flag="acute"), None, conv(svc="other")):
        assert placement(c, "s") == Placement()
    assert not holds(None, "n1")
