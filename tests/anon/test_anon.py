"""Anonymous identities: tokens, resume codes, client keys, buckets. No I/O."""

from __future__ import annotations

import datetime as dt

import pytest

from anon import resume, tokens
from anon.clientkey import client_key
from anon.ratelimit import TokenBucket
from chat.crypto import E2EError
from chat.crypto.resume import open_backup, resume_auth, resume_wrap_key, seal_backup

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


def test_resume_code_is_16_base32_characters_80_bits_and_forgiving() -> None:
    code = resume.new_resume_code()
    assert len(code.secret_text) == 16 and len(resume.ALPHABET) == 32  # 16 × 5 = 80 bits
    text = str(code)
    assert len(text) == 19 and text.count("-") == 3  # four groups of four
    assert resume.parse_resume_code(text.lower().replace("-", " ")) == code
    assert resume.parse_resume_code(" " + text.replace("-", "") + " ") == code
    # O reads as 0, I and L as 1: what people mistype when they copy a code by hand.
    fixed = resume.parse_resume_code("O1L0-IIII-0000-LLLL")
    assert fixed is not None and fixed.secret_text == "0110111100001111"
    assert resume.parse_resume_code("not a code") is None
    assert resume.parse_resume_code("UUUU-0000-0000-0000") is None  # U is not in the alphabet
    assert resume.parse_resume_code("0000-0000-0000-000") is None  # one too few
    # The handle is derived from the code: one thing to keep, and it differs from the code.
    assert code.handle == resume.derive_handle(code.secret_text) and code.handle != code.secret
    assert len({resume.new_resume_code().secret_text for _ in range(200)}) == 200


def test_resume_auth_is_stored_as_argon2id_only() -> None:
    code = resume.new_resume_code()
    auth = resume_auth(code.secret_text)
    assert resume.valid_auth(auth) and code.secret_text not in auth
    stored = resume.hash_auth(auth)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert auth not in stored
    assert resume.verify_auth(auth, stored)
    assert not resume.verify_auth(resume_auth(resume.new_resume_code().secret_text), stored)
    assert not resume.verify_auth(auth, "garbage")


def test_the_key_backup_opens_only_with_the_secret_words() -> None:
    code = resume.new_resume_code()
    ck, seed = bytes(range(32)), bytes(range(32, 64))
    blob = seal_backup(resume_wrap_key(code.secret_text), ck, seed)
    assert open_backup(resume_wrap_key(code.secret_text), blob) == (ck, seed)
    # The auth value the server sees is not the wrap key.
    assert bytes.fromhex(resume_auth(code.secret_text)) != resume_wrap_key(code.secret_text)
    with pytest.raises(E2EError):
        open_backup(resume_wrap_key(resume.new_resume_code().secret_text), blob)
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(E2EError):
        open_backup(resume_wrap_key(code.secret_text), bytes(tampered))


def test_handle_tag_is_keyed() -> None:
    code = resume.new_resume_code()
    assert resume.handle_tag(KEY, code.handle) != resume.handle_tag(b"y" * 32, code.handle)
    assert code.handle_text not in resume.handle_tag(KEY, code.handle)


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
