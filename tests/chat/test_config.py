"""Configuration parsing and opening hours (no I/O beyond a temp file)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chat.config import ConfigError, load_config, parse_services
from chat.durability import ReplicaWait, parse_replica_wait
from devservices.demo import DEMO_SERVICES, ensure_demo_files

OSLO = ZoneInfo("Europe/Oslo")


def test_demo_services_parse() -> None:
    munis, services = parse_services(tomllib.loads(DEMO_SERVICES))
    assert set(munis) == {"demo"}
    assert set(services) == {"demo-skole", "demo-hfu"}
    hfu = services["demo-hfu"]
    assert hfu.retention_seconds == 30 * 86400
    assert "demo.nurse" in hfu.members


def test_opening_hours_and_holidays() -> None:
    _, services = parse_services(tomllib.loads(DEMO_SERVICES))
    hours = services["demo-hfu"].hours
    wed = dt.datetime(2026, 11, 25, 15, 0, tzinfo=OSLO)  # a Wednesday
    assert hours.is_open(wed)
    assert not hours.is_open(wed.replace(hour=18, minute=0))
    assert not hours.is_open(dt.datetime(2026, 11, 24, 15, 0, tzinfo=OSLO))  # Tuesday
    christmas_eve = dt.datetime(2026, 12, 24, 15, 0, tzinfo=OSLO)  # Thursday, a holiday
    assert not hours.is_open(christmas_eve)
    nxt = hours.next_opening(christmas_eve)
    assert nxt == dt.datetime(2026, 12, 28, 14, 0, tzinfo=OSLO)  # Monday after Christmas


def test_open_all_day_means_until_midnight() -> None:
    """00:00-24:00 has no closed minute before midnight (23:59 as the end used to have one)."""
    toml = ('[[municipality]]\nid="m"\n[[service]]\nid="s"\nmunicipality="m"\n'
            '[service.hours]\nwed="00:00-24:00"')
    _, services = parse_services(tomllib.loads(toml))
    hours = services["s"].hours
    assert hours.is_open(dt.datetime(2026, 11, 25, 23, 59, 30, tzinfo=OSLO))
    assert hours.is_open(dt.datetime(2026, 11, 25, 0, 0, tzinfo=OSLO))
    assert not hours.is_open(dt.datetime(2026, 11, 26, 0, 0, 30, tzinfo=OSLO))  # Thursday
    with pytest.raises(ConfigError, match="not a time of day"):
        parse_services(tomllib.loads(toml.replace("24:00", "24:30")))


def test_daily_hours_with_a_weekday_exception() -> None:
    toml = ('[[municipality]]\nid="m"\n[[service]]\nid="s"\nmunicipality="m"\n'
            '[service.hours]\ndaily="08:00-16:00"\nsat="closed"\nfri="08:00-12:00"')
    hours = parse_services(tomllib.loads(toml))[1]["s"].hours
    assert hours.is_open(dt.datetime(2026, 11, 25, 15, 0, tzinfo=OSLO))  # Wednesday
    assert hours.is_open(dt.datetime(2026, 11, 29, 15, 0, tzinfo=OSLO))  # Sunday: daily
    assert not hours.is_open(dt.datetime(2026, 11, 28, 10, 0, tzinfo=OSLO))  # Saturday
    assert not hours.is_open(dt.datetime(2026, 11, 27, 13, 0, tzinfo=OSLO))  # Friday afternoon


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('[[service]]\nid="x"\nmunicipality="nope"', "not defined"),
        ('[[municipality]]\nid="Bad Id"', "lowercase"),
        ('[[municipality]]\nid="m"\n[[service]]\nid="s"\nmunicipality="m"\n[service.hours]\nmon="9-17"',
         "HH:MM"),
        ('[[municipality]]\nid="m"\n[[service]]\nid="s"\nmunicipality="m"\nretention_days=0',
         "retention_days"),
    ],
)
def test_bad_config_is_refused_with_a_reason(snippet: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_services(tomllib.loads(snippet))


def test_load_config_reads_secrets_from_files(tmp_path: Path) -> None:
    ensure_demo_files(tmp_path)
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://x"})
    assert len(config.secrets.token_key) >= 32
    assert config.secrets.token_key != config.secrets.session_key
    assert (tmp_path / "secrets" / "token_key").stat().st_mode & 0o077 == 0
    (tmp_path / "secrets" / "token_key").write_text("short")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_config({"HELSEPRAT_DATA_DIR": str(tmp_path)})


def test_extension_sections_are_kept_for_the_extension_and_checked_at_start_up(
    tmp_path: Path,
) -> None:
    from chat.app import EXTENSIONS
    from chat.extensions import build

    ensure_demo_files(tmp_path)
    services = tmp_path / "services.toml"
    env = {"HELSEPRAT_DATA_DIR": str(tmp_path), "OTHER_SECRET": "x"}
    config = load_config(env)
    assert "idporten" not in config.sections and build(EXTENSIONS, config) == ()
    assert "OTHER_SECRET" not in config.env  # only HELSEPRAT_* is kept for extensions
    services.write_text(services.read_text() + '\n[idporten]\nissuer = "https://x"\nbogus = 1\n')
    config = load_config(env)  # chat itself does not read [idporten]
    assert config.sections["idporten"]["bogus"] == 1
    with pytest.raises(ConfigError, match=r"\[idporten\]\.bogus"):
        build(EXTENSIONS, config)


ANSWER_LATER_TOML = '[[municipality]]\nid="m"\n[[service]]\nid="s"\nmunicipality="m"\n'


def test_answer_later_defaults_and_settings() -> None:
    svc = parse_services(tomllib.loads(ANSWER_LATER_TOML))[1]["s"]
    later = svc.answer_later
    assert (later.enabled, later.working_days, later.close_after_days) == (True, 1, 14)
    assert later.quiet_hours == (dt.time(21), dt.time(8))
    toml = ANSWER_LATER_TOML + ('[service.answer_later]\nenabled=false\nworking_days=2\n'
                                'close_after_days=7\nquiet_hours=""\n')
    later = parse_services(tomllib.loads(toml))[1]["s"].answer_later
    assert (later.enabled, later.working_days, later.close_after_seconds) == (False, 2, 7 * 86400)
    assert later.quiet_hours is None and not later.is_quiet(dt.time(23))


@pytest.mark.parametrize(("setting", "message"), [
    ("enabled = 1", "answer_later.enabled must be true or false"),
    ("working_days = 0", "answer_later.working_days must be a whole number between 1 and 30"),
    ("working_days = true", "answer_later.working_days must be a whole number"),
    ("close_after_days = 400", "answer_later.close_after_days must be a whole number"),
    ('quiet_hours = "21-08"', "answer_later.quiet_hours: expected HH:MM-HH:MM"),
    ('quiet_hours = "25:00-08:00"', "is not two times of day"),
    ('quiet_hours = "08:00-08:00"', "start and end must differ"),
    ("wokring_days = 2", "unknown setting 'wokring_days'"),
])
def test_answer_later_refuses_bad_settings(setting: str, message: str) -> None:
    toml = ANSWER_LATER_TOML + f"[service.answer_later]\n{setting}\n"
    with pytest.raises(ConfigError, match=r"service\[0\]\.") as err:
        parse_services(tomllib.loads(toml))
    assert message in str(err.value)


def test_quiet_hours_wrap_past_midnight() -> None:
    later = parse_services(tomllib.loads(ANSWER_LATER_TOML))[1]["s"].answer_later
    assert later.is_quiet(dt.time(21)) and later.is_quiet(dt.time(3))
    assert not later.is_quiet(dt.time(8)) and not later.is_quiet(dt.time(20, 59))
    night = dt.datetime(2026, 12, 7, 23, 30, tzinfo=OSLO)
    assert later.quiet_end(night) == dt.datetime(2026, 12, 8, 8, 0, tzinfo=OSLO)
    early = dt.datetime(2026, 12, 8, 6, 0, tzinfo=OSLO)
    assert later.quiet_end(early) == dt.datetime(2026, 12, 8, 8, 0, tzinfo=OSLO)
    day = dt.datetime(2026, 12, 8, 12, 0, tzinfo=OSLO)
    assert later.quiet_end(day) == day


def test_metrics_scrapers_are_loopback_unless_configured(tmp_path: Path) -> None:
    import ipaddress

    ensure_demo_files(tmp_path)
    env = {"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://x"}
    assert load_config(env).metrics_allow == (ipaddress.ip_network("127.0.0.1/32"),
                                              ipaddress.ip_network("::1/128"))
    config = load_config({**env, "HELSEPRAT_METRICS_ALLOW": "10.9.0.0/16, 192.0.2.7"})
    assert [str(n) for n in config.metrics_allow] == ["10.9.0.0/16", "192.0.2.7/32"]
    assert load_config({**env, "HELSEPRAT_METRICS_ALLOW": ""}).metrics_allow == ()  # nobody
    with pytest.raises(ConfigError, match="HELSEPRAT_METRICS_ALLOW: 'prometheus' is not"):
        load_config({**env, "HELSEPRAT_METRICS_ALLOW": "prometheus"})


def test_acked_writes_wait_for_no_replica_unless_configured(tmp_path: Path) -> None:
    ensure_demo_files(tmp_path)
    env = {"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://x"}
    assert load_config(env).replica_wait == ReplicaWait(0, 250)
    assert not ReplicaWait().enabled
    config = load_config({**env, "HELSEPRAT_REDIS_WAIT_REPLICAS": "1",
                          "HELSEPRAT_REDIS_WAIT_TIMEOUT_MS": "100"})
    assert config.replica_wait == ReplicaWait(1, 100) and config.replica_wait.enabled


@pytest.mark.parametrize("env", [
    {"HELSEPRAT_REDIS_WAIT_REPLICAS": "-1"}, {"HELSEPRAT_REDIS_WAIT_REPLICAS": "one"},
    {"HELSEPRAT_REDIS_WAIT_REPLICAS": "17"}, {"HELSEPRAT_REDIS_WAIT_TIMEOUT_MS": "0"},
    {"HELSEPRAT_REDIS_WAIT_TIMEOUT_MS": "60001"}, {"HELSEPRAT_REDIS_WAIT_TIMEOUT_MS": "1.5"}])
def test_a_bad_replica_wait_is_refused_at_start_up(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="HELSEPRAT_REDIS_WAIT"):
        parse_replica_wait(env)
