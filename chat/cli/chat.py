"""`helseprat chat --as youth|nurse`: a terminal chat that speaks the same protocol and crypto as
the browser (chat.client.protocol + chat.client.e2e). Lines from stdin are sent; messages are printed."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from chat.client.e2e import NurseCrypto, fetch_nurse_keys
from chat.client.protocol import ProtocolClient, new_cmid, nurse_connect, nurse_login, youth_start
from chat.domain.conversation import State


async def _lines() -> asyncio.Queue[str | None]:
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    async def pump() -> None:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            await queue.put(line.rstrip("\n") if line else None)
            if not line:
                return

    asyncio.get_running_loop().create_task(pump())
    return queue


def _say(who: str, text: str) -> None:
    print(f"{who}> {text}", flush=True)


async def run_youth(base: str, service: str) -> int:
    client, session = await youth_start(base, service)
    keys = session.keys
    assert keys is not None
    print(f"# conversation {session.conversation}; safety code {keys.safety_code()}", flush=True)
    lines = await _lines()

    async def receive() -> None:
        while True:
            f = await client.expect(("deliver", "state", "queue", "error"), timeout=None)
            if f["type"] == "deliver" and f["from"] == "system":
                print(f"# {f['sender']}: {f['cmid']}", flush=True)  # a colleague joined/left
            elif f["type"] == "deliver" and f["from"] == "nurse":
                _say(f.get("sender") or "nurse", keys.open(f["body"]))
            elif f["type"] == "deliver":
                keys.open(f["body"])  # ours, sent from another device: keeps the replay window honest
            elif f["type"] == "queue":
                print(f"# in queue: {f['position']} of {f['waiting']}", flush=True)
            elif f["type"] == "state":
                print(f"# {f['state']}", flush=True)
                if f["state"] == State.CLOSED:
                    return
            else:
                print(f"# error {f['code']}: {f['message']}", flush=True)

    return await _pump(client, lines, receive(),
                       lambda text: {"type": "send", "cmid": new_cmid(), "body": keys.seal(text)})


async def run_nurse(base: str, username: str, password: str, conversation: str | None) -> int:
    cookie = await nurse_login(base, username, password)
    keys = NurseCrypto.from_keys_json(await fetch_nurse_keys(base, cookie), password)
    client = await nurse_connect(base, cookie)
    if conversation is None:
        snap = await client.expect("queue_snapshot", timeout=None, where=lambda f: bool(f["items"]))
        conversation = str(snap["items"][0]["conversation"])
    await client.send({"type": "claim", "conversation": conversation})
    state = await client.expect("state", where=lambda f: f["conversation"] == conversation)
    keys.open_conversation(state["service"], conversation, state["key_bundle"])
    print(f"# claimed {conversation}", flush=True)
    lines = await _lines()
    cid = conversation

    async def receive() -> None:
        while True:
            f = await client.expect(("deliver", "state", "error"), timeout=None,
                                    where=lambda f: f.get("conversation", cid) == cid)
            if f["type"] == "deliver" and f["from"] == "system":
                print(f"# {f['sender']}: {f['cmid']}", flush=True)
            elif f["type"] == "deliver":
                text = keys.open(cid, f["body"])
                if f["from"] == "youth":
                    _say("youth", text)
            elif f["type"] == "state" and f["state"] == State.CLOSED:
                print("# closed", flush=True)
                return
            elif f["type"] == "error":
                print(f"# error {f['code']}: {f['message']}", flush=True)

    return await _pump(client, lines, receive(), lambda text: {
        "type": "send", "conversation": cid, "cmid": new_cmid(), "body": keys.seal(cid, text)})


async def _pump(client: ProtocolClient, lines: asyncio.Queue[str | None],
                receiving: Coroutine[Any, Any, None],
                frame_for: Callable[[str], dict[str, Any]]) -> int:
    receiver = asyncio.ensure_future(receiving)
    try:
        while not receiver.done():
            get = asyncio.ensure_future(lines.get())
            await asyncio.wait({get, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                break
            line = get.result()
            if line is None:
                await asyncio.sleep(0.5)  # let the last acks and replies arrive
                break
            if line.strip():
                await client.send(frame_for(line))
    finally:
        receiver.cancel()
        await client.close()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    if args.role == "youth":
        return asyncio.run(run_youth(args.url, args.service))
    password = (Path(args.password_file).read_text().strip() if args.password_file
                else getpass.getpass("Password: "))
    return asyncio.run(run_nurse(args.url, args.user, password, args.conversation))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("chat", help="chat from the terminal, end-to-end encrypted")
    p.add_argument("--as", dest="role", choices=("youth", "nurse"), required=True)
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--service", default="demo-skole", help="youth: which service")
    p.add_argument("--user", default="demo.nurse", help="nurse: account")
    p.add_argument("--password-file", help="nurse: read the password from this file")
    p.add_argument("--conversation", help="nurse: claim this one (default: the oldest waiting)")
    p.set_defaults(func=cmd_chat)
