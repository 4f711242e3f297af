"""Test helpers for the push-service stand-in's ``/_test`` controls.

    client = PushServiceClient(push_service.base)
    sub = client.subscribe()                 # give sub.endpoint / sub.p256dh / sub.auth to the app
    client.set_mode(sub.id, "gone", times=1) # the next push answers 410
    client.messages(sub.id)                  # what arrived, decrypted: [PushMessage, …]
    client.attempts(sub.id)                  # every POST to the endpoint, refused ones too
    client.clear()                           # forget messages, counts and modes

``AsyncPushServiceClient`` is the same for async tests, plus ``wait_messages``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

Mode = Literal["ok", "gone", "not_found", "throttle", "error", "hang"]


@dataclass(frozen=True)
class Subscription:
    id: str
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        """The PushSubscription JSON a browser hands over: {endpoint, keys: {p256dh, auth}}."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class PushMessage:
    id: str
    ttl: int
    urgency: str | None  # as sent; None when the Urgency header was absent
    topic: str | None
    payload: str | None  # the decrypted body (None for a push without one)
    sub: str  # the VAPID token's contact claim
    received_at: float  # unix seconds

    def json(self) -> Any:
        return None if self.payload is None else json.loads(self.payload)


def _subscription(data: dict[str, Any]) -> Subscription:
    return Subscription(id=data["id"], endpoint=data["endpoint"],
                        p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"])


def _messages(data: dict[str, Any]) -> list[PushMessage]:
    return [PushMessage(id=m["id"], ttl=m["ttl"], urgency=m["urgency"], topic=m["topic"],
                        payload=m["payload"], sub=m["sub"], received_at=m["received_at"])
            for m in data["messages"]]


def _subscribe_body(application_server_key: str | None) -> dict[str, Any]:
    return {} if application_server_key is None else {
        "application_server_key": application_server_key}


class PushServiceClient:
    def __init__(self, base: str, timeout: float = 5.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        resp = httpx.request(method, self.base + path, json=body, timeout=self.timeout)
        resp.raise_for_status()
        return resp

    def subscribe(self, application_server_key: str | None = None) -> Subscription:
        """A new subscription; with a key, only pushes signed by it are let through (403)."""
        return _subscription(self._call("POST", "/_test/subscriptions",
                                        _subscribe_body(application_server_key)).json())

    def set_mode(self, sub_id: str, mode: Mode, times: int | None = None) -> None:
        self._call("POST", f"/_test/subscriptions/{sub_id}/mode", {"mode": mode, "times": times})

    def messages(self, sub_id: str) -> list[PushMessage]:
        return _messages(self._call("GET", f"/_test/subscriptions/{sub_id}/messages").json())

    def attempts(self, sub_id: str) -> int:
        count: int = self._call("GET", f"/_test/subscriptions/{sub_id}/messages").json()["attempts"]
        return count

    def clear(self) -> None:
        self._call("DELETE", "/_test/messages")

    def wait_messages(self, sub_id: str, count: int = 1, timeout: float = 10.0) -> list[PushMessage]:
        """Poll until at least ``count`` messages arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(sub_id)
            if len(found) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(found) >= count, f"{len(found)} of {count} push messages arrived"
        return found


class AsyncPushServiceClient:
    def __init__(self, base: str, timeout: float = 5.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout

    async def _call(self, method: str, path: str,
                    body: dict[str, Any] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            resp = await http.request(method, self.base + path, json=body)
        resp.raise_for_status()
        return resp

    async def subscribe(self, application_server_key: str | None = None) -> Subscription:
        resp = await self._call("POST", "/_test/subscriptions",
                                _subscribe_body(application_server_key))
        return _subscription(resp.json())

    async def set_mode(self, sub_id: str, mode: Mode, times: int | None = None) -> None:
        await self._call("POST", f"/_test/subscriptions/{sub_id}/mode",
                         {"mode": mode, "times": times})

    async def messages(self, sub_id: str) -> list[PushMessage]:
        return _messages((await self._call("GET", f"/_test/subscriptions/{sub_id}/messages")).json())

    async def attempts(self, sub_id: str) -> int:
        resp = await self._call("GET", f"/_test/subscriptions/{sub_id}/messages")
        count: int = resp.json()["attempts"]
        return count

    async def clear(self) -> None:
        await self._call("DELETE", "/_test/messages")

    async def wait_messages(self, sub_id: str, count: int = 1,
                            timeout: float = 10.0) -> list[PushMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = await self.messages(sub_id)
            if len(found) >= count or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert len(found) >= count, f"{len(found)} of {count} push messages arrived"
        return found
