"""Checking a browser's push subscription: pure, no I/O."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat.errors import BadSubscription
from chat.push.keys import b64url
from chat.push.subscription import Subscription, origin_allowed, parse_origins, validate


def p256dh() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64url(key.public_bytes(serialization.Encoding.X962,
                                   serialization.PublicFormat.UncompressedPoint))


def raw(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc", **keys: object) -> dict[str, object]:
    return {"endpoint": endpoint,
            "keys": {"p256dh": p256dh(), "auth": b64url(os.urandom(16)), **keys}, "lang": "nn"}


def test_a_browser_subscription_is_accepted_with_a_fresh_tag() -> None:
    given = raw()
    sub = validate(given)
    assert sub.endpoint == given["endpoint"] and sub.lang == "nn"
    assert len(sub.p256dh) == 87 and len(sub.auth) == 22
    assert len(sub.tag) == 16 and validate(given).tag != sub.tag  # random, per subscription
    assert Subscription.from_bytes(sub.to_bytes()) == sub


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/x",
    "https://updates.push.services.mozilla.com/wpush/v2/x",
    "https://db5p.notify.windows.com/w/?token=x",
    "https://web.push.apple.com/QGx",
    "https://api.push.apple.com/3/device/x",
])
def test_the_known_push_services_are_allowed(endpoint: str) -> None:
    assert origin_allowed(endpoint)


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/x",  # not https
    "https://fcm.googleapis.com.evil.example/x",
    "https://evilfcm.googleapis.com/x",
    "https://notify.windows.com/x",  # the wildcard needs a label
    "https://evil.example/push.apple.com",
    "https://user@fcm.googleapis.com/x",
    "https://fcm.googleapis.com:8443/x",
    "http://127.0.0.1:9999/push/x",  # the stand-in, unless the operator adds it
    "ftp://fcm.googleapis.com/x",
    "not a url",
])
def test_other_endpoints_are_refused(endpoint: str) -> None:
    assert not origin_allowed(endpoint)
    with pytest.raises(BadSubscription):
        validate(raw(endpoint))


def test_an_extra_origin_is_allowed_exactly() -> None:
    extra = parse_origins(" http://127.0.0.1:9999/ , https://push.example.org")
    assert extra == ("http://127.0.0.1:9999", "https://push.example.org")
    assert validate(raw("http://127.0.0.1:9999/push/abc"), extra).endpoint.endswith("/abc")
    assert not origin_allowed("http://127.0.0.1:9998/push/abc", extra)
    assert not origin_allowed("http://127.0.0.1/push/abc", extra)


def test_an_endpoint_longer_than_1024_characters_is_refused() -> None:
    base = "https://fcm.googleapis.com/"
    assert validate(raw(base + "a" * (1024 - len(base))))
    with pytest.raises(BadSubscription) as err:
        validate(raw(base + "a" * (1025 - len(base))))
    assert err.value.code == "bad_subscription" and err.value.http_status == 400


def compressed() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64url(key.public_bytes(serialization.Encoding.X962,
                                   serialization.PublicFormat.CompressedPoint))


@pytest.mark.parametrize("keys", [
    {"p256dh": "not base64!"},
    {"p256dh": b64url(b"\x04" + os.urandom(64))},  # 65 bytes, not on the curve (nearly surely)
    {"p256dh": b64url(b"\x04" + b"\x00" * 64)},
    {"p256dh": "BA" * 43},
    {"auth": b64url(os.urandom(15))},
    {"auth": b64url(os.urandom(17))},
    {"auth": 22},
    {"auth": "x+/x" * 5 + "aa"},  # base64, not base64url
])
def test_malformed_keys_are_refused(keys: dict[str, object]) -> None:
    with pytest.raises(BadSubscription):
        validate(raw(**keys))


def test_a_compressed_point_is_refused() -> None:
    with pytest.raises(BadSubscription):
        validate(raw(p256dh=compressed()))


def test_missing_parts_and_unknown_languages_are_refused() -> None:
    for bad in ({"endpoint": "https://fcm.googleapis.com/x"},
                {**raw(), "keys": "x"}, {**raw(), "lang": "sv"}, {**raw(), "endpoint": 5}):
        with pytest.raises(BadSubscription):
            validate(bad)
