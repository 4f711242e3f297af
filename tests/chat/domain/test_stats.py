"""Dashboard pure logic: median, 90th percentile, day buckets, figures, CSV, inactivity rule."""

from __future__ import annotations

import csv
import io
import tomllib
from zoneinfo import ZoneInfo

import pytest

from chat.actions.transfer import parse_history
from chat.config import ConfigError, parse_services
from chat.domain import stats
from devservices.demo import DEMO_SERVICES


def test_median_odd_even_empty() -> None:
    assert stats.median([]) is None
    assert stats.median([7]) == 7
    assert stats.median([30, 10, 20]) == 20
    assert stats.median([10, 20, 30, 41]) == 25  # mean of the middle two, rounded down
    assert stats.median([1, 2]) == 1


def test_p90_nearest_rank() -> None:
    assert stats.p90([]) is None
    assert stats.p90([5]) == 5
    assert stats.p90(list(range(1, 11))) == 9  # ceil(0.9*10) = 9th smallest
    assert stats.p90(list(range(1, 12))) == 10  # ceil(9.9) = 10th
    assert stats.p90([100, 1, 2, 3]) == 100  # ceil(3.6) = 4th
    assert stats.percentile([1, 2, 3, 4], 50) == 2
    with pytest.raises(ValueError):
        stats.percentile([1], 0)


def test_local_day_follows_the_service_timezone() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    # 2026-03-01 23:30 UTC is already 2 March in Oslo.
    assert stats.local_day(1772407800, oslo) == "2026-03-02"
    assert stats.valid_day("2026-03-02") and not stats.valid_day("2026-3-2")
    assert not stats.valid_day("nonsense")


def test_figures_from_counters_and_samples() -> None:
    f = stats.figures("s", "2026-03-02", {"started": "5", "closed": "3", "o:referred": "2",
                                         "o:youth_ended": "1", "f:acute": "1", "transfers": "1"},
                      [30, 90, 10], [300, 600], ("advice_given", "referred"), 2, 45, 1)
    assert (f.started, f.claimed, f.closed, f.transfers) == (5, 3, 3, 1)
    assert (f.claim_median_s, f.claim_p90_s) == (30, 90)
    assert (f.duration_median_s, f.duration_p90_s) == (450, 600)
    assert f.outcomes == {"advice_given": 0, "referred": 2, "youth_ended": 1}
    assert f.flags == {"concern": 0, "acute": 1}
    assert (f.waiting_now, f.longest_wait_s, f.on_duty) == (2, 45, 1)


def test_csv_has_a_header_and_one_row_per_service() -> None:
    f = stats.figures("s", "2026-03-02", {"started": "1", "o:other": "1"}, [5], [], ("other",),
                      0, None, 0)
    rows = list(csv.reader(io.StringIO(stats.to_csv([f]))))
    assert rows[0][:3] == ["service", "day", "waiting_now"]
    assert "outcome:other" in rows[0] and "flag:acute" in rows[0]
    data = dict(zip(rows[0], rows[1], strict=True))
    assert data["started"] == "1" and data["claim_median_s"] == "5"
    assert data["longest_wait_s"] == "" and data["outcome:other"] == "1"
    assert stats._cell("=HYPERLINK()") == "'=HYPERLINK()"


def test_inactivity_rule() -> None:
    close, warn = 3600, 600
    assert stats.inactivity_due(1000, 1000 + 2999, close, warn, 0) is None
    assert stats.inactivity_due(1000, 1000 + 3000, close, warn, 0) == "warn"
    assert stats.inactivity_due(1000, 1000 + 3000, close, warn, 1000) is None  # warned already
    assert stats.inactivity_due(1000, 1000 + 3000, close, warn, 900) == "warn"  # new silence
    assert stats.inactivity_due(1000, 1000 + 3600, close, warn, 1000) == "close"
    assert stats.inactivity_due(1000, 1000 + 3599, close, 0, 0) is None  # no warning configured


def test_history_field() -> None:
    assert parse_history("") == []
    assert parse_history("a:1,b-x:2,bad") == [{"service": "a", "epoch": 1},
                                              {"service": "b-x", "epoch": 2}]


def test_dashboard_config_defaults_and_checks() -> None:
    _, services = parse_services(tomllib.loads(DEMO_SERVICES))
    s = services["demo-skole"]
    assert (s.target_wait_seconds, s.inactivity_close_minutes, s.inactivity_warning_minutes,
            s.audit_retention_days) == (120, 60, 10, 365)
    doc = tomllib.loads(DEMO_SERVICES)
    doc["service"][0]["inactivity_warning_minutes"] = 90
    with pytest.raises(ConfigError, match="inactivity_warning_minutes"):
        parse_services(doc)
    doc["service"][0]["inactivity_warning_minutes"] = 5
    doc["service"][0]["target_wait_seconds"] = "soon"
    with pytest.raises(ConfigError, match="target_wait_seconds"):
        parse_services(doc)
