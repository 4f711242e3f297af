"""The metrics' label sets, without I/O: only closed sets of words and configured service ids
are ever label values, so no person, conversation, token or address can become one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.metrics import registry as metrics

ALLOWED_LABELS = {"role", "service", "outcome", "kind", "le"}  # le: a histogram's buckets
CLOSED = {"role": set(metrics.ROLES), "outcome": set(metrics.PUSH_OUTCOMES)}


def families() -> list[tuple[str, set[str], list[dict[str, str]]]]:
    return [(f.name, {k for s in f.samples for k in s.labels}, [s.labels for s in f.samples])
            for f in metrics.REGISTRY.collect()]


def test_only_role_service_outcome_and_kind_are_labels() -> None:
    metrics.set_queue_lengths({"demo-skole": (3, 1)})
    names = set()
    for name, labels, _ in families():
        names.add(name)
        assert labels <= ALLOWED_LABELS, (name, labels)
    assert {"helseprat_relay_seconds", "helseprat_messages", "helseprat_sockets",
            "helseprat_queue_length", "helseprat_redis_errors",
            "helseprat_redis_pubsub_reconnects", "helseprat_push_deliveries"} <= names


def test_every_label_value_is_from_its_closed_set() -> None:
    metrics.set_queue_lengths({"demo-skole": (3, 1)})
    for name, _, label_sets in families():
        for labels in label_sets:
            for key, allowed in CLOSED.items():
                if key in labels:
                    assert labels[key] in allowed, (name, labels)
            if name == "helseprat_queue_length":
                assert labels["kind"] in metrics.QUEUE_KINDS
            if name == "helseprat_redis_errors":
                assert labels["kind"] in metrics.REDIS_ERROR_KINDS


def test_a_role_or_outcome_outside_the_set_is_not_counted() -> None:
    before = generate_latest(metrics.REGISTRY).decode()
    metrics.message_stored("demo.nurse")  # no exception: a metric never fails the work
    metrics.push_outcome("https://push.example/abc")
    metrics.socket_opened("127.0.0.1")
    metrics.socket_closed("127.0.0.2")
    after = generate_latest(metrics.REGISTRY).decode()
    for value in ("demo.nurse", "push.example", "127.0.0."):
        assert value not in after
    strip = re.compile(r"^process_.*$", re.MULTILINE)  # CPU and memory move by themselves
    assert strip.sub("", after) == strip.sub("", before)


def test_each_fixed_series_is_exported_from_the_start() -> None:
    text = generate_latest(metrics.REGISTRY).decode()
    for role in metrics.ROLES:
        assert f'helseprat_sockets{{role="{role}"}}' in text
        assert f'helseprat_messages_total{{role="{role}"}}' in text
    for outcome in metrics.PUSH_OUTCOMES:
        assert f'helseprat_push_deliveries_total{{outcome="{outcome}"}}' in text
    assert "_created" not in text


def test_counters_count() -> None:
    def get(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    before = get("helseprat_messages_total", role="nurse")
    metrics.message_stored("nurse")
    assert get("helseprat_messages_total", role="nurse") == before + 1
    n = get("helseprat_relay_seconds_count")
    metrics.relayed(metrics.monotonic())
    assert get("helseprat_relay_seconds_count") == n + 1
    sent = get("helseprat_push_deliveries_total", outcome="sent")
    metrics.push_outcome("sent")
    assert get("helseprat_push_deliveries_total", outcome="sent") == sent + 1
    open_ = get("helseprat_sockets", role="youth")
    metrics.socket_opened("youth")
    metrics.socket_closed("youth")
    assert get("helseprat_sockets", role="youth") == open_


@pytest.mark.parametrize(("exc", "kind"), [
    (OutOfMemoryError("OOM command not allowed"), "full"),
    (RedisTimeoutError("Timeout"), "timeout"),
    (TimeoutError(), "timeout"),
    (RedisConnectionError("Connection refused"), "connection"),
    (ConnectionResetError(), "connection"),
    (ResponseError("WRONGTYPE"), "other"),
])
def test_redis_errors_by_kind(exc: BaseException, kind: str) -> None:
    assert metrics.redis_error_kind(exc) == kind


def test_queue_lengths_replace_what_was_there() -> None:
    metrics.set_queue_lengths({"a": (2, 5), "b": (0, 0)})
    get = metrics.REGISTRY.get_sample_value
    assert get("helseprat_queue_length", {"service": "a", "kind": "waiting"}) == 2
    assert get("helseprat_queue_length", {"service": "a", "kind": "later"}) == 5
    metrics.set_queue_lengths({"b": (1, 0)})
    assert get("helseprat_queue_length", {"service": "a", "kind": "waiting"}) is None
    metrics.set_queue_lengths(None)  # the read failed: nothing rather than stale numbers
    assert get("helseprat_queue_length", {"service": "b", "kind": "waiting"}) is None


def exported_names() -> set[str]:
    """Every sample name, and every family name (a gauge without children has no sample)."""
    families = list(metrics.REGISTRY.collect())
    return {f.name for f in families} | {s.name for f in families for s in f.samples}


def test_the_dashboard_and_the_docs_name_only_metrics_that_exist() -> None:
    root = Path(__file__).resolve().parents[3]
    dashboard = json.loads((root / "docs/grafana-helseprat.json").read_text())
    used = {name for p in dashboard["panels"] for t in p["targets"]
            for name in re.findall(r"helseprat_\w+", t["expr"])}
    assert used and used <= exported_names(), used - exported_names()
    docs = (root / "docs/operations.md").read_text()
    for family in metrics.REGISTRY.collect():
        if family.name.startswith("helseprat_"):
            suffix = "_total" if family.type == "counter" else ""
            assert f"`{family.name}{suffix}`" in docs, family.name
