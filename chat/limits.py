"""The ``[limits]`` table of the services file: every bound the server keeps on what one client,
one conversation or one sign-in may cost, with its default. Read once into ``Limits`` as part
of the configuration (chat/config.py); the operator's view is docs/operations.md."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from chat.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int = 96 * 1024
    max_body_chars: int = 64 * 1024  # base64 ciphertext
    max_key_bundle_chars: int = 4 * 1024
    sends_per_second: float = 5.0
    send_burst: int = 20
    frames_per_second: float = 20.0
    frame_burst: int = 60
    resume_attempts_per_conversation: int = 5
    resume_attempts_per_client_per_hour: int = 20
    starts_per_client_per_hour: int = 30
    login_failures_before_lockout: int = 5
    lockout_seconds: int = 900
    # One conversation's share of Redis: messages and base64 body characters, both sides
    # together, checked atomically by the append script (a full one answers conversation_full).
    max_messages_per_conversation: int = 1000
    max_bytes_per_conversation: int = 2 * 1024 * 1024
    # A waiting youth with no connection for this long stops counting in the queue (the gone
    # sweep sets the conversation aside; it is back at its place when the youth returns).
    waiting_gone_grace_seconds: int = 60
    # How many of one client's starts may count in a queue at once (docs/queue.md).
    waiting_starts_per_client: int = 10
    # Urgency first, with a bound (docs/queue.md): how far ahead of its start time a
    # conversation is placed when its youth said it is urgent, or a nurse flagged it acute.
    urgent_head_start_seconds: int = 600
    acute_head_start_seconds: int = 900
    first_frame_seconds: float = 10.0  # a youth socket closes (4408) without a first frame
    max_body_bytes: int = 64 * 1024  # any HTTP request body (413 body_too_large); some routes less
    # Sign-in beyond the per account-and-client lock above (docs/security.md): attempts
    # per client address before any password is checked, an account-wide back-off that a
    # known device skips, and how many password checks (64 MiB each) run or wait at once.
    logins_per_client_per_minute: int = 10
    login_account_attempts_before_backoff: int = 20
    login_account_window_seconds: int = 3600
    login_backoff_base_seconds: float = 1.0
    login_backoff_max_seconds: float = 60.0
    login_concurrent_checks: int = 2
    login_waiting_checks: int = 8
    known_device_days: int = 180
    # Web Push (chat/push/): how long a push service keeps an undelivered notice, and how
    # many notices one conversation (or one nurse) may cause per hour.
    push_ttl_seconds: int = 4 * 86_400
    push_per_conversation_per_hour: int = 6
    # Fair use per capability token (docs/queue.md): how many of one token's conversations may
    # be open (waiting, active or later) at once, and how many it may start per period.
    open_conversations_per_token: int = 2
    new_conversations_per_token: int = 6
    new_conversations_period_seconds: int = 86_400


def parse_limits(raw: object) -> Limits:
    """Optional ``[limits]`` table: any field of Limits, same name, same type."""
    if raw is None:
        return Limits()
    if not isinstance(raw, dict):
        raise ConfigError("[limits] must be a table")
    known = {f.name: f.type for f in dataclasses.fields(Limits)}
    values: dict[str, int | float] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"[limits].{key} is not a known limit")
        if not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"[limits].{key} must be a positive number")
        values[key] = value
    return Limits(**values)  # type: ignore[arg-type]
