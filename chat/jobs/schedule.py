"""The periodic jobs every web process runs (each by one process at a time)."""

from __future__ import annotations

from chat.actions.conversations import Actions
from chat.jobs.autoclose import AutoClose
from chat.jobs.runner import Job


def all_jobs(actions: Actions, test_clock: bool) -> list[Job]:
    return [
        AutoClose(actions, test_clock),
    ]
