"""The push room's keys: sealing, the Topic, reading the files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chat.errors import ConfigError
from chat.push.keys import (
    SEAL_FILE,
    VAPID_FILE,
    Unsealable,
    load_push_keys,
    open_sealed,
    seal,
    topic,
    unb64url,
    write_push_keys,
)

KEY = bytes(range(32))


def test_a_sealed_subscription_opens_only_with_its_associated_data() -> None:
    sealed = seal(KEY, b"secret endpoint", "conv-a")
    assert b"secret" not in unb64url(sealed) and "secret" not in sealed
    assert open_sealed(KEY, sealed, "conv-a") == b"secret endpoint"
    with pytest.raises(Unsealable):
        open_sealed(KEY, sealed, "conv-b")  # moved to another conversation's key: refused
    with pytest.raises(Unsealable):
        open_sealed(os.urandom(32), sealed, "conv-a")
    with pytest.raises(Unsealable):
        open_sealed(KEY, sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1], "conv-a")
    assert seal(KEY, b"x", "a") != seal(KEY, b"x", "a")  # a fresh nonce each time


def test_the_topic_is_22_base64url_characters_fixed_per_name_and_opaque() -> None:
    t = topic(KEY, "conv-a")
    assert len(t) == 22 and t == topic(KEY, "conv-a") and t != topic(KEY, "conv-b")
    assert set(t) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert t != topic(os.urandom(32), "conv-a") and "conv" not in t


def test_the_files_are_made_once_and_read(tmp_path: Path) -> None:
    assert load_push_keys(tmp_path, required=False) is None
    write_push_keys(tmp_path)
    keys = load_push_keys(tmp_path, required=True)
    assert keys is not None and len(keys.seal_key) == 32
    assert len(keys.public_key) == 87 and unb64url(keys.public_key)[0] == 4
    before = (tmp_path / VAPID_FILE).read_bytes(), (tmp_path / SEAL_FILE).read_bytes()
    write_push_keys(tmp_path)  # never replaced: the browsers subscribed to this key
    assert ((tmp_path / VAPID_FILE).read_bytes(), (tmp_path / SEAL_FILE).read_bytes()) == before
    assert (tmp_path / SEAL_FILE).stat().st_mode & 0o077 == 0


def test_missing_or_wrong_files_are_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"vapid_private\.pem"):
        load_push_keys(tmp_path, required=True)
    write_push_keys(tmp_path)
    (tmp_path / SEAL_FILE).write_bytes(b"short")
    with pytest.raises(ConfigError, match="32 bytes"):
        load_push_keys(tmp_path, required=False)
    (tmp_path / SEAL_FILE).write_bytes(os.urandom(32))
    (tmp_path / VAPID_FILE).write_text("not a key")
    with pytest.raises(ConfigError, match="PEM"):
        load_push_keys(tmp_path, required=False)


def test_a_production_server_without_push_keys_does_not_start(tmp_path: Path) -> None:
    from chat.app import create_app
    from chat.config import load_config
    from tests.servers import write_test_config

    write_test_config(tmp_path)
    (tmp_path / "secrets" / SEAL_FILE).unlink()
    env = {"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1"}
    create_app(load_config({**env, "HELSEPRAT_ENV": "test"}))  # dev and test: push is off
    with pytest.raises(ConfigError, match=r"push\.key"):
        create_app(load_config({**env, "HELSEPRAT_ENV": "prod"}))
