"""The dummy hash an unknown resume handle is verified against costs what a real one does."""

from __future__ import annotations

from argon2 import extract_parameters

from anon import resume
from chat.crypto.resume import resume_auth


def test_the_dummy_hash_has_the_parameters_of_real_resume_hashes() -> None:
    real = resume.hash_auth(resume_auth(resume.new_resume_code().secret_text))
    assert extract_parameters(resume.DUMMY_HASH) == extract_parameters(real)
    assert not resume.hasher().check_needs_rehash(resume.DUMMY_HASH)


def test_no_stored_hash_is_verified_against_the_dummy_and_never_matches() -> None:
    auth = resume_auth(resume.new_resume_code().secret_text)
    assert resume.verify_auth(auth, None) is False
    assert resume.verify_auth(auth, "") is False
    assert resume.verify_auth(auth, resume.hash_auth(auth)) is True
