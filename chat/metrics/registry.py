"""This process's metrics, for ``GET /metrics`` (chat/web/metrics_api.py; docs/operations.md).

Every web process keeps its own registry and serves it on its own port: Prometheus scrapes each
process (prometheus_client's multiprocess mode is not used, so nothing is written to disk and a
counter costs one increment in memory). Labels carry only what configuration or the code fixes:
a role, a service id, an outcome, a kind. No person, conversation, username, token, endpoint or
address is ever a label value, and every label value is checked against its closed set here
(``ROLES``, ``QUEUE_KINDS``, ``PUSH_OUTCOMES``, ``REDIS_ERROR_KINDS``) or comes from the
services configuration (``service``). A value outside its set is not counted (never an error:
a metric must not fail the work it counts).

On the path of a message there is one counter increment (``message_stored``) and, per receiving
socket, one histogram observation (``relayed``): nothing else, and no Redis round trip.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

ROLES = ("youth", "nurse")
QUEUE_KINDS = ("waiting", "later")
# What chat/push/sender.py logs for one delivery (its ``outcome``), nothing else.
PUSH_OUTCOMES = ("sent", "gone", "retry", "given_up", "refused", "dropped", "skipped", "postponed")
REDIS_ERROR_KINDS = ("connection", "timeout", "full", "other")

# No *_created series: Prometheus knows when it first saw a series.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_*: CPU seconds, resident memory, open fds

# Seconds from a live message reaching this process's feed for a socket (straight from the
# hub, which the store's PUBLISH, in the same atomic step as the XADD, reached) to its frame
# being written to that socket: the fan-out, the outbox queue and the socket write, where a
# busy process shows its load. Measured with this process's monotonic clock: the ``ts`` in a
# deliver frame is whole seconds of the sender's wall clock, too coarse, and another
# process's clock cannot be subtracted from ours.
RELAY_SECONDS = Histogram(
    "helseprat_relay_seconds",
    "A live message from this process's feed to being written to the receiving socket",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY)
MESSAGES = Counter(
    "helseprat_messages", "Messages stored and published by this process, by the sender's role",
    ["role"], registry=REGISTRY)
SOCKETS = Gauge(
    "helseprat_sockets", "WebSockets open on this process, by role", ["role"], registry=REGISTRY)
QUEUE_LENGTH = Gauge(
    "helseprat_queue_length",
    "Conversations in a service's queue (kind=waiting) or answer-later list (kind=later), "
    "read from Redis at scrape", ["service", "kind"], registry=REGISTRY)
REDIS_ERRORS = Counter(
    "helseprat_redis_errors", "Redis errors this process met (after redis-py's retries), by kind",
    ["kind"], registry=REGISTRY)
REDIS_RECONNECTS = Counter(
    "helseprat_redis_pubsub_reconnects",
    "Times this process's pub/sub connection came back after it was lost", registry=REGISTRY)
# A write that waited for replicas (HELSEPRAT_REDIS_WAIT_REPLICAS) and was acked when the
# WAIT's timeout ran out with fewer of them: until a replica has it, losing its primary may lose
# it (docs/operations.md, "Durability"). One count per WAIT, which may cover a batch of appends.
REDIS_WAIT_SHORT = Counter(
    "helseprat_redis_wait_short",
    "Acked writes whose WAIT for replicas timed out with fewer than asked", registry=REGISTRY)
PUSH_DELIVERIES = Counter(
    "helseprat_push_deliveries", "Web Push deliveries by outcome (chat/push/sender.py)",
    ["outcome"], registry=REGISTRY)

# The labelled children made once, so that each is exported (as 0) from the start and the hot
# path is a dictionary look-up and an increment.
_MESSAGES = {role: MESSAGES.labels(role) for role in ROLES}
_SOCKETS = {role: SOCKETS.labels(role) for role in ROLES}
_REDIS_ERRORS = {kind: REDIS_ERRORS.labels(kind) for kind in REDIS_ERROR_KINDS}
_PUSH = {outcome: PUSH_DELIVERIES.labels(outcome) for outcome in PUSH_OUTCOMES}
_observe_relay = RELAY_SECONDS.observe
monotonic = time.monotonic  # the clock ``relayed`` subtracts from


def _inc(children: dict[str, Counter] | dict[str, Gauge], value: str, by: float = 1) -> None:
    child = children.get(value)
    if child is not None:
        child.inc(by)


def message_stored(role: str) -> None:
    """A message was stored (and so published) for a sender of ``role`` ("youth" / "nurse")."""
    _inc(_MESSAGES, role)


def relayed(since: float) -> None:
    """A live message's frame, taken at ``since`` (``monotonic()``), is written to a socket."""
    _observe_relay(monotonic() - since)


def socket_opened(role: str) -> None:
    _inc(_SOCKETS, role)


def socket_closed(role: str) -> None:
    _inc(_SOCKETS, role, -1)


def redis_error_kind(exc: BaseException) -> str:
    """The kind of a Redis (or socket) error: one of ``REDIS_ERROR_KINDS``."""
    if isinstance(exc, OutOfMemoryError):
        return "full"
    if isinstance(exc, RedisTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, RedisConnectionError | OSError):
        return "connection"
    return "other"


def redis_error(exc: BaseException) -> None:
    _REDIS_ERRORS[redis_error_kind(exc)].inc()


def redis_reconnected() -> None:
    REDIS_RECONNECTS.inc()


def replica_wait_short() -> None:
    REDIS_WAIT_SHORT.inc()


def push_outcome(outcome: str) -> None:
    """One Web Push delivery ended (or was put off) with ``outcome`` (``PUSH_OUTCOMES``)."""
    _inc(_PUSH, outcome)


def set_queue_lengths(lengths: dict[str, tuple[int, int]] | None) -> None:
    """Each service's (waiting, later) as just read; None (the read failed): no queue series
    rather than stale ones."""
    QUEUE_LENGTH.clear()
    for service, counts in (lengths or {}).items():
        for kind, n in zip(QUEUE_KINDS, counts, strict=True):
            QUEUE_LENGTH.labels(service, kind).set(n)
