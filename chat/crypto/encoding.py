"""Deterministic byte encoding shared with static/js/e2e/encoding.js.

Integers are big-endian and fixed width; strings are UTF-8 with a u16 length prefix.
No JSON anywhere in signed or authenticated data: one value has exactly one encoding.
"""

from __future__ import annotations

import base64
import binascii
import struct

from chat.crypto.errors import BadEnvelope


def u8(n: int) -> bytes:
    return struct.pack(">B", n)


def u16(n: int) -> bytes:
    return struct.pack(">H", n)


def u32(n: int) -> bytes:
    if not 0 <= n <= 0xFFFFFFFF:
        raise BadEnvelope("u32 out of range")
    return struct.pack(">I", n)


def u64(n: int) -> bytes:
    # Capped at 2**53 - 1 so every value round-trips through a JS number unchanged.
    if not 0 <= n <= MAX_SAFE_INT:
        raise BadEnvelope("u64 out of range")
    return struct.pack(">Q", n)


MAX_SAFE_INT = 2**53 - 1
MAX_TEXT_BYTES = 255


def text(s: str) -> bytes:
    """u16 length ‖ UTF-8; 1..255 bytes (ids and service names, never free text)."""
    raw = s.encode("utf-8")
    if not 1 <= len(raw) <= MAX_TEXT_BYTES:
        raise BadEnvelope("text field must be 1..255 UTF-8 bytes")
    return u16(len(raw)) + raw


class Reader:
    """Cursor over bytes; every short read is a BadEnvelope, and so are trailing bytes."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise BadEnvelope("truncated")
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def u8(self) -> int:
        return int(self.take(1)[0])

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def u64(self) -> int:
        n = int(struct.unpack(">Q", self.take(8))[0])
        if n > MAX_SAFE_INT:
            raise BadEnvelope("u64 out of range")
        return n

    def text(self) -> str:
        n = self.u16()
        if not 1 <= n <= MAX_TEXT_BYTES:
            raise BadEnvelope("bad text length")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadEnvelope("text is not UTF-8") from exc

    def expect(self, prefix: bytes) -> None:
        if self.take(len(prefix)) != prefix:
            raise BadEnvelope("wrong domain prefix")

    def rest(self) -> bytes:
        return self.take(len(self._data) - self._pos)

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def end(self) -> None:
        if self._pos != len(self._data):
            raise BadEnvelope("trailing bytes")


def b64encode(data: bytes) -> str:
    """Standard base64 with padding and no newlines (what travels in protocol fields)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(s: str) -> bytes:
    """Strict: rejects URL-safe alphabet, whitespace and missing padding."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise BadEnvelope("bad base64") from exc
    # Non-canonical encodings (stray bits in the last char) would let two strings mean
    # the same bytes; refuse them so the string form is as canonical as the bytes.
    if b64encode(raw) != s:
        raise BadEnvelope("non-canonical base64")
    return raw
