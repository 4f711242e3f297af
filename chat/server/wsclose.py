"""A WebSocket frame that cannot be parsed is answered with a close frame carrying the reason.

wsproto reports a frame it could not parse (invalid UTF-8 in a text frame: 1007; a protocol
error: 1002) as a ``CloseConnection`` event, as if the peer had closed, but leaves the
connection open; Hypercorn answers a close only in the "remote closing" state, so it dropped
the TCP connection without any close frame and the client never learnt why. Marking the
connection as remote-closing makes Hypercorn send the close with wsproto's code. Applied once
per process, by chat.app.
"""

from __future__ import annotations

from collections.abc import Generator

from wsproto.connection import Connection, ConnectionState
from wsproto.events import CloseConnection, Event


class ClosingConnection(Connection):
    def events(self) -> Generator[Event, None, None]:
        for event in super().events():
            if isinstance(event, CloseConnection) and self.state is ConnectionState.OPEN:
                self._state = ConnectionState.REMOTE_CLOSING
            yield event


def close_on_unparsable_frames() -> None:
    from hypercorn.protocol import ws_stream

    setattr(ws_stream, "Connection", ClosingConnection)  # noqa: B010 - a module global
