"""The Web Push stand-in over real sockets: real pushes encrypted and signed by pywebpush and
py-vapid arrive decrypted; every malformed push is refused the way a push service refuses it;
each failure mode answers as promised."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from py_vapid import Vapid
from pywebpush import WebPusher, webpush

from devservices.pushservice.client import AsyncPushServiceClient, PushServiceClient, Subscription
from devservices.pushservice.process import PushServiceProcess

SUB = "mailto:drift@helseprat.invalid"
PAYLOAD = json.dumps({"title": "Du har fått svar", "tag": "t-9d2f"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_k(key: ec.EllipticCurvePrivateKey) -> str:
    return b64(key.public_key().public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint))


def sign_jwt(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any],
             header: dict[str, Any] | None = None) -> str:
    """An ES256 compact JWS, made here rather than by py-vapid so claims can be wrong on purpose."""
    head = b64(json.dumps(header or {"typ": "JWT", "alg": "ES256"}).encode())
    body = b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
    return f"{head}.{body}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture
def client(push_service: PushServiceProcess) -> Iterator[PushServiceClient]:
    c = PushServiceClient(push_service.base)
    c.clear()
    yield c


@pytest.fixture(scope="module")
def vapid() -> Vapid:
    v = Vapid()
    v.generate_keys()
    return v


def claims(origin: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"aud": origin, "exp": int(time.time()) + 3600, "sub": SUB}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def encrypted(sub: Subscription, data: str = PAYLOAD) -> bytes:
    body: bytes = WebPusher(sub.info()).encode(data.encode(), "aes128gcm")["body"]
    return body


def post(sub: Subscription, body: bytes, headers: dict[str, str], timeout: float = 5.0) -> httpx.Response:
    base = {"Content-Encoding": "aes128gcm"} if body else {}
    return httpx.post(sub.endpoint, content=body, headers=base | headers, timeout=timeout)


def signed(sub: Subscription, vapid: Vapid, origin: str, **headers: str) -> dict[str, str]:
    token = sign_jwt(vapid.private_key, claims(origin))
    return {"TTL": "60", "Authorization": f"vapid t={token}, k={public_k(vapid.private_key)}"} | headers


def test_a_real_push_arrives_decrypted(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    assert sub.endpoint == f"{client.base}/push/{sub.id}"
    assert (len(sub.p256dh), len(sub.auth)) == (87, 22)
    resp = webpush(sub.info(), PAYLOAD, vapid_private_key=vapid, vapid_claims={"sub": SUB},
                   ttl=345600, headers={"Urgency": "normal", "Topic": "Ab-_0123456789abcdefghi"})
    assert not isinstance(resp, str) and resp.status_code == 201
    assert resp.headers["Location"].startswith(client.base + "/message/")
    assert resp.headers["TTL"] == "345600"
    [msg] = client.messages(sub.id)
    assert msg.payload == PAYLOAD and msg.json()["title"] == "Du har fått svar"
    assert (msg.ttl, msg.urgency, msg.topic, msg.sub) == (345600, "normal", "Ab-_0123456789abcdefghi", SUB)
    assert msg.received_at <= time.time()
    assert client.attempts(sub.id) == 1


def test_the_rfc_header_form_and_a_push_without_payload(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    resp = post(sub, encrypted(sub, "hei"), signed(sub, vapid, client.base))  # "t=…, k=…"
    assert resp.status_code == 201
    assert post(sub, b"", signed(sub, vapid, client.base)).status_code == 201
    assert [(m.payload, m.urgency, m.topic) for m in client.messages(sub.id)] == [
        ("hei", None, None), (None, None, None)]


@pytest.mark.parametrize(("ttl", "code"), [(None, "missing_ttl"), ("soon", "bad_ttl"), ("-1", "bad_ttl")])
def test_ttl_is_required(client: PushServiceClient, vapid: Vapid, ttl: str | None, code: str) -> None:
    sub = client.subscribe()
    headers = signed(sub, vapid, client.base)
    del headers["TTL"]
    resp = post(sub, encrypted(sub), headers | ({} if ttl is None else {"TTL": ttl}))
    assert (resp.status_code, resp.json()["error"]) == (400, code)
    assert client.messages(sub.id) == [] and client.attempts(sub.id) == 1


def test_without_vapid_the_push_is_unauthorized(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    for auth in (None, "WebPush abc", "Bearer x", "vapid t=only-a-token"):
        headers = {"TTL": "60"} | ({} if auth is None else {"Authorization": auth})
        resp = post(sub, encrypted(sub), headers)
        assert (resp.status_code, resp.json()["error"]) == (401, "missing_vapid"), auth
        assert resp.headers["WWW-Authenticate"] == "vapid"
    assert client.messages(sub.id) == []


BAD_TOKENS = {
    "expired": ({"exp": -10}, "expired"),
    "more than a day ahead": ({"exp": 86400 + 120}, "exp_too_far"),
    "exp not a number": ({"exp": "tomorrow"}, "bad_exp"),
    "wrong aud": ({"aud": "https://fcm.googleapis.com"}, "wrong_aud"),
    "aud with a path": ({"aud": "{origin}/push"}, "wrong_aud"),
    "no sub": ({"sub": None}, "bad_sub"),
    "sub not a contact URI": ({"sub": "drift"}, "bad_sub"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_wrong_claim_is_forbidden(client: PushServiceClient, vapid: Vapid, case: str) -> None:
    sub = client.subscribe()
    over, code = BAD_TOKENS[case]
    fixed = {k: (int(time.time()) + v if k == "exp" and isinstance(v, int) else
                 v.format(origin=client.base) if isinstance(v, str) else v) for k, v in over.items()}
    token = sign_jwt(vapid.private_key, claims(client.base, **fixed))
    resp = post(sub, encrypted(sub), {"TTL": "60", "Authorization":
                                      f"vapid t={token}, k={public_k(vapid.private_key)}"})
    assert (resp.status_code, resp.json()["error"]) == (403, code)
    assert client.messages(sub.id) == []


def test_a_bad_signature_or_key_is_forbidden(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    other = ec.generate_private_key(ec.SECP256R1())
    good = sign_jwt(vapid.private_key, claims(client.base))
    head, body, sig = good.split(".")
    flipped = f"{head}.{body}.{sig[:10]}{'A' if sig[10] != 'A' else 'B'}{sig[11:]}"
    cases = {
        "signed by another key than k": (sign_jwt(other, claims(client.base)), public_k(vapid.private_key),
                                         "bad_signature"),
        "signature altered": (flipped, public_k(vapid.private_key), "bad_signature"),
        "HS256": (sign_jwt(vapid.private_key, claims(client.base), {"alg": "HS256"}),
                  public_k(vapid.private_key), "bad_jwt"),
        "not a JWT": ("abc.def", public_k(vapid.private_key), "bad_jwt"),
        "k not a point": (good, b64(b"\x04" + b"\x01" * 64), "bad_vapid_key"),
    }
    for name, (token, k, code) in cases.items():
        resp = post(sub, encrypted(sub), {"TTL": "60", "Authorization": f"vapid t={token}, k={k}"})
        assert (resp.status_code, resp.json()["error"]) == (403, code), name
    assert client.messages(sub.id) == []


def test_a_restricted_subscription_takes_only_its_key(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe(application_server_key=public_k(vapid.private_key))
    other = Vapid()
    other.generate_keys()
    resp = post(sub, encrypted(sub), signed(sub, other, client.base))
    assert (resp.status_code, resp.json()["error"]) == (403, "key_mismatch")
    assert post(sub, encrypted(sub), signed(sub, vapid, client.base)).status_code == 201


def test_a_payload_that_does_not_decrypt_is_refused(client: PushServiceClient, vapid: Vapid) -> None:
    sub, someone_else = client.subscribe(), client.subscribe()
    body = encrypted(sub)
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    for name, payload in {"tampered": tampered, "for another subscription": encrypted(someone_else),
                          "truncated": body[:80], "garbage": b"\x00" * 120}.items():
        resp = post(sub, payload, signed(sub, vapid, client.base))
        assert (resp.status_code, resp.json()["error"]) == (400, "decryption_failed"), name
    assert client.messages(sub.id) == []
    assert post(sub, body, signed(sub, vapid, client.base)).status_code == 201  # the untampered one


def test_header_fields_are_checked(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    cases = [
        ({"Content-Encoding": "aesgcm"}, 415, "unsupported_encoding"),
        ({"Urgency": "urgent"}, 400, "bad_urgency"),
        ({"Topic": "x" * 33}, 400, "bad_topic"),
        ({"Topic": "has space"}, 400, "bad_topic"),
        ({"Topic": "pluss+slash/"}, 400, "bad_topic"),
    ]
    for extra, status, code in cases:
        resp = post(sub, encrypted(sub), signed(sub, vapid, client.base, **extra))
        assert (resp.status_code, resp.json()["error"]) == (status, code), extra
    resp = post(sub, b"\x00" * 4097, signed(sub, vapid, client.base))
    assert (resp.status_code, resp.json()["error"]) == (413, "payload_too_large")
    assert client.messages(sub.id) == []


def test_a_push_with_the_same_topic_replaces_the_undelivered_one(
    client: PushServiceClient, vapid: Vapid,
) -> None:
    sub = client.subscribe()
    for text, topic in [("first", "conv-a"), ("other", "conv-b"), ("plain", None), ("second", "conv-a")]:
        headers = signed(sub, vapid, client.base, **({"Topic": topic} if topic else {}))
        assert post(sub, encrypted(sub, text), headers).status_code == 201
    assert [(m.payload, m.topic) for m in client.messages(sub.id)] == [
        ("other", "conv-b"), ("plain", None), ("second", "conv-a")]
    assert client.attempts(sub.id) == 4


@pytest.mark.parametrize(("mode", "status", "code"), [
    ("gone", 410, "gone"), ("not_found", 404, "not_found"),
    ("throttle", 429, "too_many_requests"), ("error", 500, "internal_error"),
])
def test_each_mode_answers_as_promised(
    client: PushServiceClient, vapid: Vapid, mode: Any, status: int, code: str,
) -> None:
    sub = client.subscribe()
    client.set_mode(sub.id, mode, times=2)
    for _ in range(2):
        resp = post(sub, encrypted(sub), signed(sub, vapid, client.base))
        assert (resp.status_code, resp.json()["error"]) == (status, code)
        assert resp.headers.get("Retry-After") == ("1" if mode == "throttle" else None)
    assert post(sub, encrypted(sub, "after"), signed(sub, vapid, client.base)).status_code == 201
    assert [m.payload for m in client.messages(sub.id)] == ["after"]
    assert client.attempts(sub.id) == 3


def test_a_mode_without_times_holds_until_changed(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    client.set_mode(sub.id, "gone")
    assert [post(sub, encrypted(sub), signed(sub, vapid, client.base)).status_code
            for _ in range(3)] == [410, 410, 410]
    client.set_mode(sub.id, "ok")
    assert post(sub, encrypted(sub), signed(sub, vapid, client.base)).status_code == 201


def test_hang_never_answers(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    client.set_mode(sub.id, "hang", times=1)
    with pytest.raises(httpx.ReadTimeout):
        post(sub, encrypted(sub), signed(sub, vapid, client.base), timeout=0.5)
    assert client.messages(sub.id) == [] and client.attempts(sub.id) == 1
    assert post(sub, encrypted(sub), signed(sub, vapid, client.base)).status_code == 201


def test_unknown_ids_and_bad_controls(
    client: PushServiceClient, vapid: Vapid, push_service: PushServiceProcess,
) -> None:
    sub = client.subscribe()
    ghost = Subscription("nope", push_service.base + "/push/nope", sub.p256dh, sub.auth)
    resp = post(ghost, encrypted(sub), signed(ghost, vapid, client.base))
    assert (resp.status_code, resp.json()["error"]) == (404, "unknown_subscription")
    assert httpx.get(push_service.base + "/_test/subscriptions/nope/messages").status_code == 404
    mode_url = f"{push_service.base}/_test/subscriptions/{sub.id}/mode"
    assert httpx.post(mode_url, json={"mode": "sleepy"}).json()["error"] == "bad_mode"
    assert httpx.post(mode_url, json={"mode": "gone", "times": 0}).json()["error"] == "bad_times"
    assert httpx.post(mode_url, content=b"{").json()["error"] == "bad_json"


def test_clear_forgets_messages_counts_and_modes(client: PushServiceClient, vapid: Vapid) -> None:
    sub = client.subscribe()
    assert post(sub, encrypted(sub), signed(sub, vapid, client.base)).status_code == 201
    client.set_mode(sub.id, "error")
    client.clear()
    assert client.messages(sub.id) == [] and client.attempts(sub.id) == 0
    assert post(sub, encrypted(sub), signed(sub, vapid, client.base)).status_code == 201


async def test_the_async_client_and_fixture(push_client: AsyncPushServiceClient, vapid: Vapid) -> None:
    sub = await push_client.subscribe()
    body = encrypted(sub)
    async with httpx.AsyncClient() as http:
        resp = await http.post(sub.endpoint, content=body, headers={"Content-Encoding": "aes128gcm"}
                               | signed(sub, vapid, push_client.base))
    assert resp.status_code == 201
    [msg] = await push_client.wait_messages(sub.id)
    assert msg.payload == PAYLOAD and await push_client.attempts(sub.id) == 1
    await push_client.set_mode(sub.id, "gone", times=1)
