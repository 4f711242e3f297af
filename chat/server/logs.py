"""Structured JSON logs on stderr. Never a token, a body, an address or a person identifier:
callers log ids that are random per connection and fixed codes, nothing else.

One set-up for every process (web server, epj worker, local stand-ins). Libraries that log a
line per request or per frame (httpx logs every poll of the journal worker) stay at WARNING
unless HELSEPRAT_LOG_LEVEL_THIRD_PARTY (or ``verbose``) asks for more.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

# Loggers that are noise at INFO: a line per HTTP request, per HPACK frame, per connection.
THIRD_PARTY = ("httpx", "httpcore", "hpack", "h2", "h11", "asyncio", "websockets",
               "hypercorn.access", "urllib3", "redis")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            # Exception type and where, not the message: messages can carry data.
            etype = record.exc_info[0]
            out["exc"] = etype.__name__ if etype else "unknown"
            out["trace"] = self.formatException(record.exc_info).splitlines()[-3:-1]
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(level: str | None = None, third_party: str | None = None,
                  verbose: bool = False) -> None:
    """JSON lines on stderr at ``level`` (default HELSEPRAT_LOG_LEVEL or INFO); the loggers in
    THIRD_PARTY at ``third_party`` (default HELSEPRAT_LOG_LEVEL_THIRD_PARTY, or ``level`` when
    ``verbose``, else WARNING)."""
    level = (level or os.environ.get("HELSEPRAT_LOG_LEVEL") or "INFO").upper()
    third_party = (third_party or os.environ.get("HELSEPRAT_LOG_LEVEL_THIRD_PARTY")
                   or (level if verbose else "WARNING")).upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(third_party)
    logging.Formatter.converter = time.gmtime
