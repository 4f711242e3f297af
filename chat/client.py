"""A Python client for the helseprat protocol (tests, load generator, CLI).

Speaks the wire protocol only; the end-to-end encryption layer (chat.crypto) produces and
consumes the opaque ``body`` strings it carries.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

Frame = dict[str, Any]


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://").replace("https://", "wss://") + path


def new_cmid() -> str:
    return secrets.token_hex(12)


@dataclass
class ProtocolClient:
    """One WebSocket with a frame inbox; helpers wait for the next frame of a kind."""

    ws: ClientConnection
    inbox: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)
    seen: list[Frame] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> ProtocolClient:
        ws = await connect(url, max_size=2**20, open_timeout=10, **kwargs)
        client = cls(ws)
        client._reader = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.seen.append(frame)
                await self.inbox.put(frame)
        except Exception:  # noqa: S110 - the connection ended; `closed` tells the waiters
            pass
        finally:
            self.closed.set()

    async def send(self, frame: Frame) -> None:
        await self.ws.send(json.dumps({"v": 1, **frame}))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def expect(
        self, kind: str | tuple[str, ...], timeout: float = 10.0,
        where: Callable[[Frame], bool] | None = None,
    ) -> Frame:
        """The next frame of ``kind`` (others are skipped but kept in ``seen``)."""
        kinds = (kind,) if isinstance(kind, str) else kind

        async def wait() -> Frame:
            while True:
                get = asyncio.ensure_future(self.inbox.get())
                done = asyncio.ensure_future(self.closed.wait())
                finished, _ = await asyncio.wait({get, done}, return_when=asyncio.FIRST_COMPLETED)
                if get in finished:
                    done.cancel()
                    f = get.result()
                    if f.get("type") in kinds and (where is None or where(f)):
                        return f
                    continue
                get.cancel()
                if not self.inbox.empty():
                    continue
                raise ConnectionError(f"closed while waiting for {kinds}")

        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader


@dataclass
class YouthSession:
    """What a youth's device keeps: the conversation, its token, the last sequence seen."""

    conversation: str = ""
    token: str = ""
    last: int = 0
    resume_code: str | None = None


async def youth_start(
    base: str, service: str, *, resume_code: bool = False, key_bundle: str = "", epoch: int = 0
) -> tuple[ProtocolClient, YouthSession]:
    client = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    frame: Frame = {"type": "start", "service": service, "resume_code": resume_code}
    if key_bundle:
        frame.update(key_bundle=key_bundle, epoch=epoch)
    await client.send(frame)
    started = await client.expect("started")
    return client, YouthSession(started["conversation"], started["token"], 0,
                                started.get("resume_code"))


async def youth_resume(base: str, session: YouthSession) -> ProtocolClient:
    client = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    await client.send({"type": "resume", "conversation": session.conversation,
                       "token": session.token, "after": session.last})
    await client.expect("state")
    return client


async def nurse_login(base: str, username: str, password: str) -> str:
    """Log in through the real form (CSRF included); returns the session cookie value."""
    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as http:
        page = await http.get("/nurse/login")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if m is None:
            raise RuntimeError("login form has no CSRF field")
        r = await http.post("/nurse/login", data={"csrf": m[1], "username": username,
                                                  "password": password})
        if r.status_code != 303:
            raise PermissionError(f"login failed ({r.status_code})")
        cookie = http.cookies.get("hp_session")
        if cookie is None:
            raise RuntimeError("no session cookie")
        return cookie


async def nurse_connect(base: str, cookie: str) -> ProtocolClient:
    client = await ProtocolClient.open(
        ws_url(base, "/ws/nurse"),
        additional_headers={"Cookie": f"hp_session={cookie}", "Origin": base})
    await client.expect("hello")
    return client
