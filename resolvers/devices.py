"""Device tokens: proof that this browser or app signed in to this account before.

A successful sign-in hands one out; the app stores it and sends it back with the next sign-in.
An attempt carrying a valid one is counted in its own bucket (resolvers/ratelimit.py), so
strangers spending the per-account or per-address limits cannot lock the owner's device out.

Signed, not stored: HMAC-SHA256 (key derived from SECRET_KEY) over the account, its agency,
a random device id, the expiry and the account's current password hash. So a token needs no
table, keeps working while Redis is away, is useless for any other account or agency, and a
password change retires every token of that account. Forging one needs SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from resolvers.clock import now

LIFETIME = timedelta(days=90)
_VERSION = "d1"
_MAX_LENGTH = 200  # a real token is about 90 characters; longer input is not one


@dataclass(frozen=True)
class Subject:
    """The account a token is for. `kind` is "staff" or "portal"."""

    kind: str
    agency_id: UUID
    account_id: UUID
    password_hash: str


def derive_key(secret_key: str) -> bytes:
    """A key of its own, so a device token's MAC can never stand for any other signed value."""
    return hmac.new(secret_key.encode(), b"portal device token v1", hashlib.sha256).digest()


def _mac(key: bytes, subject: Subject, device_id: str, expires: int) -> str:
    parts = (
        _VERSION,
        subject.kind,
        str(subject.agency_id),
        str(subject.account_id),
        device_id,
        str(expires),
        subject.password_hash,
    )
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(key: bytes, subject: Subject, device_id: str | None = None) -> str:
    """A token valid for LIFETIME; keeps `device_id` when the device presented a valid one."""
    device_id = device_id or secrets.token_urlsafe(16)
    expires = int((now() + LIFETIME).timestamp())
    return f"{_VERSION}.{device_id}.{expires}.{_mac(key, subject, device_id, expires)}"


def verify(key: bytes, subject: Subject, token: str | None) -> str | None:
    """The device id if `token` is a current token for exactly this account; None otherwise."""
    if not token or len(token) > _MAX_LENGTH or not token.isascii():
        return None
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not parts[2].isdigit():
        return None
    _, device_id, expires_text, mac = parts
    expires = int(expires_text)
    if not hmac.compare_digest(mac, _mac(key, subject, device_id, expires)):
        return None
    if expires <= now().timestamp():
        return None
    return device_id
