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
from typing import TYPE_CHECKING, Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

if TYPE_CHECKING:
    from chat.client.e2e import YouthCrypto

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
        self, kind: str | tuple[str, ...], timeout: float | None = 10.0,
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
    keys: YouthCrypto | None = None


async def youth_start(
    base: str, service: str, *, resume_code: bool = False, encrypt: bool = True,
    topic: str = "", urgent: bool = False, capability: str = "",
) -> tuple[ProtocolClient, YouthSession]:
    """Start a conversation as a youth's browser does: seal a fresh key to the team first;
    ``topic`` and ``urgent``: the optional intake; ``capability``: the token of an earlier
    start, which fair use counts under."""
    from anon.resume import new_resume_code
    from chat.client.e2e import YouthCrypto, fetch_team
    from chat.crypto import b64encode
    from chat.crypto.resume import resume_auth, resume_wrap_key, seal_backup

    keys = YouthCrypto.create(await fetch_team(base, service)) if encrypt else None
    client = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    frame: Frame = {"type": "start", "service": service}
    if capability:
        frame["capability"] = capability
    if keys is not None:
        frame.update(key_bundle=keys.bundle_b64, epoch=keys.epoch)
    if topic:
        frame["topic"] = topic
    if urgent:
        frame["urgent"] = True
    code_text = None
    if resume_code and keys is not None:
        code = new_resume_code()
        backup = seal_backup(resume_wrap_key(code.secret_text), keys.ck, keys.me.seed)
        frame["resume"] = {"handle": code.handle_text, "auth": resume_auth(code.secret_text),
                           "backup": b64encode(backup)}
        code_text = str(code)
    await client.send(frame)
    started = await client.expect("started")
    if keys is not None:
        keys.bind(started["conversation"])
    return client, YouthSession(started["conversation"], started["token"], 0, code_text, keys)


async def youth_resume_code(
    base: str, code_text: str, service: str
) -> tuple[ProtocolClient, YouthSession]:
    """Continue on a new device with only the resume code: gets a new token and the key."""
    from anon.resume import parse_resume_code
    from chat.client.e2e import YouthCrypto, fetch_team
    from chat.crypto import b64decode, sign_keypair
    from chat.crypto.resume import open_backup, resume_auth, resume_wrap_key

    code = parse_resume_code(code_text)
    if code is None:
        raise ValueError("not a resume code")
    client = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    await client.send({"type": "resume_code", "handle": code.handle_text,
                       "auth": resume_auth(code.secret_text), "after": 0})
    resumed = await client.expect("resumed")
    ck, seed = open_backup(resume_wrap_key(code.secret_text), b64decode(resumed["backup"]))
    keys = YouthCrypto(await fetch_team(base, service), ck, sign_keypair(seed),
                       resumed["key_bundle"])
    keys.bind(resumed["conversation"])
    return client, YouthSession(resumed["conversation"], resumed["token"], 0, code_text, keys)


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


# -- answer-later ----------------------------------------------------------------------------------
async def youth_later(client: ProtocolClient) -> Frame:
    """The youth leaves: "answer me later". Returns the ``state`` frame (state ``later``,
    ``due`` when an answer is owed)."""
    await client.send({"type": "later"})
    return await client.expect("state", where=lambda f: f.get("state") == "later")


async def nurse_park_later(client: ProtocolClient, conversation: str) -> Frame:
    """The holder leaves it for the youth to read and answer; returns the ``state`` frame."""
    await client.send({"type": "later", "conversation": conversation})
    return await client.expect("state", where=lambda f: f.get("conversation") == conversation
                               and f.get("state") == "later")


async def later_snapshot(client: ProtocolClient, service: str,
                         where: Callable[[list[Frame]], bool] | None = None) -> list[Frame]:
    """The items of the next ``later_snapshot`` of ``service`` (that ``where`` accepts)."""
    frame = await client.expect("later_snapshot", where=lambda f: f["service"] == service
                                and (where is None or where(f["items"])))
    items: list[Frame] = frame["items"]
    return items
