"""The delivery rules, pure: the fixed payload, the headers, the back-off, the quiet hours,
the settings. No I/O; the sender (sender.py) applies them."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass

from chat.config import Service
from chat.errors import ConfigError
from chat.limits import Limits
from chat.push.subscription import parse_origins

# The whole text of a notice: no health data, no service name, no conversation id.
TITLES = {
    "youth": {"nb": "Du har fått svar", "nn": "Du har fått svar", "en": "You have an answer"},
    "nurse": {"nb": "En ungdom venter", "nn": "Ein ungdom ventar",
              "en": "A young person is waiting"},
    # An appointment coming up (24 h and 2 h before): not what, not where, not with whom.
    "reminder": {"nb": "Påminnelse fra helsetjenesten", "nn": "Påminning frå helsetenesta",
                 "en": "Reminder from the health service"},
}
URGENCY = {"youth": "normal", "nurse": "high", "reminder": "normal"}
MAX_TRIES = 5
TIMEOUT_S = 5.0
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 15 * 60.0
DEFAULT_SUBJECT = "mailto:drift@helseprat.invalid"


@dataclass(frozen=True)
class PushSettings:
    subject: str = DEFAULT_SUBJECT  # the VAPID "sub": how a push service reaches the operator
    extra_origins: tuple[str, ...] = ()  # endpoints allowed beside the known push services
    ttl: int = Limits.push_ttl_seconds
    per_hour: int = Limits.push_per_conversation_per_hour

    @classmethod
    def from_env(cls, env: Mapping[str, str], limits: Limits) -> PushSettings:
        subject = env.get("HELSEPRAT_VAPID_SUBJECT", "") or DEFAULT_SUBJECT
        if not subject.startswith(("mailto:", "https://")) or len(subject) < 10:
            raise ConfigError("HELSEPRAT_VAPID_SUBJECT must be a mailto: or https: contact")
        return cls(subject=subject,
                   extra_origins=parse_origins(env.get("HELSEPRAT_PUSH_EXTRA_ORIGINS", "")),
                   ttl=limits.push_ttl_seconds, per_hour=limits.push_per_conversation_per_hour)


def payload(kind: str, lang: str, tag: str) -> bytes:
    """Exactly ``{"title": ..., "tag": ...}`` in the subscription's language."""
    titles = TITLES[kind]
    return json.dumps({"title": titles.get(lang, titles["nb"]), "tag": tag},
                      ensure_ascii=False, separators=(",", ":")).encode()


def headers(kind: str, topic: str) -> dict[str, str]:
    """The headers beside TTL (pywebpush sets that from its ``ttl``) and Authorization."""
    return {"Urgency": URGENCY[kind], "Topic": topic}


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - now)


def backoff(tries: int, after: float | None = None) -> float | None:
    """Seconds until the next try after ``tries`` failed ones (2, 4, 8, 16 s; at least what
    Retry-After asks, at most 15 min); None: give up (``MAX_TRIES`` reached)."""
    if tries >= MAX_TRIES:
        return None
    delay: float = min(BACKOFF_BASE_S * 2.0 ** (tries - 1), BACKOFF_MAX_S)
    if after is not None:
        delay = max(delay, min(after, BACKOFF_MAX_S))
    return delay


def after_quiet(now: float, service: Service) -> float:
    """``now``, or when the service's push quiet hours around ``now`` end."""
    local = service.local_now(now)
    return service.answer_later.quiet_end(local).timestamp()


def next_hour(now: float) -> float:
    return (int(now // 3600) + 1) * 3600.0
