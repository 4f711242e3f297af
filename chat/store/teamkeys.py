"""Where the server keeps the public side of the end-to-end keys (see docs/crypto.md).

The server stores only things it cannot use to read a conversation: team-root public keys,
signed team and member statements, team private keys *sealed* to nurse devices, and nurse
device keys *wrapped* with a key the nurse's password derives in the browser. All service keys
carry the hash tag ``{service}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis


def _team(service: str) -> str:
    return f"t:{{{service}}}"


def _statements(service: str) -> str:
    return f"t:{{{service}}}:st"


def _members(service: str) -> str:
    return f"t:{{{service}}}:m"


def _sealed(service: str, epoch: int) -> str:
    return f"t:{{{service}}}:k:{epoch}"


def _device(username: str) -> str:
    return f"dev:{{{username}}}"


@dataclass(frozen=True)
class TeamPublic:
    """What any client may see of a service's team: enough to seal to it and verify it."""

    service: str
    root: str  # base64 Ed25519 team-root public key
    epoch: int
    statements: dict[int, str]  # epoch -> signed team statement (base64)
    members: dict[str, str]  # username -> signed member statement (base64), current epoch

    def as_json(self) -> dict[str, object]:
        return {"service": self.service, "root": self.root, "epoch": self.epoch,
                "statement": self.statements.get(self.epoch, ""),
                "statements": {str(k): v for k, v in self.statements.items()},
                "members": sorted(self.members.values())}


@dataclass(frozen=True)
class Device:
    wrapped: str  # base64 wrapped device keys (argon2id-derived key; see chat.crypto.wrapping)
    box: str  # base64 X25519 public key
    sign: str  # base64 Ed25519 public key


class TeamKeys:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def team(self, service: str) -> TeamPublic | None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(_team(service))
        pipe.hgetall(_statements(service))
        pipe.hgetall(_members(service))
        head, statements, members = cast(
            tuple[dict[str, str], dict[str, str], dict[str, str]], await pipe.execute())
        if not head:
            return None
        return TeamPublic(service=service, root=head["root"], epoch=int(head["epoch"]),
                          statements={int(k): v for k, v in statements.items()},
                          members=dict(members))

    async def current_epoch(self, service: str) -> int | None:
        raw = cast(str | None, await self.redis.hget(_team(service), "epoch"))
        return int(raw) if raw is not None else None

    async def sealed_for(self, service: str, username: str) -> dict[int, str]:
        """Every epoch's team key sealed to this member's device (what their browser opens)."""
        epochs = (await self.team(service) or TeamPublic(service, "", 0, {}, {})).statements
        pipe = self.redis.pipeline(transaction=False)
        for epoch in sorted(epochs):
            pipe.hget(_sealed(service, epoch), username)
        values = cast(list[str | None], await pipe.execute())
        return {e: v for e, v in zip(sorted(epochs), values, strict=True) if v}

    # -- written by the admin CLI (holder of the offline team-root key) -----------------------
    async def publish_epoch(
        self, service: str, root: str, epoch: int, statement: str,
        members: dict[str, str], sealed: dict[str, str],
    ) -> None:
        pipe = self.redis.pipeline(transaction=True)
        if sealed:
            pipe.hset(_sealed(service, epoch), mapping=sealed)  # type: ignore[arg-type]
        pipe.hset(_statements(service), str(epoch), statement)
        pipe.delete(_members(service))
        if members:
            pipe.hset(_members(service), mapping=members)  # type: ignore[arg-type]
        # Last: clients only see the new epoch once everything it needs is stored.
        pipe.hset(_team(service), mapping={"root": root, "epoch": epoch})
        await pipe.execute()

    async def add_member(self, service: str, username: str, statement: str, sealed: str,
                         epoch: int) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(_sealed(service, epoch), username, sealed)
        pipe.hset(_members(service), username, statement)
        await pipe.execute()

    # -- nurse devices ---------------------------------------------------------------------------
    async def device(self, username: str) -> Device | None:
        raw = cast(dict[str, str], await self.redis.hgetall(_device(username)))
        if not raw:
            return None
        return Device(raw["wrapped"], raw["box"], raw["sign"])

    async def set_device(self, username: str, device: Device, replace: bool = False) -> bool:
        if not replace and await self.redis.exists(_device(username)):
            return False
        await self.redis.hset(_device(username), mapping={
            "wrapped": device.wrapped, "box": device.box, "sign": device.sign})
        return True
