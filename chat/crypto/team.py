"""Team keys, their distribution to member devices, and conversation key bundles.

Sealed payloads start with a one-byte type tag so a sealed box made for one purpose can never
be accepted as another (all of them are sealed to X25519 keys of the same shape).

Epoch policy (see docs/crypto.md "Rotation"):
* a *new* key bundle must be sealed to the current epoch; ``check_bundle_epoch`` refuses an
  older one with ``e2e_stale_epoch`` (server on upload, nurse clients on receipt), so a
  removed member, who never gets the new team private key, cannot open new conversations;
* open conversations are moved to the new epoch with ``reseal_key_bundle`` (same CK).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chat.crypto import encoding as enc
from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope, DecryptFailed, KeyMismatch, StaleEpoch, UnknownEpoch
from chat.crypto.keys import BoxKeyPair, box_keypair, box_keypair_from_secret
from chat.crypto.statements import TeamStatement

BUNDLE_VERSION = 1
TAG_KEY_BUNDLE = 0x01
TAG_TEAM_KEY = 0x02
TAG_CONVERSATION_KEY = 0x03
CK_BYTES = 32
BUNDLE_BYTES = 1 + 4 + p.SEAL_OVERHEAD + 1 + CK_BYTES + 32  # 118


@dataclass(frozen=True)
class TeamKey:
    """A team key pair for one epoch, as held (after unsealing) by a member device."""

    epoch: int
    keys: BoxKeyPair


@dataclass(frozen=True)
class KeyBundle:
    """What the youth uploads: the epoch sealed to, and the sealed CK ‖ youth signing key."""

    epoch: int
    sealed: bytes


@dataclass(frozen=True)
class OpenedBundle:
    epoch: int
    ck: bytes = field(repr=False)
    youth_sign_public_key: bytes


# --- team key distribution ---------------------------------------------------------------


def new_team_key(epoch: int, seed: bytes | None = None) -> TeamKey:
    """A team key pair for ``epoch`` (admin CLI, offline). ``seed``: tests only."""
    return TeamKey(epoch=epoch, keys=box_keypair(seed))


def seal_team_key(
    team: TeamKey, device_box_public_key: bytes, eph_seed: bytes | None = None
) -> bytes:
    """Seal the epoch's team private key to one member device (admin CLI / member browser)."""
    msg = enc.u8(TAG_TEAM_KEY) + enc.u32(team.epoch) + team.keys.secret_key
    return p.seal(msg, device_box_public_key, eph_seed)


def open_team_key(sealed: bytes, device_box: BoxKeyPair, statement: TeamStatement) -> TeamKey:
    """Open a sealed team key and check it is the key the (verified) statement names."""
    r = enc.Reader(p.seal_open(sealed, device_box.public_key, device_box.secret_key))
    if r.u8() != TAG_TEAM_KEY:
        raise BadEnvelope("not a team key")
    epoch = r.u32()
    secret = r.take(32)
    r.end()
    keys = box_keypair_from_secret(secret)
    if epoch != statement.epoch or keys.public_key != statement.public_key:
        raise KeyMismatch("team key does not match the statement")
    return TeamKey(epoch=epoch, keys=keys)


# --- key bundles ------------------------------------------------------------------------


def encode_key_bundle(b: KeyBundle) -> bytes:
    """version u8 ‖ epoch u32 ‖ sealed box (48 + 65 bytes)."""
    return enc.u8(BUNDLE_VERSION) + enc.u32(b.epoch) + b.sealed


def decode_key_bundle(data: bytes) -> KeyBundle:
    if len(data) != BUNDLE_BYTES:
        raise BadEnvelope("key bundle has the wrong length")
    r = enc.Reader(data)
    if r.u8() != BUNDLE_VERSION:
        raise BadEnvelope("unknown key bundle version")
    return KeyBundle(epoch=r.u32(), sealed=r.rest())


def make_key_bundle(
    ck: bytes,
    youth_sign_public_key: bytes,
    statement: TeamStatement,
    eph_seed: bytes | None = None,
) -> KeyBundle:
    """Seal CK ‖ youth signing key to a *verified* team statement's key."""
    if len(ck) != CK_BYTES or len(youth_sign_public_key) != 32:
        raise BadEnvelope("CK and signing key must be 32 bytes")
    msg = enc.u8(TAG_KEY_BUNDLE) + ck + youth_sign_public_key
    return KeyBundle(epoch=statement.epoch, sealed=p.seal(msg, statement.public_key, eph_seed))


def open_key_bundle(bundle: KeyBundle, team: TeamKey) -> OpenedBundle:
    if bundle.epoch != team.epoch:
        raise UnknownEpoch("bundle is sealed to another epoch")
    r = enc.Reader(p.seal_open(bundle.sealed, team.keys.public_key, team.keys.secret_key))
    if r.u8() != TAG_KEY_BUNDLE:
        raise BadEnvelope("not a key bundle")
    ck = r.take(CK_BYTES)
    youth = r.take(32)
    r.end()
    return OpenedBundle(epoch=bundle.epoch, ck=ck, youth_sign_public_key=youth)


def open_key_bundle_with(bundle: KeyBundle, team_keys: dict[int, TeamKey]) -> OpenedBundle:
    """Open with whichever of the device's team keys matches the bundle's epoch."""
    team = team_keys.get(bundle.epoch)
    if team is None:
        newest = max(team_keys, default=-1)
        raise (UnknownEpoch if bundle.epoch > newest else StaleEpoch)("no team key for epoch")
    return open_key_bundle(bundle, team)


def reseal_key_bundle(
    old: KeyBundle,
    old_team: TeamKey,
    new_statement: TeamStatement,
    eph_seed: bytes | None = None,
) -> KeyBundle:
    """Rotation: move an open conversation to the new epoch (same CK, same youth key)."""
    if new_statement.epoch <= old.epoch:
        raise StaleEpoch("new statement must be a later epoch")
    opened = open_key_bundle(old, old_team)
    return make_key_bundle(opened.ck, opened.youth_sign_public_key, new_statement, eph_seed)


def check_bundle_epoch(bundle_epoch: int, current_epoch: int) -> None:
    """Gate for *new* bundles: must be sealed to the current epoch (server and clients)."""
    if bundle_epoch < current_epoch:
        raise StaleEpoch("bundle sealed to a superseded epoch")
    if bundle_epoch > current_epoch:
        raise UnknownEpoch("bundle sealed to an epoch not yet known")


# --- CK to a youth's additional (logged-in) device ---------------------------------------


def seal_conversation_key(
    ck: bytes, conversation_id: str, device_box_public_key: bytes, eph_seed: bytes | None = None
) -> bytes:
    """A member's browser gives CK to a youth's new device after the server attests the
    ID-porten login (trust assumption documented in docs/crypto.md)."""
    if len(ck) != CK_BYTES:
        raise BadEnvelope("CK must be 32 bytes")
    msg = enc.u8(TAG_CONVERSATION_KEY) + enc.text(conversation_id) + ck
    return p.seal(msg, device_box_public_key, eph_seed)


def open_conversation_key(sealed: bytes, conversation_id: str, device_box: BoxKeyPair) -> bytes:
    r = enc.Reader(p.seal_open(sealed, device_box.public_key, device_box.secret_key))
    if r.u8() != TAG_CONVERSATION_KEY:
        raise BadEnvelope("not a conversation key")
    if r.text() != conversation_id:
        raise DecryptFailed("conversation key is for another conversation")
    ck = r.take(CK_BYTES)
    r.end()
    return ck
