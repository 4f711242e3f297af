"""End-to-end encryption for Python clients (tests, load generator, CLI).

The same steps the browser takes (static/js/youth.js, static/js/nurse.js), with chat.crypto:
a youth verifies the team statement, makes a conversation key and a signing key and seals
them to the team; a nurse unwraps her device keys with her password, opens the team keys
sealed to her device, and opens conversation key bundles with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from chat import crypto


@dataclass(frozen=True)
class TeamView:
    service: str
    root: bytes
    statement: crypto.TeamStatement
    statement_b64: str
    members: tuple[crypto.MemberStatement, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any], pinned_root: bytes | None = None) -> TeamView:
        root = crypto.b64decode(data["root"])
        if pinned_root is not None and root != pinned_root:
            raise crypto.KeyMismatch("team root changed since first use")
        service = data["service"]
        st = crypto.verify_team_statement(crypto.b64decode(data["statement"]), root, service)
        members = tuple(crypto.verify_member_statement(crypto.b64decode(m), root, service)
                        for m in data["members"])
        return cls(service, root, st, data["statement"], members)

    def member_sign_keys(self) -> list[bytes]:
        return [m.sign_public_key for m in self.members]


async def fetch_team(base: str, service: str) -> TeamView:
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.get(f"/api/team/{service}")
        r.raise_for_status()
        return TeamView.from_json(r.json())


@dataclass
class YouthCrypto:
    """A youth's keys for one conversation and the running session state."""

    team: TeamView
    ck: bytes = field(repr=False)
    me: crypto.SignKeyPair = field(repr=False)
    bundle_b64: str
    session: crypto.ConversationSession | None = None

    @classmethod
    def create(cls, team: TeamView) -> YouthCrypto:
        ck = crypto.conversation_key()
        me = crypto.sign_keypair()
        bundle = crypto.make_key_bundle(ck, me.public_key, team.statement)
        return cls(team, ck, me, crypto.b64encode(crypto.encode_key_bundle(bundle)))

    @property
    def epoch(self) -> int:
        return self.team.statement.epoch

    def bind(self, conversation: str) -> None:
        senders = [self.me.public_key, *self.team.member_sign_keys()]
        self.session = crypto.new_session(conversation, self.ck, self.epoch, senders, self.me)

    def seal(self, text: str) -> str:
        assert self.session is not None
        self.session, body = crypto.seal_message(self.session, text.encode())
        return body

    def open(self, body: str) -> str:
        assert self.session is not None
        self.session, opened = crypto.open_message(self.session, body)
        return opened.plaintext.decode()

    def learn_team(self, team: TeamView) -> None:
        """A newer, root-verified team statement: accept messages under its epoch too."""
        if team.root != self.team.root:
            raise crypto.KeyMismatch("team root changed")
        self.team = team
        if self.session is not None:
            self.session = crypto.with_epoch(self.session, team.statement.epoch)
            self.session = crypto.with_senders(self.session, team.member_sign_keys())

    def safety_code(self) -> str:
        return crypto.safety_code(self.team.root, self.me.public_key)


@dataclass
class NurseCrypto:
    """A nurse device: unwrapped device keys and the team keys sealed to it, per service."""

    device: crypto.DeviceKeys = field(repr=False)
    teams: dict[str, TeamView]
    team_keys: dict[str, dict[int, crypto.TeamKey]] = field(repr=False)
    sessions: dict[str, crypto.ConversationSession] = field(default_factory=dict, repr=False)

    @classmethod
    def from_keys_json(cls, data: dict[str, Any], password: str) -> NurseCrypto:
        """``data`` is GET /api/nurse/keys; a wrong password raises crypto.WrongPassword."""
        if data.get("device") is None:
            raise LookupError("this account has no device key yet")
        device = crypto.unwrap_device_keys(crypto.b64decode(data["device"]["wrapped"]), password)
        teams: dict[str, TeamView] = {}
        team_keys: dict[str, dict[int, crypto.TeamKey]] = {}
        for service, t in data["teams"].items():
            view = TeamView.from_json(t)
            teams[service] = view
            keys: dict[int, crypto.TeamKey] = {}
            root = view.root
            for epoch_s, sealed in t.get("sealed", {}).items():
                st = crypto.verify_team_statement(
                    crypto.b64decode(t["statements"][epoch_s]), root, service)
                keys[int(epoch_s)] = crypto.open_team_key(crypto.b64decode(sealed), device.box, st)
            team_keys[service] = keys
        return cls(device, teams, team_keys)

    def open_conversation(self, service: str, conversation: str, key_bundle: str) -> None:
        bundle = crypto.decode_key_bundle(crypto.b64decode(key_bundle))
        opened = crypto.open_key_bundle_with(bundle, self.team_keys[service])
        senders = [opened.youth_sign_public_key, *self.teams[service].member_sign_keys()]
        session = crypto.new_session(
            conversation, opened.ck, opened.epoch, senders, self.device.sign)
        # A re-sealed conversation keeps its key: the youth may still write under the epoch it
        # started in, so every earlier epoch of this conversation key is accepted.
        for epoch in range(1, opened.epoch):
            session = crypto.with_epoch(session, epoch)
        self.sessions[conversation] = session

    def reseal(self, service: str, key_bundle: str) -> tuple[str, int]:
        """Re-seal a conversation key from the epoch it was sealed to, to the current one."""
        bundle = crypto.decode_key_bundle(crypto.b64decode(key_bundle))
        current = self.teams[service].statement
        new = crypto.reseal_key_bundle(bundle, self.team_keys[service][bundle.epoch], current)
        return crypto.b64encode(crypto.encode_key_bundle(new)), current.epoch

    def seal(self, conversation: str, text: str) -> str:
        s, body = crypto.seal_message(self.sessions[conversation], text.encode())
        self.sessions[conversation] = s
        return body

    def open(self, conversation: str, body: str) -> str:
        s, opened = crypto.open_message(self.sessions[conversation], body)
        self.sessions[conversation] = s
        return opened.plaintext.decode()


async def fetch_nurse_keys(base: str, cookie: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, cookies={"hp_session": cookie}) as http:
        r = await http.get("/api/nurse/keys")
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data
