"""The identity bridge's part of the WebSocket endpoints (through identity_bridge/plugin.py)."""

from __future__ import annotations

from starlette.websockets import WebSocket

from chat.domain.conversation import Conversation
from chat.domain.staff import Nurse
from chat.errors import BadToken, NotAuthorized
from chat.protocol import commands as c
from chat.protocol import events
from chat.protocol.events import encode
from chat.web.runtime import Runtime

from .logins import SESSION_COOKIE
from .service import IdentityWeb, pending_device_frames, reseal


async def resume_session(rt: Runtime, identity: IdentityWeb, ws: WebSocket,
                         cmd: c.ResumeSession) -> Conversation:
    """A logged-in youth reattaches to a thread by session cookie. The cookie rides along on
    cross-site WebSocket handshakes too, so the Origin is checked (CSWSH)."""
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
    return await pending_device_frames(rt.store.reads, cid)


async def handle_reseal(rt: Runtime, nurse: Nurse, cmd: c.Reseal) -> str:
    """A team member's browser sealed CK to a logged-in youth's device."""
    await rt.actions.conversation_for(nurse, cmd.conversation)
    if not await reseal(rt.redis, rt.actions.links, cmd.conversation, cmd.device, cmd.sealed_ck,
                        cmd.key_bundle, nurse.display_name):
        raise NotAuthorized("No such device is waiting for this conversation.")
    return encode(events.Resealed(conversation=cmd.conversation, device=cmd.device))
