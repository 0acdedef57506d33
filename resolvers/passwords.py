"""argon2id hashing; a dummy verify keeps failed sign-ins as slow as real ones."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# NIST SP 800-63B: length over composition rules, and a blocklist of known passwords.
MIN_LENGTH = 12
MAX_LENGTH = 128
_COMMON = frozenset((Path(__file__).parent / "common_passwords.txt").read_text().split("\n")) - {""}


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused, in words for the person choosing it; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters; a few words together work well."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.strip().lower()
    if folded in _COMMON or len(set(folded)) < 4:
        return "This password is too common or too easy to guess."
    if username and username.lower() in folded:
        return "The password must not contain the user name."
    return None
