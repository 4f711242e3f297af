"""No permessage-deflate on our WebSockets: we decline the offer (RFC 7692 allows it).

Ciphertext barely compresses, the zlib state costs ~148 KB per idle connection, inflating was
the largest cost per relayed message, and compressing token-bearing frames invites a
CRIME/BREACH-style side channel (docs/benchmarks.md). Applied once per process, by chat.app.
"""

from __future__ import annotations

from wsproto.extensions import PerMessageDeflate


class DeclinedPerMessageDeflate(PerMessageDeflate):
    """Recognises the offer by name and always declines it (``accept`` returns None)."""

    def accept(self, offer: str) -> None:
        return None


def decline_compression() -> None:
    from hypercorn.protocol import ws_stream

    setattr(ws_stream, "PerMessageDeflate", DeclinedPerMessageDeflate)  # noqa: B010 - a module global
