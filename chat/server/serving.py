"""How helseprat runs on Hypercorn, in one place: the Hypercorn settings ``helseprat serve``
uses and the adjustments applied once per process. The bench's floor target uses the same two,
so the yardstick cannot drift from the server it measures."""

from __future__ import annotations

from hypercorn.config import Config

from chat.server.compression import decline_compression
from chat.server.memory import fewer_full_collections, lean_connections
from chat.server.wsclose import close_on_unparsable_frames


def hypercorn_config(bind: str) -> Config:
    hc = Config()
    hc.bind = [bind]
    hc.accesslog = None  # access logs would carry addresses; we log per connection instead
    hc.websocket_max_message_size = 256 * 1024
    hc.graceful_timeout = 15
    hc.keep_alive_timeout = 30
    # A deep accept backlog for the reconnect burst after a restart (docs/benchmarks.md);
    # the kernel caps it at net.core.somaxconn.
    hc.backlog = 4096
    return hc


def adjust_hypercorn() -> None:
    """No permessage-deflate, a close for unparsable frames, leaner per-connection parts and
    fewer full collections (each module says why)."""
    decline_compression()
    close_on_unparsable_frames()
    lean_connections()
    fewer_full_collections()
