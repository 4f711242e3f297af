"""No permessage-deflate on our WebSockets.

Browsers offer permessage-deflate on every WebSocket and Hypercorn accepts it with wsproto's
defaults: a zlib compressor and decompressor per connection for the connection's life. We
decline the offer (RFC 7692 lets a server answer without the extension), because:

* what travels is base64 of ciphertext, which deflate shrinks by a quarter at best, and the
  messages are short;
* the benchmarks measured the cost: ~148 KB of zlib state per idle youth with Hypercorn's
  defaults (41 KB even without context takeover), and inflating every client frame was the
  largest single cost per relayed message (server CPU per message 754 -> ~250 us without it,
  see docs/benchmarks.md);
* compressing frames that hold a capability token beside data a third party can influence is
  the shape of a compression side channel (CRIME/BREACH); not compressing removes the question.

Hypercorn has no setting for this, so we give its WebSocket stream an extension that declines.
It is applied once per process, by chat.app.
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
