"""How an extension plugs into chat without chat importing it.

The identity bridge (ID-porten login, the journal link) is such an extension: the composition
root (chat/app.py) builds it from the configuration and hands it to the app, which asks it for
routes, runs its start and stop, and lets the WebSocket endpoints consult it at a few named
points. chat knows these Protocols only; import-linter keeps chat from importing the bridge.

The wire protocol stays one document: the extension's commands (``resume_session``, ``reseal``,
``journal``) are parsed by chat/protocol like every other frame; an endpoint hands a command it
does not handle itself to the extensions, in order, until one takes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from chat.config import Config
from chat.domain.conversation import Conversation
from chat.domain.staff import Nurse
from chat.protocol import commands as c
from chat.protocol.events import Event

# The process's runtime (chat.web.runtime.Runtime), a parameter so this module, which the web
# layer imports, need not import it back.
RT = TypeVar("RT", contravariant=True)


class NurseSocket(Protocol):
    """What an extension may do with a nurse's dashboard connection."""

    @property
    def nurse(self) -> Nurse: ...

    def put(self, frame: str) -> None:
        """Queue an already encoded frame for this connection."""

    def send(self, event: Event) -> None:
        """Queue an event for this connection."""


class Extension(Protocol[RT]):
    """One plugged-in capability. Every hook has a do-nothing answer; see chat/app.py."""

    name: str

    def routes(self) -> Sequence[BaseRoute]:
        """Extra HTTP routes, mounted before the static files."""

    async def start(self, rt: RT) -> None:
        """Called once per process after the runtime is built (the hub is running)."""

    async def stop(self) -> None:
        """Called once per process at shutdown, before Redis is closed."""

    def page_flags(self) -> Mapping[str, bool]:
        """Named flags the youth pages read (e.g. whether login is offered)."""

    def hello_fields(self, nurse: Nurse) -> Mapping[str, object]:
        """Extra fields of the nurse's ``hello``."""

    def verified(self, conv: Conversation) -> dict[str, object] | None:
        """The ``verified`` field of ``state`` frames, for a conversation this extension vouches for."""

    async def youth_command(self, ws: WebSocket, cmd: c.Command) -> Conversation | None:
        """Handle a youth command chat does not know; return the conversation to attach to,
        or None when the command is not this extension's."""

    async def nurse_command(self, sock: NurseSocket, cmd: c.Command) -> bool:
        """Handle a nurse command chat does not know; True when it was this extension's."""

    async def nurse_opened(self, sock: NurseSocket, conv: Conversation) -> None:
        """A dashboard opened ``conv``: send what the extension adds (before ``history_end``)."""

    def nurse_closed(self, sock: NurseSocket) -> None:
        """A dashboard connection ended: forget it."""


class ExtensionFactory(Protocol[RT]):
    """Builds an extension from chat's configuration (its own section and environment), or
    returns None when it is not configured. Raises ConfigError for a bad section."""

    def __call__(self, config: Config) -> Extension[RT] | None: ...


def build(factories: Sequence[ExtensionFactory[RT]], config: Config) -> tuple[Extension[RT], ...]:
    """The configured extensions, in order; a bad section fails here, at start-up."""
    built = (factory(config) for factory in factories)
    return tuple(ext for ext in built if ext is not None)


def verified(extensions: Sequence[Extension[RT]], conv: Conversation) -> dict[str, object] | None:
    for ext in extensions:
        value = ext.verified(conv)
        if value is not None:
            return value
    return None


def page_flag(extensions: Sequence[Extension[RT]], name: str) -> bool:
    return any(ext.page_flags().get(name, False) for ext in extensions)
