"""Writes the dashboard's new-chat chime (static/sounds/new-chat.wav): a short two-tone WAV
made here with the standard library, so the page needs no external asset.

Run ``python -m devservices.sound`` to regenerate it.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
TARGET = Path(__file__).resolve().parents[1] / "static" / "sounds" / "new-chat.wav"


def chime() -> bytes:
    out = bytearray()
    for freq, dur in ((880, 0.12), (0, 0.04), (1320, 0.18)):
        n = int(RATE * dur)
        for i in range(n):
            env = min(1.0, i / (RATE * 0.01), (n - i) / (RATE * 0.03)) if freq else 0.0
            value = int(0.35 * 32767 * env * math.sin(2 * math.pi * freq * i / RATE))
            out += struct.pack("<h", value)
    return bytes(out)


def write(path: Path = TARGET) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(chime())


if __name__ == "__main__":
    write()
