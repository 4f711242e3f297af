"""Every Redis key and channel name in one place.

All keys of one conversation carry the hash tag ``{conversation id}`` so they live in one
Redis Cluster slot and the Lua scripts below can touch them together.
"""

from __future__ import annotations


def meta(cid: str) -> str:
    return f"c:{{{cid}}}:m"


def log(cid: str) -> str:
    return f"c:{{{cid}}}:l"


def dedup(cid: str) -> str:
    return f"c:{{{cid}}}:d"


def resume_attempts(cid: str) -> str:
    return f"c:{{{cid}}}:ra"


def conversation_channel(cid: str) -> str:
    return f"c:{{{cid}}}:e"


def conversation_keys(cid: str) -> tuple[str, ...]:
    return (meta(cid), log(cid), dedup(cid), resume_attempts(cid))


def queue(service: str) -> str:
    return f"q:{{{service}}}"


def service_channel(service: str) -> str:
    return f"s:{{{service}}}:e"


def online(service: str) -> str:
    """The service's connected youths: a sorted set, conversation -> presence expiry time."""
    return f"on:{{{service}}}"


def recent_waits(service: str) -> str:
    return f"w:{{{service}}}"


def resume_handle(tag: str) -> str:
    return f"rh:{tag}"


def nurse(username: str) -> str:
    return f"nurse:{{{username}}}"


def nurse_open(username: str) -> str:
    return f"nurse:{{{username}}}:open"


def nurse_index() -> str:
    return "nurses"


def session(tag: str) -> str:
    return f"sess:{tag}"


def rate(kind: str, client_key: str, window: int) -> str:
    return f"rl:{kind}:{client_key}:{window}"


# -- the nurse dashboard ---------------------------------------------------------------------------
def notes(cid: str) -> str:
    """Nurse-only internal notes of a conversation (sealed envelopes); never read by a feed."""
    return f"c:{{{cid}}}:n"


def active(service: str) -> str:
    """Active conversations of a service (score: claim time), for the inactivity sweep."""
    return f"act:{{{service}}}"


def flags(service: str) -> str:
    """Risk flags of a service's open conversations: conversation -> kind."""
    return f"fl:{{{service}}}"


def on_duty(service: str) -> str:
    """Nurses with a dashboard connected: "<username> <connection>" scored by expiry time."""
    return f"duty:{{{service}}}"


def canned(service: str) -> str:
    return f"cr:{{{service}}}"


def audit(service: str) -> str:
    return f"au:{{{service}}}"


def day_stats(service: str, day: str) -> str:
    """Per service and local day: counters (metadata only)."""
    return f"st:{{{service}}}:{day}"


def day_samples(service: str, day: str, kind: str) -> str:
    """Per service and local day: seconds samples ("claim" = time to claim, "dur" = duration)."""
    return f"st:{{{service}}}:{day}:{kind}"


def lease(job: str) -> str:
    """The lease of a periodic job (chat/jobs/runner.py): whoever holds it runs the job."""
    return f"lock:{job}"


def nurse_inbox(username: str) -> str:
    """Conversations handed to this nurse by a colleague, not yet shown on her dashboard."""
    return f"nurse:{{{username}}}:in"
