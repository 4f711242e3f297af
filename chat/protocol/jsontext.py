"""The one way untrusted JSON is read: WebSocket frames and HTTP bodies alike.

``json.loads`` recurses once per level of nesting, so ``[`` × 2000 ends in a RecursionError (a
traceback, a 500, a dead socket) long before any schema looks at it. And it turns ``"\\ud800"``
into a lone surrogate, a ``str`` that cannot be encoded again: echoed in an error, it breaks the
reply. ``parse_json`` bounds size and depth before parsing and refuses lone surrogates after,
with one ``ValueError`` the callers map to their stable error code.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # our deepest document (a start frame with its resume setup) has 2 levels

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# A surrogate can only come from a \u escape: decoded UTF-8 never holds one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonRefused(ValueError):
    """Not JSON we accept; the message says why, in fixed words (never the input)."""


def parse_json(data: str | bytes, *, max_chars: int | None = None,
               max_depth: int = MAX_DEPTH) -> Any:
    """``data`` parsed, or ``JsonRefused``: not UTF-8, too large, nested deeper than
    ``max_depth``, a lone surrogate, or not JSON."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")  # strict: no UTF-16 guessing, no surrogates
        except UnicodeDecodeError:
            raise JsonRefused("not UTF-8") from None
    else:
        text = data
    if max_chars is not None and len(text) > max_chars:
        raise JsonRefused("too large")
    if text.count("[") + text.count("{") > max_depth and too_deep(text, max_depth):
        raise JsonRefused("nested too deeply")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise JsonRefused("not JSON") from None
    if _SURROGATE_ESCAPE.search(text) is not None and has_lone_surrogate(value):
        raise JsonRefused("lone surrogate")
    return value


def too_deep(text: str, max_depth: int) -> bool:
    """True when the brackets outside strings nest deeper than ``max_depth`` (or do not
    balance, which is not JSON either). Runs only when there are that many brackets at all."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(max_depth):
        if not brackets:
            return False
        shorter = brackets.replace("[]", "").replace("{}", "")
        if shorter == brackets:
            return True  # unbalanced: the parser would refuse it anyway
        brackets = shorter
    return bool(brackets)


def has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
