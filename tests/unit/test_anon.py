"""Anonymous identities: tokens, resume codes, client keys, buckets. No I/O."""

from __future__ import annotations

import datetime as dt

from anon import resume, tokens
from anon.clientkey import client_key
from anon.ratelimit import TokenBucket

KEY = b"k" * 32


def test_tokens_are_256_bits_and_only_their_hmac_is_compared() -> None:
    t = tokens.new_token()
    assert len(t) == 43 and t != tokens.new_token()
    h = tokens.token_hash(KEY, t)
    assert t not in h
    assert tokens.token_matches(KEY, t, h)
    assert tokens.token_matches(KEY, t, h.encode())
    assert not tokens.token_matches(KEY, tokens.new_token(), h)
    assert not tokens.token_matches(b"x" * 32, t, h)
    assert not tokens.token_matches(KEY, t, None)


def test_resume_code_has_at_least_80_secret_bits_and_parses_leniently() -> None:
    code = resume.new_resume_code()
    assert len(code.secret) * 11 >= 80
    text = str(code)
    assert resume.parse_resume_code(text.upper().replace(" ", "  -  ")) == code
    assert resume.parse_resume_code("not a code") is None
    assert resume.parse_resume_code(" ".join(["zzzz"] * 11)) is None


def test_resume_secret_is_stored_as_argon2id_only() -> None:
    code = resume.new_resume_code()
    stored = resume.hash_secret(code)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert code.secret_text not in stored
    assert resume.verify_secret(code, stored)
    other = resume.new_resume_code()
    assert not resume.verify_secret(other, stored)
    assert not resume.verify_secret(code, "garbage")


def test_handle_tag_is_keyed() -> None:
    code = resume.new_resume_code()
    assert resume.handle_tag(KEY, code) != resume.handle_tag(b"y" * 32, code)
    assert " ".join(code.handle) not in resume.handle_tag(KEY, code)


def test_client_key_rotates_daily_and_hides_the_address() -> None:
    d1, d2 = dt.date(2026, 11, 25), dt.date(2026, 11, 26)
    k1 = client_key(KEY, "203.0.113.7", d1)
    assert k1 == client_key(KEY, "203.0.113.7", d1)
    assert k1 != client_key(KEY, "203.0.113.7", d2)
    assert k1 != client_key(KEY, "203.0.113.8", d1)
    assert "203" not in k1


def test_token_bucket() -> None:
    b = TokenBucket(rate=2.0, burst=2)
    assert b.take(0.0) and b.take(0.0) and not b.take(0.0)
    assert b.take(0.5)
    assert not b.take(0.5)
