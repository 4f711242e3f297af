"""The queue's order: urgency first, then waiting time, and the bound that keeps anyone who
has waited longer than the largest head start from being overtaken again."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chat.domain.ordering import HeadStarts, head_start, overtakes, queue_score

STARTS = HeadStarts(urgent=600, acute=900)


def test_head_start_of_each_reason_and_never_the_sum() -> None:
    assert head_start(False, "", STARTS) == 0
    assert head_start(True, "", STARTS) == 600
    assert head_start(False, "acute", STARTS) == 900
    assert head_start(True, "acute", STARTS) == 900  # the larger, not 1500
    assert head_start(False, "concern", STARTS) == 0  # only acute moves a conversation up
    assert STARTS.bound == 900
    assert HeadStarts(urgent=1200, acute=300).bound == 1200


def test_an_urgent_arrival_overtakes_only_those_who_started_less_than_the_head_start_before() -> None:
    waiting_since_0 = queue_score(0, head_start(False, "", STARTS))
    urgent_at_599 = queue_score(599, head_start(True, "", STARTS))
    urgent_at_601 = queue_score(601, head_start(True, "", STARTS))
    assert overtakes(urgent_at_599, waiting_since_0)
    assert not overtakes(urgent_at_601, waiting_since_0)
    # Two urgent youths keep their own order.
    assert overtakes(queue_score(10, 600), queue_score(20, 600))


# A queue: (entered at, youth said urgent, nurse flagged acute) per conversation.
entries = st.lists(
    st.tuples(st.integers(0, 20_000), st.booleans(), st.booleans()), min_size=2, max_size=40)
head_starts = st.builds(HeadStarts, st.integers(0, 3600), st.integers(0, 3600))


@given(entries, head_starts)
def test_no_one_is_overtaken_by_anyone_who_started_more_than_the_bound_after_them(
    queue: list[tuple[int, bool, bool]], starts: HeadStarts,
) -> None:
    scored = [(t, queue_score(t, head_start(u, "acute" if a else "", starts)))
              for t, u, a in queue]
    for t_y, s_y in scored:
        for t_x, s_x in scored:
            if t_x > t_y + starts.bound:
                assert not overtakes(s_x, s_y)
            if overtakes(s_x, s_y):  # whoever is ahead started at most the bound later
                assert t_x < t_y + starts.bound


@given(entries, head_starts)
def test_urgency_never_puts_anyone_behind_a_later_arrival_of_the_same_urgency(
    queue: list[tuple[int, bool, bool]], starts: HeadStarts,
) -> None:
    for t_y, u_y, a_y in queue:
        for t_x, u_x, a_x in queue:
            same = (u_x, a_x) == (u_y, a_y)
            if same and t_x > t_y:
                h = head_start(u_x, "acute" if a_x else "", starts)
                assert not overtakes(queue_score(t_x, h), queue_score(t_y, h))
