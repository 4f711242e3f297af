"""Test clients that behave like the browser code: reconnect, resume, resend what was not acked."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field

from websockets.exceptions import InvalidHandshake

from chat.client.protocol import ProtocolClient, YouthSession, ws_url


@dataclass
class ResilientYouth:
    """Sends numbered messages; on any disconnect resumes on the next base URL in turn."""

    bases: list[str]
    session: YouthSession
    acked: dict[str, int] = field(default_factory=dict)  # cmid -> seq
    unacked: dict[str, str] = field(default_factory=dict)  # cmid -> body
    # (seq, from, cmid): the conversation as this youth's connections saw it, deliver or ack
    received: list[tuple[int, str, str]] = field(default_factory=list)
    reconnects: int = 0
    _client: ProtocolClient | None = None
    _turn: int = 0
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 15)

    async def _run(self) -> None:
        while True:
            base = self.bases[self._turn % len(self.bases)]
            try:
                client = await ProtocolClient.open(ws_url(base, "/ws/youth"))
            except (OSError, InvalidHandshake, TimeoutError):  # e.g. a balancer's 502
                self._turn += 1
                await asyncio.sleep(0.1)
                continue
            self._client = client
            await client.send({"type": "resume", "conversation": self.session.conversation,
                               "token": self.session.token, "after": self.session.last})
            for cmid, body in list(self.unacked.items()):
                await client.send({"type": "send", "cmid": cmid, "body": body})
            self._ready.set()
            while True:
                try:
                    f = await client.expect(("ack", "deliver", "reconnect", "error"), timeout=60)
                except (ConnectionError, TimeoutError):
                    break
                if f["type"] == "ack":
                    self.unacked.pop(f["cmid"], None)
                    self.acked[f["cmid"]] = f["seq"]
                    if not f["duplicate"]:  # in its place in the sequence, as a deliver is
                        self._in_sequence(f["seq"], "youth", f["cmid"])
                elif f["type"] == "error" and f.get("ref") in self.unacked:
                    cmid = f["ref"]
                    # Back off and retry, as the browser does (rate limits, restarts).
                    asyncio.get_running_loop().call_later(
                        0.3, lambda c=cmid: asyncio.ensure_future(self._resend(c)))
                elif f["type"] == "deliver":
                    self._in_sequence(f["seq"], f["from"], f["cmid"])
            self._client = None
            self._ready.clear()
            self.reconnects += 1
            self._turn += 1
            await asyncio.sleep(0.05)

    def _in_sequence(self, seq: int, sender: str, cmid: str) -> None:
        """Every sequence number reaches this connection once, in order: a deliver, or the
        ack of what it sent itself."""
        if seq == self.session.last + 1:
            self.session.last = seq
            self.received.append((seq, sender, cmid))
        elif seq > self.session.last + 1:
            raise AssertionError(f"gap: {self.session.last} -> {seq}")

    async def _resend(self, cmid: str) -> None:
        body = self.unacked.get(cmid)
        client = self._client
        if body is not None and client is not None:
            with contextlib.suppress(Exception):
                await client.send({"type": "send", "cmid": cmid, "body": body})

    async def send(self, cmid: str, text: str) -> None:
        body = base64.b64encode(text.encode()).decode()
        self.unacked[cmid] = body
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                await client.send({"type": "send", "cmid": cmid, "body": body})

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client:
            with contextlib.suppress(Exception):
                await self._client.close()


@dataclass
class ResilientNurse:
    """A nurse's dashboard that behaves like the page: on any disconnect it reconnects, opens
    each of its conversations after the last sequence it saw there, and resends what was not
    acked. The conversations are claimed before it starts."""

    bases: list[str]
    cookie: str
    conversations: list[str]
    last: dict[str, int] = field(default_factory=dict)  # conversation -> last seq seen
    acked: dict[str, int] = field(default_factory=dict)  # cmid -> seq
    unacked: dict[str, tuple[str, str]] = field(default_factory=dict)  # cmid -> (conv, body)
    # conversation -> [(seq, from, cmid)], as this nurse's connections saw it
    received: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    reconnects: int = 0
    _client: ProtocolClient | None = None
    _turn: int = 0
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for cid in self.conversations:
            self.last.setdefault(cid, 0)
            self.received.setdefault(cid, [])
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 15)

    async def _connect(self) -> ProtocolClient | None:
        base = self.bases[self._turn % len(self.bases)]
        try:
            client = await ProtocolClient.open(
                ws_url(base, "/ws/nurse"),
                additional_headers={"Cookie": f"hp_session={self.cookie}", "Origin": base})
        except (OSError, InvalidHandshake, TimeoutError):
            return None
        try:
            await client.expect("hello")
        except (ConnectionError, TimeoutError):
            return None
        return client

    async def _run(self) -> None:
        while True:
            client = await self._connect()
            if client is None:
                self._turn += 1
                await asyncio.sleep(0.1)
                continue
            self._client = client
            for cid in self.conversations:
                await client.send({"type": "open", "conversation": cid, "after": self.last[cid]})
            for cmid, (cid, body) in list(self.unacked.items()):
                await client.send({"type": "send", "conversation": cid, "cmid": cmid,
                                   "body": body})
            self._ready.set()
            await self._read(client)
            self._client = None
            self._ready.clear()
            self.reconnects += 1
            self._turn += 1
            await asyncio.sleep(0.05)

    async def _read(self, client: ProtocolClient) -> None:
        while True:
            try:
                f = await client.expect(("ack", "deliver", "error"), timeout=60)
            except (ConnectionError, TimeoutError):
                return
            if f["type"] == "ack":
                self.unacked.pop(f["cmid"], None)
                self.acked[f["cmid"]] = f["seq"]
                if not f["duplicate"]:
                    self._in_sequence(f["conversation"], f["seq"], "nurse", f["cmid"])
            elif f["type"] == "error" and f.get("ref") in self.unacked:
                cmid = f["ref"]
                asyncio.get_running_loop().call_later(
                    0.3, lambda c=cmid: asyncio.ensure_future(self._resend(c)))
            elif f["type"] == "deliver":
                self._in_sequence(f["conversation"], f["seq"], f["from"], f["cmid"])

    def _in_sequence(self, cid: str, seq: int, sender: str, cmid: str) -> None:
        if seq == self.last[cid] + 1:
            self.last[cid] = seq
            self.received[cid].append((seq, sender, cmid))
        elif seq > self.last[cid] + 1:
            raise AssertionError(f"gap in {cid}: {self.last[cid]} -> {seq}")

    async def _resend(self, cmid: str) -> None:
        sent = self.unacked.get(cmid)
        client = self._client
        if sent is not None and client is not None:
            with contextlib.suppress(Exception):
                await client.send({"type": "send", "conversation": sent[0], "cmid": cmid,
                                   "body": sent[1]})

    async def send(self, cid: str, cmid: str, text: str) -> None:
        body = base64.b64encode(text.encode()).decode()
        self.unacked[cmid] = (cid, body)
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                await client.send({"type": "send", "conversation": cid, "cmid": cmid,
                                   "body": body})

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client:
            with contextlib.suppress(Exception):
                await self._client.close()
