"""IP-free client keys.

The raw address of a request is turned into HMAC(daily salt, address) at the edge (see
chat.web.middleware.ClientKeyMiddleware) and then dropped. The salt is derived from the server key and
the UTC date, so every web process agrees on it without coordination and yesterday's keys cannot
be linked to today's. Only this key is ever used for rate limits; it is never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac


def daily_salt(key: bytes, day: dt.date) -> bytes:
    return hmac.new(key, b"helseprat/client-salt/v1\x00" + day.isoformat().encode(), "sha256").digest()


def client_key(key: bytes, address: str, day: dt.date) -> str:
    return hmac.new(daily_salt(key, day), address.encode(), hashlib.sha256).hexdigest()[:32]
