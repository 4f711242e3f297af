"""The periodic jobs every web process runs (each by one process at a time)."""

from __future__ import annotations

from chat.actions.conversations import Actions
from chat.jobs.autoclose import AutoClose
from chat.jobs.gone import GoneSweep
from chat.jobs.later import LaterSweep
from chat.jobs.repair import RepairSweep
from chat.jobs.runner import Job


def all_jobs(actions: Actions, test_clock: bool) -> list[Job]:
    jobs: list[Job] = [
        AutoClose(actions, test_clock),
        GoneSweep(actions, test_clock),
        LaterSweep(actions, test_clock),
    ]
    if actions.store.repairs is not None:  # a Redis Cluster: moves run in steps
        jobs.append(RepairSweep(actions, test_clock))
    return jobs
