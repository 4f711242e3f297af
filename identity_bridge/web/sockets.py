"""The identity bridge's part of the WebSocket endpoints (called from chat/web/sockets.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from chat.actions.conversations import Conversation, Nurse
from chat.errors import BadToken, NotAuthorized
from chat.protocol import commands as c
from chat.protocol import frames
from chat.web.runtime import Runtime

from .service import SESSION_COOKIE, IdentityWeb, pending_device_frames, reseal

if TYPE_CHECKING:
    from .journal import JournalLink


def _identity(ws: WebSocket) -> IdentityWeb | None:
    identity: IdentityWeb | None = getattr(ws.app.state, "identity", None)
    return identity


def journal_link(ws: WebSocket) -> JournalLink | None:
    """The send-to-journal link (issue 7), when ``[epj]`` is configured."""
    journal: JournalLink | None = getattr(ws.app.state, "journal", None)
    return journal


async def resume_session(rt: Runtime, ws: WebSocket, cmd: c.ResumeSession) -> Conversation:
    """A logged-in youth reattaches to a thread by session cookie. The cookie rides along on
    cross-site WebSocket handshakes too, so the Origin is checked (CSWSH)."""
    identity = _identity(ws)
    if identity is None:
        raise NotAuthorized("Login is not available here.")
    origin = ws.headers.get("origin", "")
    host = ws.headers.get("host", "")
    if origin not in (rt.config.public_url, f"http://{host}", f"https://{host}"):
        raise NotAuthorized()
    session = await identity.session(ws.cookies.get(SESSION_COOKIE))
    if session is None:
        raise BadToken("Log in again to continue this conversation.")
    return await rt.actions.authenticate_person(cmd.conversation, session.person)


async def device_frames(rt: Runtime, cid: str) -> list[str]:
    """Frames about a thread's extra devices, for a nurse opening the conversation."""
    if rt.config.idporten is None:
        return []
    return await pending_device_frames(rt.redis, cid)


async def handle_reseal(rt: Runtime, nurse: Nurse, cmd: c.Reseal) -> str:
    """A team member's browser sealed CK to a logged-in youth's device."""
    await rt.actions.conversation_for(nurse, cmd.conversation)
    if not await reseal(rt.redis, cmd.conversation, cmd.device, cmd.sealed_ck, cmd.key_bundle,
                        nurse.display_name):
        raise NotAuthorized("No such device is waiting for this conversation.")
    return frames.frame("resealed", conversation=cmd.conversation, device=cmd.device)
