"""The sans-I/O protocol core: text frames in, commands or error replies out.

One ``Connection`` per WebSocket. It checks size, JSON, version, type and schema, applies the
per-connection flood limits with an injected clock, and guards which commands are allowed in
which state (explicit enum with guarded transitions). It never touches a socket or Redis; the
endpoint feeds it frames and tells it what happened (``bind``, ``close``).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from anon.ratelimit import TokenBucket
from chat.errors import (
    BadFrame,
    ClientError,
    FrameTooLarge,
    InvalidState,
    RateLimited,
    SchemaViolation,
    UnknownType,
    UnsupportedVersion,
)
from chat.limits import Limits
from chat.protocol import PROTOCOL_VERSION
from chat.protocol import commands as c
from chat.protocol.jsontext import JsonRefused, parse_json


class Role(enum.Enum):
    YOUTH = "youth"
    NURSE = "nurse"


class ConnState(enum.Enum):
    NEW = "new"  # youth: no conversation yet
    BOUND = "bound"  # youth: attached to one conversation; nurse: always
    CLOSED = "closed"


@cache
def _schema_document() -> dict[str, Any]:
    text = resources.files("chat.protocol").joinpath("schema.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def validators(role: Role) -> dict[str, Draft202012Validator]:
    doc = _schema_document()
    out = {}
    for kind, schema in doc["inbound"][role.value].items():
        # Each type's schema is validated inside the whole document so "$ref"s resolve.
        wrapped = {"$defs": doc["$defs"], **schema}
        Draft202012Validator.check_schema(wrapped)
        out[kind] = Draft202012Validator(wrapped)
    return out


# Fast path for the frames of a conversation in flight: a strict subset of what the schema
# accepts (same patterns, anchored, exact key sets); anything else goes to the validator, so
# errors are exactly the schema's. Why: docs/benchmarks.md ("Why the code is shaped this way").
_CMID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_CONV = re.compile(r"[A-Za-z0-9_-]{16,32}")
_BODY = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_BODY_MAX = 65536
_PATH_PART = re.compile(r"[A-Za-z0-9_]{1,40}")  # schema names and indexes, never other text
_SEND_KEYS = {Role.YOUTH: frozenset({"v", "type", "cmid", "body"}),
              Role.NURSE: frozenset({"v", "type", "cmid", "body", "conversation"})}
_BARE_KEYS = {Role.YOUTH: frozenset({"v", "type"}),
              Role.NURSE: frozenset({"v", "type", "conversation"})}
# The frames every client sends on each reconnect (a server restart brings all of them at once).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_SEQ_MAX = 9007199254740991
_RESUME_KEYS = frozenset({"v", "type", "conversation", "token", "after"})
_OPEN_KEYS = frozenset({"v", "type", "conversation", "after"})


def fast_valid(role: Role, kind: object, obj: dict[str, Any]) -> bool:
    """True when ``obj`` certainly satisfies the schema of ``kind``; False means "ask the schema"."""
    v = obj.get("v")
    if v.__class__ is not int or v != PROTOCOL_VERSION:
        return False
    if role is Role.NURSE and kind != "ping":
        conv = obj.get("conversation")
        if conv.__class__ is not str or _CONV.fullmatch(conv) is None:
            return False
    if kind == "send":
        if obj.keys() != _SEND_KEYS[role]:
            return False
        cmid, body = obj["cmid"], obj["body"]
        return (cmid.__class__ is str and body.__class__ is str and len(body) <= _BODY_MAX
                and _CMID.fullmatch(cmid) is not None and _BODY.fullmatch(body) is not None)
    if kind == "typing":
        return obj.keys() == _BARE_KEYS[role]
    if kind == "ping":
        return obj.keys() == _BARE_KEYS[Role.YOUTH]
    if kind == "resume" and role is Role.YOUTH:
        conv, token = obj.get("conversation"), obj.get("token")
        return (obj.keys() == _RESUME_KEYS and _seq(obj["after"])
                and conv.__class__ is str and _CONV.fullmatch(conv) is not None
                and token.__class__ is str and _TOKEN.fullmatch(token) is not None)
    if kind == "open" and role is Role.NURSE:
        keys = obj.keys()
        return keys == _BARE_KEYS[role] or (keys == _OPEN_KEYS and _seq(obj["after"]))
    return False


def _seq(value: object) -> bool:
    return type(value) is int and 0 <= value <= _SEQ_MAX  # not bool: the schema says integer


# Which youth commands are allowed in which state.
_YOUTH_ALLOWED: dict[str, frozenset[ConnState]] = {
    "start": frozenset({ConnState.NEW}),
    "resume": frozenset({ConnState.NEW}),
    "resume_code": frozenset({ConnState.NEW}),
    "resume_session": frozenset({ConnState.NEW}),
    "send": frozenset({ConnState.BOUND}),
    "typing": frozenset({ConnState.BOUND}),
    "end": frozenset({ConnState.BOUND}),
    "feedback": frozenset({ConnState.BOUND}),
    "later": frozenset({ConnState.BOUND}),
    "push_subscribe": frozenset({ConnState.BOUND}),
    "push_unsubscribe": frozenset({ConnState.BOUND}),
    "ping": frozenset({ConnState.NEW, ConnState.BOUND}),
}


@dataclass(frozen=True)
class Rejected:
    """A frame that was refused; ``ref`` echoes the client message id or type when known."""

    error: ClientError
    ref: str | None = None
    fatal: bool = False  # the endpoint should close the connection after replying


@dataclass(slots=True)  # one per WebSocket
class Connection:
    role: Role
    limits: Limits
    state: ConnState = ConnState.NEW
    conversation: str | None = None
    _frames: TokenBucket = field(init=False)
    _sends: TokenBucket = field(init=False)
    _strikes: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._frames = TokenBucket(self.limits.frames_per_second, self.limits.frame_burst)
        self._sends = TokenBucket(self.limits.sends_per_second, self.limits.send_burst)
        if self.role is Role.NURSE:
            self.state = ConnState.BOUND

    # -- transitions -------------------------------------------------------------------------
    def bind(self, conversation: str) -> None:
        if self.role is not Role.YOUTH or self.state is not ConnState.NEW:
            raise InvalidState()
        self.state = ConnState.BOUND
        self.conversation = conversation

    def close(self) -> None:
        self.state = ConnState.CLOSED

    # -- input -------------------------------------------------------------------------------
    def receive(self, data: str | bytes, now: float) -> c.Command | Rejected:
        if self.state is ConnState.CLOSED:
            return Rejected(InvalidState("The connection is closing."), fatal=True)
        if len(data) > self.limits.max_frame_bytes:
            return Rejected(FrameTooLarge())
        if not self._frames.take(now):
            # Persistent flooding ends the connection; a short burst only gets an error.
            self._strikes += 1
            return Rejected(RateLimited(), fatal=self._strikes > self.limits.frame_burst)
        try:
            obj = parse_json(data)
        except JsonRefused as exc:
            return Rejected(BadFrame(f"The frame is not JSON we accept: {exc}."))
        if not isinstance(obj, dict):
            return Rejected(BadFrame("A frame must be a JSON object."))
        kind = obj.get("type")
        # Only a well-formed cmid is echoed: an error frame never carries the client's own
        # malformed text back (markup, control characters) in a field clients trust.
        cmid = obj.get("cmid")
        ref = cmid if cmid.__class__ is str and _CMID.fullmatch(cmid) is not None else None
        if obj.get("v") != PROTOCOL_VERSION:
            return Rejected(UnsupportedVersion(), ref)
        validator = validators(self.role).get(kind) if isinstance(kind, str) else None
        if validator is None:
            return Rejected(UnknownType(), ref)
        if not fast_valid(self.role, kind, obj):
            try:
                validator.validate(obj)
            except ValidationError as exc:
                where = "/".join(p for p in map(str, exc.absolute_path)
                                 if _PATH_PART.fullmatch(p)) or "frame"
                return Rejected(SchemaViolation(f"Invalid field: {where}."), ref or kind)
        if self.role is Role.YOUTH:
            assert isinstance(kind, str)
            if self.state not in _YOUTH_ALLOWED[kind]:
                return Rejected(InvalidState(), ref or kind)
        if kind == "send" and not self._sends.take(now):
            return Rejected(RateLimited(), ref)
        return self._command(kind, obj)

    def _command(self, kind: str | None, o: dict[str, Any]) -> c.Command:
        if self.role is Role.YOUTH:
            return self._youth_command(kind, o)
        after = int(o.get("after", 0))
        match kind:
            case "claim":
                return c.Claim(o["conversation"])
            case "open":
                return c.Open(o["conversation"], after)
            case "send":
                return c.Send(o["conversation"], o["cmid"], o["body"])
            case "typing":
                return c.Typing(o["conversation"], o.get("stopped") is True)
            case "close":
                return c.Close(o["conversation"], o["outcome"])
            case "release":
                return c.Release(o["conversation"])
            case "later":
                return c.ParkLater(o["conversation"])
            case "rekey":
                return c.Rekey(o["conversation"], o["key_bundle"], int(o["epoch"]))
            case "reseal":
                return c.Reseal(o["conversation"], o["device"], o["sealed_ck"],
                                o.get("key_bundle", ""))
            case "transfer":
                return c.Transfer(o["conversation"], o.get("to_service", ""),
                                  o.get("to_nurse", ""), o.get("key_bundle", ""),
                                  int(o.get("epoch", 0)), o.get("note", ""))
            case "flag":
                return c.Flag(o["conversation"], o["kind"])
            case "invite":
                return c.Invite(o["conversation"], o["nurse"])
            case "join":
                return c.Join(o["conversation"])
            case "leave":
                return c.Leave(o["conversation"])
            case "decline":
                return c.Decline(o["conversation"])
            case "journal":
                return c.Journal(o["conversation"], o["msg_id"], o["sealed_note"])
            case "propose_appointment":
                return c.ProposeAppointment(o["conversation"], o["proposal_id"], o["start"],
                                            int(o["minutes"]), o["place"], o["type_code"])
            case "queue":
                return c.QueueRequest(o["service"])
            case "overview":
                return c.OverviewRequest(o["service"], o.get("day", ""))
            case "audit":
                return c.AuditRequest(o["service"])
            case "pause_starts":
                return c.PauseStarts(o["conversation"], int(o["hours"]))
            case "lift_pause":
                return c.LiftPause(o["conversation"])
            case "start_pause":
                return c.StartPauseRequest(o["conversation"])
            case "set_break":
                return c.SetBreak(bool(o["on"]))
            case _:
                return c.Ping()

    def _youth_command(self, kind: str | None, o: dict[str, Any]) -> c.Command:
        after = int(o.get("after", 0))
        bound = self.conversation or ""
        match kind:
            case "start":
                r = o.get("resume")
                setup = c.ResumeSetup(r["handle"], r["auth"], r["backup"]) if r else None
                return c.Start(o["service"], o.get("key_bundle", ""), int(o.get("epoch", 0)),
                               setup, o.get("topic", ""), o.get("urgent") is True,
                               o.get("capability", ""))
            case "resume":
                return c.Resume(o["conversation"], o["token"], after)
            case "resume_code":
                return c.ResumeWithCode(o["handle"], o["auth"], after)
            case "resume_session":
                return c.ResumeSession(o["conversation"], after)
            case "send":
                return c.Send(bound, o["cmid"], o["body"])
            case "typing":
                return c.Typing(bound, o.get("stopped") is True)
            case "end":
                return c.End(bound)
            case "feedback":
                return c.Feedback(bound, o["helpful"] is True)
            case "later":
                return c.Later(bound)
            case "push_subscribe":
                return c.PushSubscribe(bound, {"endpoint": o["endpoint"], "keys": o["keys"],
                                               "lang": o.get("lang", "nb")})
            case "push_unsubscribe":
                return c.PushUnsubscribe(bound)
            case _:
                return c.Ping()
