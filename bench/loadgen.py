"""Load generator: youth/nurse pairs speaking the real protocol with real end-to-end encryption.

Each worker process (multiprocessing, uvloop where available) holds a share of the clients and
takes orders from the parent over a pipe:

* ``pairs``: start youths (each makes a conversation key and a signing key and uploads a key
  bundle sealed to the bench team key), let nurse connections claim them (each nurse connection
  holds ``per_nurse`` conversations and opens the bundle);
* ``run``: send at a fixed total rate per step (open loop, alternating youth → nurse and
  nurse → youth within each pair), measure relay latency (seal + send → the other side has
  decrypted and verified it), delivered msg/s, acks, losses, disconnects;
* ``youths``: waiting youths (no nurse) that start within a spread and record when they see
  their queue position; ``dashboard``: one nurse dashboard recording when each conversation
  first appears in its queue snapshots.

Clients reconnect on their own (with jitter) and resume from the last sequence they saw,
re-sending what was not acked under the same client message id, as the browser does.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from chat import crypto
from chat.crypto.statements import TeamStatement

SERVICE = "bench-svc"
EPOCH = 1
TEAM_SEED = b"helseprat-bench-team-key-seed-32"  # every process derives the same team key
NURSE_SIGN_SEED = b"helseprat-bench-nurse-sign-seed!"
PLAINTEXT = "Hei, jeg lurer på noe. Kan jeg spørre om søvn og stress før eksamen?".encode()

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_tasks: set[asyncio.Future[Any]] = set()


def _keep(t: asyncio.Future[Any]) -> None:
    _tasks.add(t)
    t.add_done_callback(_tasks.discard)


def team() -> tuple[crypto.TeamKey, TeamStatement]:
    tk = crypto.new_team_key(EPOCH, seed=TEAM_SEED)
    # The server does not verify bundles; the statement is built in memory, unsigned.
    st = TeamStatement(service=SERVICE, epoch=EPOCH, public_key=tk.keys.public_key, not_before=0)
    return tk, st


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def now() -> float:
    return time.monotonic()  # CLOCK_MONOTONIC: comparable across processes on one machine


# -- shared bookkeeping -------------------------------------------------------------------------
class HasSession(Protocol):
    """A receiving end: a youth, or one of a nurse connection's conversations."""

    session: crypto.ConversationSession | None


@dataclass
class Msg:
    t: float
    step: int
    body: str
    frame: str
    acked: bool = False
    delivered: bool = False


@dataclass
class Tally:
    steps: list[tuple[float, float]] = field(default_factory=list)  # (start, end) per step
    lat: list[list[float]] = field(default_factory=list)
    delivered_in: list[int] = field(default_factory=list)
    sent_in: list[int] = field(default_factory=list)
    msgs: dict[str, Msg] = field(default_factory=dict)
    disconnects: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    connect_failures: dict[str, int] = field(default_factory=dict)  # failed connect attempts
    replays: int = 0

    def step_of(self, t: float) -> int:
        for i, (a, b) in enumerate(self.steps):
            if a <= t < b:
                return i
        return -1

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def connect_failed(self, exc: BaseException) -> None:
        # Refused while the server is down is expected; timeouts or resets are not.
        name = "refused" if isinstance(exc, ConnectionRefusedError) else type(exc).__name__
        if exc.__cause__ is not None:  # e.g. InvalidMessage from EOFError: closed before a reply
            name += f"({type(exc.__cause__).__name__})"
        self.connect_failures[name] = self.connect_failures.get(name, 0) + 1


class Client:
    """One WebSocket with reconnect; subclasses handle frames and say how to (re)attach."""

    path = "/ws/youth"

    def __init__(self, w: Worker, base: str, compression: str | None) -> None:
        self.w = w
        self.base = base
        self.compression = compression
        self.ws: ClientConnection | None = None
        self.connected = asyncio.Event()
        self.reconnect = True
        self.task: asyncio.Task[None] | None = None
        self.down_since: float | None = None
        self.resumed_at: float | None = None
        self.opened_at: float | None = None  # the latest WebSocket handshake completed
        self.extra_headers: dict[str, str] = {}

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        attempt = 0
        for _ in range(10_000):
            try:
                ws = await connect(ws_url(self.base, self.path), ping_interval=None, max_size=None,
                                   open_timeout=30, close_timeout=1, compression=self.compression,
                                   additional_headers=self.extra_headers or None)
            except (OSError, WebSocketException, TimeoutError) as exc:
                attempt += 1
                self.w.tally.connect_failed(exc)
                # Exponential backoff with full jitter so 10k clients do not return in step.
                await asyncio.sleep(random.uniform(0.05, min(2.0, 0.1 * 2 ** min(attempt, 5))))
                continue
            attempt = 0
            self.ws = ws
            self.opened_at = now()
            try:
                await self.attached()
                self.connected.set()
                async for raw in ws:
                    self.on_frame(json.loads(raw))
            except (OSError, WebSocketException):
                pass
            finally:
                self.connected.clear()
                self.ws = None
            if not self.reconnect:
                return
            self.w.tally.disconnects += 1
            self.down_since = now()
            self.resumed_at = None
            await asyncio.sleep(random.uniform(0.0, 0.5))
        return

    async def send(self, text: str) -> bool:
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send(text)
            return True
        except (OSError, WebSocketException):
            return False

    async def attached(self) -> None: ...

    def on_frame(self, f: dict[str, Any]) -> None: ...

    async def close(self) -> None:
        self.reconnect = False
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


class Youth(Client):
    path = "/ws/youth"

    def __init__(self, w: Worker, base: str, compression: str | None) -> None:
        super().__init__(w, base, compression)
        self.cid = ""
        self.token = ""
        self.last = 0
        self.ck = crypto.conversation_key()
        self.sign = crypto.sign_keypair()
        self.session: crypto.ConversationSession | None = None
        self.unacked: dict[str, str] = {}  # cmid -> frame text, re-sent after a reconnect
        self.sealed: list[str] = []  # bodies sealed ahead of the timed window (optional)
        self.started = asyncio.get_running_loop().create_future()
        self.t_start = 0.0
        self.t_queue: float | None = None
        self.nurse: NurseConn | None = None

    def bundle(self) -> str:
        kb = crypto.make_key_bundle(self.ck, self.sign.public_key, self.w.statement)
        return crypto.b64encode(crypto.encode_key_bundle(kb))

    async def attached(self) -> None:
        if not self.cid:
            self.t_start = now()
            await self.send(_dumps({"v": 1, "type": "start", "service": SERVICE,
                                    "key_bundle": self.bundle(), "epoch": EPOCH}))
        else:
            await self.send(_dumps({"v": 1, "type": "resume", "conversation": self.cid,
                                    "token": self.token, "after": self.last}))
            for frame in list(self.unacked.values()):
                await self.send(frame)

    def on_frame(self, f: dict[str, Any]) -> None:
        kind = f["type"]
        if kind == "deliver":
            seq = f["seq"]
            if seq <= self.last:
                return
            self.last = seq
            if f["from"] == "nurse":
                self.w.received(f["cmid"], self, f["body"])
        elif kind == "ack":
            self.unacked.pop(f["cmid"], None)
            self.w.acked(f["cmid"])
            # An ack stands in the sequence where our message is (no deliver of it comes back),
            # so it moves the resume point on, as in the browser (static/js/youth.js).
            if not f.get("duplicate") and f.get("seq", 0) > self.last:
                self.last = f["seq"]
        elif kind == "started":
            self.cid, self.token = f["conversation"], f["token"]
            self.session = crypto.new_session(self.cid, self.ck, EPOCH, [self.w.nurse_sign.public_key],
                                              self.sign)
            if not self.started.done():
                self.started.set_result(self.cid)
        elif kind == "state":
            if self.resumed_at is None:
                self.resumed_at = now()
        elif kind == "queue":
            if self.t_queue is None:
                self.t_queue = now()
        elif kind == "error":
            self.w.tally.error(f.get("code", "?"))
            ref = f.get("ref")
            if ref in self.unacked:
                asyncio.get_running_loop().call_later(0.3, self._resend, ref)

    def _resend(self, cmid: str) -> None:
        frame = self.unacked.get(cmid)
        if frame is not None:
            _keep(asyncio.ensure_future(self.send(frame)))

    async def message(self, step: int) -> None:
        assert self.session is not None
        t = now()
        if self.sealed:
            body = self.sealed.pop()
        else:
            self.session, body = crypto.seal_message(self.session, PLAINTEXT)
        cmid = secrets.token_hex(10)
        frame = _dumps({"v": 1, "type": "send", "cmid": cmid, "body": body})
        self.w.tally.msgs[cmid] = Msg(t, step, body, frame)
        self.unacked[cmid] = frame
        await self.send(frame)


@dataclass
class NurseConv:
    cid: str
    session: crypto.ConversationSession | None = None
    last: int = 0
    claimed: asyncio.Future[None] | None = None
    unacked: dict[str, str] = field(default_factory=dict)
    sealed: list[str] = field(default_factory=list)


class NurseConn(Client):
    path = "/ws/nurse"

    def __init__(self, w: Worker, base: str, cookie: str, compression: str | None,
                 on_snapshot: Callable[[dict[str, Any]], None] | None = None) -> None:
        super().__init__(w, base, compression)
        self.extra_headers = {"Cookie": f"hp_session={cookie}", "Origin": base}
        self.convs: dict[str, NurseConv] = {}
        self.pending_open: set[str] = set()
        self.on_snapshot = on_snapshot
        self.first = True
        self.hello_at: float | None = None  # latest hello, and first history_end after it
        self.first_end_at: float | None = None

    async def attached(self) -> None:
        if self.first:
            self.first = False
            return
        self.pending_open = set(self.convs)
        for c in self.convs.values():
            await self.send(_dumps({"v": 1, "type": "open", "conversation": c.cid, "after": c.last}))
        for c in self.convs.values():
            for frame in list(c.unacked.values()):
                await self.send(frame)

    async def claim(self, cid: str) -> None:
        conv = NurseConv(cid, claimed=asyncio.get_running_loop().create_future())
        self.convs[cid] = conv
        await self.connected.wait()
        await self.send(_dumps({"v": 1, "type": "claim", "conversation": cid}))
        assert conv.claimed is not None
        await asyncio.wait_for(conv.claimed, 60)

    def on_frame(self, f: dict[str, Any]) -> None:
        kind = f["type"]
        if kind == "deliver":
            c = self.convs.get(f["conversation"])
            if c is None or f["seq"] <= c.last:
                return
            c.last = f["seq"]
            if f["from"] == "youth":
                self.w.received(f["cmid"], c, f["body"])
        elif kind == "ack":
            c = self.convs.get(f.get("conversation", ""))
            if c is not None:
                c.unacked.pop(f["cmid"], None)
                if not f.get("duplicate") and f.get("seq", 0) > c.last:  # as static/js/nurse.js
                    c.last = f["seq"]
            self.w.acked(f["cmid"])
        elif kind == "state":
            c = self.convs.get(f["conversation"])
            if c is not None and c.session is None and f.get("key_bundle"):
                kb = crypto.decode_key_bundle(crypto.b64decode(f["key_bundle"]))
                opened = crypto.open_key_bundle(kb, self.w.team)
                c.session = crypto.new_session(c.cid, opened.ck, EPOCH, [opened.youth_sign_public_key],
                                               self.w.nurse_sign)
        elif kind == "history_end":
            c = self.convs.get(f["conversation"])
            if c is not None and c.claimed is not None and not c.claimed.done():
                c.claimed.set_result(None)
            self.pending_open.discard(f["conversation"])
            if self.first_end_at is None:
                self.first_end_at = now()
            if not self.pending_open and self.resumed_at is None:
                self.resumed_at = now()
        elif kind == "queue_snapshot":
            if self.on_snapshot is not None:
                self.on_snapshot(f)
        elif kind == "hello":
            self.hello_at, self.first_end_at = now(), None
            if not self.convs and self.resumed_at is None:
                self.resumed_at = now()
        elif kind == "error":
            self.w.tally.error(f.get("code", "?"))
            ref = f.get("ref")
            for c in self.convs.values():
                if ref in c.unacked:
                    asyncio.get_running_loop().call_later(0.3, self._resend, c, ref)
                if ref == c.cid and c.claimed is not None and not c.claimed.done():
                    c.claimed.set_exception(RuntimeError(f"claim failed: {f.get('code')}"))

    def _resend(self, c: NurseConv, cmid: str) -> None:
        frame = c.unacked.get(cmid)
        if frame is not None:
            _keep(asyncio.ensure_future(self.send(frame)))

    async def message(self, c: NurseConv, step: int) -> None:
        assert c.session is not None
        t = now()
        if c.sealed:
            body = c.sealed.pop()
        else:
            c.session, body = crypto.seal_message(c.session, PLAINTEXT)
        cmid = secrets.token_hex(10)
        frame = _dumps({"v": 1, "type": "send", "conversation": c.cid, "cmid": cmid, "body": body})
        self.w.tally.msgs[cmid] = Msg(t, step, body, frame)
        c.unacked[cmid] = frame
        await self.send(frame)


@dataclass
class Pair:
    youth: Youth
    nurse: NurseConn
    conv: NurseConv
    turn: int = 0


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.team, self.statement = team()
        self.nurse_sign = crypto.sign_keypair(NURSE_SIGN_SEED)
        self.tally = Tally()
        self.pairs: list[Pair] = []
        self.youths: list[Youth] = []
        self.nurses: list[NurseConn] = []
        self.seen: dict[str, float] = {}  # dashboard: conversation -> first seen in a snapshot
        self.proc = psutil.Process()
        # Received bodies are decrypted and verified after the timed window (in arrival order,
        # so replay windows see what they would have seen), so the generator's crypto does not
        # take CPU from the server it measures on the same two cores. ``defer`` off opens each
        # body on arrival.
        self.defer = False
        self.pending: list[tuple[HasSession, str]] = []

    # -- message accounting ---------------------------------------------------------------------
    def acked(self, cmid: str) -> None:
        m = self.tally.msgs.get(cmid)
        if m is not None:
            m.acked = True

    def received(self, cmid: str, holder: HasSession, body: str) -> None:
        if holder.session is None:
            self.tally.error("no_session")
            return
        m = self.tally.msgs.get(cmid)
        if self.defer:
            self.pending.append((holder, body))
        elif not self._open(holder, body):
            return
        t = now()
        if m is None or m.delivered:
            return
        m.delivered = True
        step = self.tally.step_of(t)
        if m.step >= 0 and m.step < len(self.tally.lat):
            self.tally.lat[m.step].append(t - m.t)
        if step >= 0:
            self.tally.delivered_in[step] += 1

    def _open(self, holder: HasSession, body: str) -> bool:
        assert holder.session is not None
        try:
            new, opened = crypto.open_message(holder.session, body)
        except crypto.Replay:
            self.tally.replays += 1
            return False
        except crypto.E2EError:
            self.tally.error("open_failed")
            return False
        holder.session = new
        if opened.plaintext != PLAINTEXT:
            self.tally.error("bad_plaintext")
        return True

    def open_pending(self) -> tuple[int, float]:
        """Decrypt and verify every deferred body; returns how many and the CPU seconds."""
        c0 = time.process_time()
        pending, self.pending = self.pending, []
        for holder, body in pending:
            self._open(holder, body)
        return len(pending), time.process_time() - c0

    # -- commands -------------------------------------------------------------------------------
    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(1000):
            cmd, args = await loop.run_in_executor(None, self.conn.recv)
            if cmd == "exit":
                await self.close_all()
                self.conn.send(("bye", {}))
                return
            try:
                result = await getattr(self, "cmd_" + cmd)(**args)
            except Exception as exc:
                result = {"error": f"{type(exc).__name__}: {exc}"}
            self.conn.send((cmd, result))

    async def cmd_pairs(self, youth_base: str, nurse_base: str, cookie: str, n: int, per_nurse: int,
                        compression: str | None, concurrency: int = 40) -> dict[str, Any]:
        t0 = now()
        nurses = [NurseConn(self, nurse_base, cookie, compression) for _ in range(-(-n // per_nurse))]
        for nc in nurses:
            nc.start()
        self.nurses += nurses
        sem = asyncio.Semaphore(concurrency)
        failures = 0

        async def one(i: int) -> None:
            nonlocal failures
            async with sem:
                y = Youth(self, youth_base, compression)
                y.start()
                try:
                    cid = await asyncio.wait_for(y.started, 60)
                    nc = nurses[i // per_nurse]
                    await nc.claim(cid)
                except Exception:
                    failures += 1
                    await y.close()
                    return
                self.youths.append(y)
                self.pairs.append(Pair(y, nc, nc.convs[cid]))

        await asyncio.gather(*(one(i) for i in range(n)))
        return {"pairs": len(self.pairs), "failures": failures, "seconds": now() - t0,
                "clients": len(self.pairs) + len(nurses)}

    async def cmd_preseal(self, per_pair: int) -> dict[str, Any]:
        """Seal ``per_pair`` bodies per side now, so the timed window does not pay for sealing."""
        t0 = now()
        for p in self.pairs:
            ys, cs = p.youth.session, p.conv.session
            assert ys is not None and cs is not None
            yb, nb = [], []
            for _ in range(per_pair):
                ys, b = crypto.seal_message(ys, PLAINTEXT)
                yb.append(b)
                cs, b = crypto.seal_message(cs, PLAINTEXT)
                nb.append(b)
            p.youth.session, p.conv.session = ys, cs
            p.youth.sealed = yb[::-1] + p.youth.sealed
            p.conv.sealed = nb[::-1] + p.conv.sealed
            await asyncio.sleep(0)
        return {"seconds": now() - t0}

    async def cmd_run(self, steps: list[tuple[float, float]], t0: float, drain: float = 3.0,
                      tick: float = 0.005, defer_open: bool = True) -> dict[str, Any]:
        """Send ``rate`` msg/s (this worker's share) for ``seconds``, per step, from ``t0``.

        With ``defer_open``, received bodies are opened after the drain (see ``defer``)."""
        self.defer = defer_open
        ta = self.tally
        if not self.pairs:
            raise RuntimeError("no pairs set up")
        base = len(ta.steps)
        t = t0
        for _rate, secs in steps:
            ta.steps.append((t, t + secs))
            ta.lat.append([])
            ta.delivered_in.append(0)
            ta.sent_in.append(0)
            t += secs
        cpu0 = self.proc.cpu_times()
        await asyncio.sleep(max(0.0, t0 - now()))
        cpu_steps: list[float] = []
        pairs = self.pairs
        k = 0
        for i, (rate, secs) in enumerate(steps):
            si = base + i
            start, end = ta.steps[si]
            c0 = self.proc.cpu_times()
            sent = 0
            for _ in range(int(secs / tick) + 1000):
                tn = now()
                if tn >= end:
                    break
                due = int((tn - start) * rate) - sent
                for _ in range(max(0, due)):
                    p = pairs[k % len(pairs)]
                    k += 1
                    p.turn ^= 1
                    if p.turn:
                        await p.youth.message(si)
                    else:
                        await p.nurse.message(p.conv, si)
                    sent += 1
                await asyncio.sleep(tick)
            ta.sent_in[si] = sent
            c1 = self.proc.cpu_times()
            cpu_steps.append((c1.user + c1.system - c0.user - c0.system) / secs * 100)
        await asyncio.sleep(drain)
        cpu1 = self.proc.cpu_times()
        self.defer = False
        opened, open_cpu = self.open_pending()
        return {"opened": opened, "open_cpu": open_cpu,
            "lat": ta.lat[base:], "delivered": ta.delivered_in[base:], "sent": ta.sent_in[base:],
            "cpu_steps": cpu_steps, "cpu_total": cpu1.user + cpu1.system - cpu0.user - cpu0.system,
            **self._losses(),
        }

    def _losses(self) -> dict[str, Any]:
        msgs = self.tally.msgs.values()
        return {"acked": sum(m.acked for m in msgs),
                "lost": sum(m.acked and not m.delivered for m in msgs),
                "unacked": sum(not m.acked for m in msgs),
                "undelivered": sum(not m.delivered for m in msgs),
                "disconnects": self.tally.disconnects, "errors": dict(self.tally.errors),
                "connect_failures": dict(self.tally.connect_failures),
                "replays": self.tally.replays}

    async def cmd_losses(self, wait: float = 0.0) -> dict[str, Any]:
        await asyncio.sleep(wait)
        return self._losses()

    async def cmd_resumed(self, since: float, timeout: float) -> dict[str, Any]:
        """Wait until every client is connected and re-attached after ``since``."""
        clients: list[Client] = [*self.youths, *self.nurses]
        deadline = now() + timeout
        while now() < deadline:
            if all(c.resumed_at is not None and c.resumed_at > since for c in clients):
                break
            await asyncio.sleep(0.05)
        def took(cs: list[Youth] | list[NurseConn]) -> list[float]:
            return [c.resumed_at - since for c in cs if c.resumed_at is not None and c.resumed_at > since]

        youth, nurse = took(self.youths), took(self.nurses)
        times = youth + nurse

        def since_kill(ts: list[float | None]) -> list[float]:
            return [t - since for t in ts if t is not None and t > since]

        # Where the time went, per client after the kill: handshake done; nurse: hello, first
        # history_end (the rest is the other 23 conversations, opened one after another).
        phases = {"youth handshake": since_kill([y.opened_at for y in self.youths]),
                  "nurse handshake": since_kill([n.opened_at for n in self.nurses]),
                  "nurse hello": since_kill([n.hello_at for n in self.nurses]),
                  "nurse first open": since_kill([n.first_end_at for n in self.nurses])}
        return {"clients": len(clients), "resumed": len(times), "max": max(times, default=None),
                "times": times, "youth": youth, "nurse": nurse, "phases": phases}

    async def cmd_youths(self, base: str, n: int, spread: float, t0: float, compression: str | None,
                         timeout: float = 60.0) -> dict[str, Any]:
        """``n`` waiting youths starting evenly over ``spread`` seconds from ``t0``."""
        await asyncio.sleep(max(0.0, t0 - now()))
        made: list[Youth] = []
        for i in range(n):
            at = t0 + spread * i / max(1, n)
            delay = at - now()
            if delay > 0:
                await asyncio.sleep(delay)
            y = Youth(self, base, compression)
            y.t_start = now()
            y.start()
            made.append(y)
        deadline = now() + timeout
        for _ in range(int(timeout / 0.05) + 1):  # bounded wait
            if now() >= deadline or all(y.t_queue is not None for y in made):
                break
            await asyncio.sleep(0.05)
        self.youths += made
        return {"n": n, "queued": [(y.cid, y.t_start, y.t_queue) for y in made],
                "disconnects": self.tally.disconnects, "errors": dict(self.tally.errors)}

    async def cmd_dashboard(self, base: str, cookie: str) -> dict[str, Any]:
        def snap(f: dict[str, Any]) -> None:
            t = now()
            for item in f["items"]:
                self.seen.setdefault(item["conversation"], t)

        nc = NurseConn(self, base, cookie, "deflate", on_snapshot=snap)
        nc.start()
        await asyncio.wait_for(nc.connected.wait(), 30)
        self.nurses.append(nc)
        return {"ok": True}

    async def cmd_seen(self) -> dict[str, Any]:
        return {"seen": dict(self.seen)}

    async def cmd_close_youths(self) -> dict[str, Any]:
        ys, self.youths = self.youths, []
        for i in range(0, len(ys), 200):
            await asyncio.gather(*(y.close() for y in ys[i:i + 200]))
        return {"closed": len(ys)}

    async def close_all(self) -> None:
        clients: list[Client] = [*self.youths, *self.nurses]
        for i in range(0, len(clients), 200):
            await asyncio.gather(*(c.close() for c in clients[i:i + 200]))


def _worker_main(conn: Connection) -> None:
    from bench.env import raise_nofile

    raise_nofile()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Worker(conn).main())


class Workers:
    """Generator processes and a blocking call interface: ``call(cmd, per-worker args)``."""

    def __init__(self, n: int) -> None:
        ctx = mp.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(n):
            a, b = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(b,), daemon=True)
            p.start()
            self.conns.append(a)
            self.procs.append(p)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def call(self, cmd: str, args: list[dict[str, Any]] | dict[str, Any], timeout: float = 600) -> list[dict[str, Any]]:
        per = args if isinstance(args, list) else [args] * len(self.conns)
        for c, a in zip(self.conns, per, strict=True):
            c.send((cmd, a))
        out = []
        for c in self.conns:
            if not c.poll(timeout):
                raise TimeoutError(f"worker did not answer {cmd} in {timeout} s")
            _, result = c.recv()
            if "error" in result:
                raise RuntimeError(f"worker {cmd}: {result['error']}")
            out.append(result)
        return out

    def close(self) -> None:
        for c in self.conns:
            with contextlib.suppress(Exception):
                c.send(("exit", {}))
        for c in self.conns:
            with contextlib.suppress(Exception):
                if c.poll(20):
                    c.recv()
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                os.kill(p.pid, 9)
                p.join(5)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    i = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[i]
