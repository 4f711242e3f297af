"""Leads' weekly aggregates of appointments: counts only, per EPJ, kind of service and ISO
week of the appointment (Europe/Oslo), never a person or an appointment.

``appt:stats:{YYYY-Www}`` is a hash ``<epj her>:<service category>:<metric>`` → count, kept
``KEEP_DAYS``. The metric of a change is decided here, free of I/O; the worker's inbox counts
each change once (a resent or old copy changes nothing, so counts nothing).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import redis.asyncio as aioredis

from .appointment_record import AppointmentRecord, AppointmentState
from .ical import OSLO

METRICS = ("booked", "cancelled_by_youth", "cancelled_by_epj", "noshow")
KEEP_DAYS = 800
_METRIC_OF = {AppointmentState.CANCELLED: "cancelled_by_youth",
              AppointmentState.CANCELLED_BY_EPJ: "cancelled_by_epj",
              AppointmentState.NOSHOW: "noshow"}


def week_of(moment: datetime | date) -> str:
    day = moment.astimezone(OSLO).date() if isinstance(moment, datetime) else moment
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_around(today: date, back: int, ahead: int) -> list[str]:
    """ISO weeks from ``ahead`` weeks after ``today`` down to ``back`` weeks before it."""
    return [week_of(today + timedelta(weeks=i)) for i in range(ahead, -back - 1, -1)]


def stats_key(week: str) -> str:
    return f"appt:stats:{week}"


def metric(previous: AppointmentRecord | None, record: AppointmentRecord) -> str | None:
    """What a change counts as: a new booked appointment, or a move into a counted state."""
    if record.state is AppointmentState.BOOKED and (
            previous is None or previous.state is AppointmentState.BOOKING_SENT):
        return "booked"  # a new one from the EPJ, or a nurse's proposal the EPJ booked
    if previous is not None and previous.state is record.state:
        return None
    return _METRIC_OF.get(record.state)


async def count(redis: aioredis.Redis, previous: AppointmentRecord | None,
                record: AppointmentRecord) -> None:
    name = metric(previous, record)
    if name is None:
        return
    key = stats_key(week_of(record.start))
    pipe = redis.pipeline(transaction=False)
    pipe.hincrby(key, f"{record.epj_her}:{record.service_category or '-'}:{name}", 1)
    pipe.expire(key, KEEP_DAYS * 86_400)
    await pipe.execute()


async def weekly(redis: aioredis.Redis, weeks: list[str], epj_her: int,
                 category: str) -> list[dict[str, int | str]]:
    """Rows for a lead's page: one per week, each metric's count."""
    pipe = redis.pipeline(transaction=False)
    for week in weeks:
        pipe.hmget(stats_key(week), [f"{epj_her}:{category}:{m}" for m in METRICS])
    rows: list[dict[str, int | str]] = []
    for week, values in zip(weeks, await pipe.execute(), strict=True):
        row: dict[str, int | str] = {"week": week}
        row.update({m: int(v or 0) for m, v in zip(METRICS, values, strict=True)})
        rows.append(row)
    return rows
