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


def presence(cid: str) -> str:
    return f"c:{{{cid}}}:p"


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
