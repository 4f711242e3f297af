"""Permessage-deflate without context takeover.

Browsers offer compression on every WebSocket, and Hypercorn always accepts it with wsproto's
defaults: a zlib compressor and decompressor per connection kept for the connection's life
(the benchmark measured ~148 KB per idle youth, most of it this). With no context takeover in
both directions (RFC 7692 §7.1.1) zlib state lives only while a message is being handled, which
costs little for messages that are ciphertext anyway (it barely compresses).

Hypercorn has no setting for this, so we give its WebSocket stream a PerMessageDeflate that
asks for it. It is applied once per process, by chat.app.
"""

from __future__ import annotations

from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits


class LeanPerMessageDeflate(PerMessageDeflate):
    def __init__(self) -> None:
        super().__init__(client_no_context_takeover=True, server_no_context_takeover=True)

    def frame_outbound(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes,
        fin: bool,
    ) -> tuple[RsvBits, bytes]:
        # Send uncompressed (RFC 7692 lets each message choose; RSV1 stays clear). What we send
        # is mostly base64 ciphertext, which deflate barely shrinks, so compressing every frame
        # cost CPU (and a fresh zlib stream per message without context takeover) for little.
        return rsv, data


def use_lean_deflate() -> None:
    from hypercorn.protocol import ws_stream

    setattr(ws_stream, "PerMessageDeflate", LeanPerMessageDeflate)  # noqa: B010 - a module global
