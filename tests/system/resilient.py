"""Test clients that behave like the browser code: reconnect, resume, resend what was not acked."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field

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
            except OSError:
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
