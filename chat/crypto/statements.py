"""Statements signed by a service's offline team-root Ed25519 key.

* TeamStatement  {service, epoch, team X25519 public key, not_before}: "this is the team key
  for epoch N". Youths seal conversation keys to it; only a verified statement is usable.
* MemberStatement {service, epoch, member, device Ed25519 key, device X25519 key}: "this
  nurse device is a member in epoch N". Receivers take nurse signing keys only from these,
  so the server cannot slip in a device of its own; a removed member gets no statement for
  the next epoch.

Encoding: fixed ASCII domain prefix, then fixed-width big-endian fields and u16-length
UTF-8 strings (see encoding.py). Signed form = encoding ‖ 64-byte Ed25519 signature over
the whole encoding (prefix included, so a signature never verifies as another type).
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.crypto import encoding as enc
from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope, BadSignature
from chat.crypto.keys import SignKeyPair

TEAM_STATEMENT_DOMAIN = b"helseprat/team-statement/v1"
MEMBER_STATEMENT_DOMAIN = b"helseprat/member-statement/v1"


@dataclass(frozen=True)
class TeamStatement:
    service: str
    epoch: int
    public_key: bytes  # team X25519 public key for this epoch
    not_before: int  # unix seconds


@dataclass(frozen=True)
class MemberStatement:
    service: str
    epoch: int
    member: str  # the nurse's account id (opaque to the crypto layer)
    sign_public_key: bytes
    box_public_key: bytes


def _key32(k: bytes) -> bytes:
    if len(k) != 32:
        raise BadEnvelope("public key must be 32 bytes")
    return k


def encode_team_statement(st: TeamStatement) -> bytes:
    return (
        TEAM_STATEMENT_DOMAIN
        + enc.text(st.service)
        + enc.u32(st.epoch)
        + _key32(st.public_key)
        + enc.u64(st.not_before)
    )


def decode_team_statement(data: bytes) -> TeamStatement:
    r = enc.Reader(data)
    r.expect(TEAM_STATEMENT_DOMAIN)
    st = TeamStatement(service=r.text(), epoch=r.u32(), public_key=r.take(32), not_before=r.u64())
    r.end()
    return st


def encode_member_statement(st: MemberStatement) -> bytes:
    return (
        MEMBER_STATEMENT_DOMAIN
        + enc.text(st.service)
        + enc.u32(st.epoch)
        + enc.text(st.member)
        + _key32(st.sign_public_key)
        + _key32(st.box_public_key)
    )


def decode_member_statement(data: bytes) -> MemberStatement:
    r = enc.Reader(data)
    r.expect(MEMBER_STATEMENT_DOMAIN)
    st = MemberStatement(
        service=r.text(),
        epoch=r.u32(),
        member=r.text(),
        sign_public_key=r.take(32),
        box_public_key=r.take(32),
    )
    r.end()
    return st


def sign_team_statement(st: TeamStatement, root: SignKeyPair) -> bytes:
    """Signed blob (the admin CLI's output); publish as base64."""
    body = encode_team_statement(st)
    return body + p.sign_detached(body, root.secret_key)


def sign_member_statement(st: MemberStatement, root: SignKeyPair) -> bytes:
    body = encode_member_statement(st)
    return body + p.sign_detached(body, root.secret_key)


def _split(signed: bytes) -> tuple[bytes, bytes]:
    if len(signed) <= p.SIG_BYTES:
        raise BadEnvelope("signed statement too short")
    return signed[: -p.SIG_BYTES], signed[-p.SIG_BYTES :]


def verify_team_statement(
    signed: bytes, root_public_key: bytes, service: str | None = None
) -> TeamStatement:
    """Parse and verify; ``service`` (when given) must match, so one service's statement
    cannot be presented for another that happens to share a root key."""
    body, sig = _split(signed)
    st = decode_team_statement(body)
    p.verify_detached(sig, body, root_public_key)
    if service is not None and st.service != service:
        raise BadSignature("statement is for another service")
    return st


def verify_member_statement(
    signed: bytes, root_public_key: bytes, service: str | None = None
) -> MemberStatement:
    body, sig = _split(signed)
    st = decode_member_statement(body)
    p.verify_detached(sig, body, root_public_key)
    if service is not None and st.service != service:
        raise BadSignature("statement is for another service")
    return st
