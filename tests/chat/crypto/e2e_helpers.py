"""Small shared helpers for the crypto tests (not a test module)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chat.crypto import E2EError


def code_of(fn: Callable[[], Any]) -> str | None:
    try:
        fn()
    except E2EError as exc:
        return exc.code
    return None


def expect_code(code: str, fn: Callable[[], Any]) -> None:
    with pytest.raises(E2EError) as info:
        fn()
    assert info.value.code == code, f"expected {code}, got {info.value.code}"
