"""The admin commands a municipality's IT uses, run as real processes against a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis.asyncio as aioredis

from chat.actions.accounts import Accounts
from chat.clock import SystemClock
from chat.config import load_config
from tests.servers import write_test_config


def helseprat(data_dir: Path, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HELSEPRAT_DATA_DIR=str(data_dir), REDIS_URL=redis_url)
    return subprocess.run([sys.executable, "-m", "chat.cli", *args], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


async def test_nurse_service_team_and_config_commands(tmp_path: Path, redis_url: str) -> None:
    write_test_config(tmp_path)
    ok = helseprat(tmp_path, redis_url, "config", "check")
    assert ok.returncode == 0 and "configuration ok" in ok.stdout

    pw = tmp_path / "pw"
    pw.write_text("a long enough password")
    r = helseprat(tmp_path, redis_url, "nurse", "add", "kari", "--role", "lead", "--name",
                  "Kari", "--service", "demo-hfu", "--password-file", str(pw))
    assert r.returncode == 0, r.stderr
    listed = helseprat(tmp_path, redis_url, "nurse", "list").stdout
    assert "kari\tlead\tactive\tdemo-hfu" in listed
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})
    assert "kari" in config.services["demo-hfu"].members

    client = aioredis.from_url(redis_url, decode_responses=True)
    accounts = Accounts(config, client, SystemClock())
    cookie, _session = await accounts.login("kari", "a long enough password")
    assert await accounts.session(cookie) is not None
    assert helseprat(tmp_path, redis_url, "nurse", "disable", "kari").returncode == 0
    assert await accounts.session(cookie) is None  # sessions end with the account
    assert "disabled" in helseprat(tmp_path, redis_url, "nurse", "list").stdout
    await client.aclose()

    short = tmp_path / "short"
    short.write_text("short")
    assert helseprat(tmp_path, redis_url, "nurse", "add", "x", "--password-file",
                     str(short)).returncode == 2

    r = helseprat(tmp_path, redis_url, "service", "add", "--id", "ny-skole", "--municipality",
                  "demo", "--name", "Ny skole", "--hours", "mon=08:00-15:30")
    assert r.returncode == 0, r.stderr
    assert "ny-skole\tdemo\tschool\t30d\tNy skole" in helseprat(
        tmp_path, redis_url, "service", "list").stdout
    bad = helseprat(tmp_path, redis_url, "service", "add", "--id", "x", "--municipality",
                    "nowhere", "--name", "X")
    assert bad.returncode == 2 and "not defined" in bad.stderr
    assert helseprat(tmp_path, redis_url, "config", "check").returncode == 0  # file still loads

    key = tmp_path / "offline" / "ny-skole.json"
    key.parent.mkdir()
    r = helseprat(tmp_path, redis_url, "team", "init", "--service", "ny-skole",
                  "--key-file", str(key))
    assert r.returncode == 0 and "root fingerprint" in r.stdout
    assert key.stat().st_mode & 0o077 == 0
    assert helseprat(tmp_path, redis_url, "team", "init", "--service", "ny-skole",
                     "--key-file", str(key)).returncode == 2  # never overwrite a root
    assert "epoch 2" in helseprat(tmp_path, redis_url, "team", "rotate", "--key-file",
                                  str(key)).stdout
    missing = helseprat(tmp_path, redis_url, "team", "member-add", "--key-file", str(key),
                        "--nurse", "kari")
    assert missing.returncode == 1 and "no device key" in missing.stderr


def test_bad_configuration_is_reported_not_raised(tmp_path: Path) -> None:
    write_test_config(tmp_path, "[[service]]\nid = 'x'\nmunicipality = 'nope'\n")
    r = helseprat(tmp_path, "redis://127.0.0.1:1", "config", "check")
    assert r.returncode == 2
    assert "configuration error" in r.stderr and "Traceback" not in r.stderr
