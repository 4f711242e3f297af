"""The service admin's side of the team keys: `helseprat team init|rotate|member add|remove`.

The admin's key file holds the team-root signing key and each epoch's team private key. It is
made and kept by the admin (mode 0600) and never read by the server; the server only receives
what this module publishes: signed statements and sealed keys.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from chat import crypto
from chat.store.teamkeys import TeamKeys


@dataclass
class AdminKeys:
    service: str
    root_seed: bytes
    team_secrets: dict[int, bytes] = field(default_factory=dict)  # epoch -> X25519 secret
    members: list[str] = field(default_factory=list)

    @property
    def root(self) -> crypto.SignKeyPair:
        return crypto.sign_keypair(self.root_seed)

    @property
    def epoch(self) -> int:
        return max(self.team_secrets)

    def team_key(self, epoch: int) -> crypto.TeamKey:
        from chat.crypto.keys import box_keypair_from_secret

        return crypto.TeamKey(epoch=epoch, keys=box_keypair_from_secret(self.team_secrets[epoch]))

    def save(self, path: Path) -> None:
        data = {"service": self.service, "root_seed": crypto.b64encode(self.root_seed),
                "team_secrets": {str(e): crypto.b64encode(s) for e, s in self.team_secrets.items()},
                "members": self.members}
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> AdminKeys:
        data = json.loads(path.read_text())
        return cls(service=data["service"], root_seed=crypto.b64decode(data["root_seed"]),
                   team_secrets={int(e): crypto.b64decode(s)
                                 for e, s in data["team_secrets"].items()},
                   members=list(data["members"]))


def _statement(keys: AdminKeys, epoch: int) -> str:
    team = keys.team_key(epoch)
    st = crypto.TeamStatement(service=keys.service, epoch=epoch,
                              public_key=team.keys.public_key, not_before=int(time.time()))
    return crypto.b64encode(crypto.sign_team_statement(st, keys.root))


async def _member_material(
    keys: AdminKeys, store: TeamKeys, username: str, epoch: int
) -> tuple[str, str]:
    device = await store.device(username)
    if device is None:
        raise LookupError(f"{username} has no device key yet: they must log in once first")
    box_pk = crypto.b64decode(device.box)
    ms = crypto.MemberStatement(service=keys.service, epoch=epoch, member=username,
                                sign_public_key=crypto.b64decode(device.sign),
                                box_public_key=box_pk)
    statement = crypto.b64encode(crypto.sign_member_statement(ms, keys.root))
    sealed = crypto.b64encode(crypto.seal_team_key(keys.team_key(epoch), box_pk))
    return statement, sealed


async def publish(keys: AdminKeys, store: TeamKeys) -> None:
    """Publish the current epoch with every member that has a device."""
    epoch = keys.epoch
    members: dict[str, str] = {}
    sealed: dict[str, str] = {}
    for username in keys.members:
        try:
            members[username], sealed[username] = await _member_material(keys, store, username,
                                                                         epoch)
        except LookupError:
            continue
    await store.publish_epoch(keys.service, crypto.b64encode(keys.root.public_key), epoch,
                              _statement(keys, epoch), members, sealed)


def init(service: str) -> AdminKeys:
    keys = AdminKeys(service=service, root_seed=os.urandom(32))
    keys.team_secrets[1] = crypto.new_team_key(1).keys.secret_key
    return keys


def rotate(keys: AdminKeys) -> int:
    new = keys.epoch + 1
    keys.team_secrets[new] = crypto.new_team_key(new).keys.secret_key
    return new


async def add_member(keys: AdminKeys, store: TeamKeys, username: str) -> None:
    statement, sealed = await _member_material(keys, store, username, keys.epoch)
    if username not in keys.members:
        keys.members.append(username)
    await store.add_member(keys.service, username, statement, sealed, keys.epoch)


async def remove_member(keys: AdminKeys, store: TeamKeys, username: str) -> int:
    """Remove and start a new epoch, so the removed device can read nothing new."""
    if username in keys.members:
        keys.members.remove(username)
    epoch = rotate(keys)
    await publish(keys, store)
    return epoch
