"""One queue view (or shared board) handed to many dashboards is encoded once; a new one is
encoded anew, even when it is equal to the last (a view is never changed in place)."""

from __future__ import annotations

import json

from chat.fanout.outbox import EncodedOnce
from chat.protocol import events
from chat.store.queues import QueueView


def test_the_same_view_is_encoded_once_and_a_new_one_again() -> None:
    made: list[QueueView] = []

    def snapshot(view: QueueView) -> events.QueueSnapshot:
        made.append(view)
        return events.QueueSnapshot(service=view.service, items=list(view.items))

    once = EncodedOnce()
    first = QueueView(service="svc", items=({"conversation": "c1", "since": 1},),
                      recent_waits=())
    frames = [once.frame(first, snapshot) for _ in range(50)]
    assert made == [first]
    assert all(f is frames[0] for f in frames)
    assert json.loads(frames[0])["items"] == [{"conversation": "c1", "since": 1}]

    second = QueueView(service="svc", items=(), recent_waits=())
    assert json.loads(once.frame(second, snapshot))["items"] == []
    assert made == [first, second]
    assert once.frame(first, snapshot) == frames[0]  # an older view again: encoded again
    assert len(made) == 3
