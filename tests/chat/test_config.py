"""Configuration parsing and opening hours (no I/O beyond a temp file)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chat.config import ConfigError, load_config, parse_services
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
