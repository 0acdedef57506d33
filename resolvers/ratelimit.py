"""Rate limits on sign-in, user-name recovery and password reset.

Counted with the `limits` library's moving window: in process memory in the embedded default,
in Redis when REDIS_URL is set, so every API process shares the counts. The app installs the
storage at start-up (like resolvers/jobs); resolvers only call the functions below. When Redis
is configured but unreachable, every count falls back to process memory (one warning per
outage) and Redis is tried again after a short back-off: the limits never switch off.

Nobody can lock an account out for good: nothing is stored on the account, every count lives
in a window that expires on its own. Sign-in counts failures only, and first asks whether the
attempt comes from somewhere the account signed in from before: a device presenting a valid
device token (resolvers/devices.py), or an address it signed in from within `known_for`.
- Known device or address: only its own (account, device) or (account, address) bucket applies.
  Strangers spending the per-account or per-address limits cannot lock the owner out there.
- Anywhere else: per (account, address), then per account (bounding many-address attacks, by
  the quarter hour and by the day), then per address (bounding guesses across many accounts,
  e.g. made-up e-mails, from one address).

Recovery (user name, portal password, staff password) must neither let a stranger stop the owner
from recovering nor let anyone bomb an inbox, and answers the same whatever happens:
- Per address, every request: over the limit the answer is RATE_LIMITED (a spraying address).
- Per account, the requests that send mail: over the limit the answer stays the ordinary one
  and no mail is sent. A request from an address the account signed in from (as above) is
  counted in its own (account, address) allowance instead, so strangers spending the account's
  allowance do not stop the owner at home or at work. Mail per account per window is bounded by
  the account allowance plus one small allowance per address the account signed in from.

Keys are SHA-256 of the identifiers: no e-mail address, user name or IP address is written to
Redis. Counts are kept for the input as typed (normalized), whether or not such an account
exists, so a limited answer says nothing about whether it does.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis

from resolvers import devices
from resolvers.errors import ErrorCode, UserError, UserErrors

log = logging.getLogger("portal.ratelimit")

_NAMESPACE = "portal"
T = TypeVar("T")


def _minutes(amount: int, minutes: int) -> RateLimitItem:
    return RateLimitItemPerMinute(amount, minutes, namespace=_NAMESPACE)


def _hours(amount: int, hours: int = 1) -> RateLimitItem:
    return RateLimitItemPerHour(amount, hours, namespace=_NAMESPACE)


def _days(amount: int) -> RateLimitItem:
    return RateLimitItemPerDay(amount, 1, namespace=_NAMESPACE)


@dataclass(frozen=True)
class Policy:
    """How many attempts each window allows. Tests install short windows (see `use_policy`)."""

    # Sign-in failures from an address or device that never signed in to the account.
    login_per_account_ip: RateLimitItem = field(default_factory=lambda: _minutes(10, 15))
    login_per_account: RateLimitItem = field(default_factory=lambda: _minutes(100, 15))
    login_per_account_day: RateLimitItem = field(default_factory=lambda: _days(300))
    login_per_ip: RateLimitItem = field(default_factory=lambda: _minutes(50, 15))
    # Sign-in failures from a known device or address: per (account, device or address).
    login_per_known: RateLimitItem = field(default_factory=lambda: _minutes(10, 15))
    login_per_known_day: RateLimitItem = field(default_factory=lambda: _days(100))
    # How long, in seconds, a successful sign-in makes its address known for that account.
    known_for: int = 90 * 24 * 3600
    # requestUsernameRecovery / requestPasswordReset / requestStaffPasswordReset: every request
    # per address (RATE_LIMITED over it); the mail sent per account, and per (account, address
    # it signed in from) for requests from such an address (over them: no mail, same answer).
    recovery_per_ip: RateLimitItem = field(default_factory=lambda: _hours(20))
    recovery_per_account: RateLimitItem = field(default_factory=lambda: _hours(5))
    recovery_per_known: RateLimitItem = field(default_factory=lambda: _hours(3))
    # resetPassword with a token that does not work.
    reset_failures_per_ip: RateLimitItem = field(default_factory=lambda: _hours(20))


@dataclass(frozen=True)
class _Limit:
    item: RateLimitItem
    key: str


# --- storage: Redis when configured and reachable, process memory otherwise -------------------

# How long an outage lasts before Redis is tried again, and how long one Redis call may take.
RETRY_AFTER_SECONDS = 5.0
_REDIS_TIMEOUT_SECONDS = 1.0


class _Counts:
    """Runs each operation on Redis, or on process memory while Redis is unreachable."""

    def __init__(self, redis: RedisStorage | None, retry_after: float) -> None:
        self.redis = MovingWindowRateLimiter(redis) if redis else None
        self.memory = MovingWindowRateLimiter(_memory)
        self.retry_after = retry_after
        self.retry_at = 0.0
        self.down = False

    async def run(self, op: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        if self.redis is not None and time.monotonic() >= self.retry_at:
            try:
                result = await op(self.redis)
            except (StorageError, OSError) as exc:
                self._outage(exc)
            else:
                if self.down:
                    self.down = False
                    log.warning("rate limit storage: Redis is back; counting there again")
                return result
        return await op(self.memory)

    async def test(self, limit: _Limit) -> bool:
        return await self.run(lambda lim: lim.test(limit.item, limit.key))

    async def reset_time(self, limit: _Limit) -> float:
        stats = await self.run(lambda lim: lim.get_window_stats(limit.item, limit.key))
        return stats.reset_time

    async def hit(self, limit: _Limit) -> bool:
        """Counts one unless the limit is spent; whether it counted (one atomic step)."""
        return await self.run(lambda lim: lim.hit(limit.item, limit.key))

    async def get(self, key: str) -> int:
        return await self.run(lambda lim: lim.storage.get(key))

    async def incr(self, key: str, expiry: int) -> None:
        await self.run(lambda lim: lim.storage.incr(key, expiry))

    def _outage(self, exc: Exception) -> None:
        self.retry_at = time.monotonic() + self.retry_after
        if not self.down:
            self.down = True
            cause = type(getattr(exc, "storage_error", exc)).__name__
            log.warning(
                "rate limit storage: Redis unreachable (%s); counting in process memory, "
                "retrying every %.0f s",
                cause,
                self.retry_after,
            )


# One memory storage for the process: the embedded default and every Redis outage share it.
_memory = MemoryStorage()
_counts = _Counts(None, RETRY_AFTER_SECONDS)
_policy = Policy()
# Until the app installs SECRET_KEY's, a random key: tokens then last as long as the process.
_device_key = devices.derive_key(secrets.token_hex(32))


def _redis_storage(redis_url: str) -> RedisStorage:
    return RedisStorage(
        "async+" + redis_url,
        implementation="redispy",
        key_prefix="portal:ratelimit",
        wrap_exceptions=True,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
    )


async def _close(counts: _Counts) -> None:
    storage = counts.redis.storage if counts.redis else None
    if isinstance(storage, RedisStorage) and isinstance(storage.bridge, RedispyBridge):
        connection = storage.bridge.get_connection()
        if isinstance(connection, Redis):
            await connection.aclose()


@asynccontextmanager
async def installed(
    redis_url: str | None,
    secret_key: str | None = None,
    retry_after: float = RETRY_AFTER_SECONDS,
) -> AsyncIterator[None]:
    """For the app's lifespan (and tests): counts in Redis when configured (shared by every API
    process), process memory otherwise; device tokens signed with SECRET_KEY. Restores what was
    installed before on exit and closes the Redis connections."""
    global _counts, _device_key
    previous = _counts, _device_key
    _counts = _Counts(_redis_storage(redis_url) if redis_url else None, retry_after)
    if secret_key is not None:
        _device_key = devices.derive_key(secret_key)
    try:
        yield
    finally:
        mine = _counts
        _counts, _device_key = previous
        await _close(mine)


def use_policy(policy: Policy | None) -> Policy:
    """Replaces the limits (None restores the defaults); returns the previous policy."""
    global _policy
    previous, _policy = _policy, policy or Policy()
    return previous


def policy() -> Policy:
    return _policy


def _key(*parts: str | None) -> str:
    joined = "\x1f".join((p or "").strip().lower() for p in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:40]


def _ip(ip: str | None) -> str:
    return ip or "unknown"


async def _blocked_until(limits: Sequence[_Limit]) -> float | None:
    """When the last exhausted limit frees a slot (epoch seconds); None if none is exhausted."""
    until: float | None = None
    for limit in limits:
        if not await _counts.test(limit):
            until = max(until or 0.0, await _counts.reset_time(limit))
    return until


async def _hit(limits: Sequence[_Limit]) -> None:
    for limit in limits:
        await _counts.hit(limit)


def _refusal(until: float) -> UserErrors:
    minutes = max(1, math.ceil((until - time.time()) / 60))
    unit = "minute" if minutes == 1 else "minutes"
    message = f"Too many attempts. Try again in {minutes} {unit}."
    return UserErrors([UserError(ErrorCode.RATE_LIMITED, message)])


async def _refuse_if_blocked(limits: Sequence[_Limit]) -> None:
    until = await _blocked_until(limits)
    if until is not None:
        raise _refusal(until)


# --- sign-in -----------------------------------------------------------------------------------


def device_token(subject: devices.Subject, device_id: str | None) -> str:
    """A fresh device token for a successful sign-in (same device id if it presented one)."""
    return devices.issue(_device_key, subject, device_id)


def known_device(subject: devices.Subject, token: str | None) -> str | None:
    """The device id of a valid device token for this account, else None."""
    return devices.verify(_device_key, subject, token)


@dataclass(frozen=True)
class LoginAttempt:
    """One sign-in attempt and the buckets it counts in (see `login_attempt`)."""

    kind: str
    agency_slug: str
    who: str
    ip: str | None
    limits: list[_Limit]


def _known_address_keys(attempt_id: tuple[str, str, str, str], period: int) -> list[str]:
    """The marker of this period and of the one before: an address stays known for at least
    `known_for` after its last successful sign-in (at most twice that), with no read-modify-write
    to race with the storage's expiry."""
    return [_key("login-known-address", *attempt_id, str(p)) for p in (period, period - 1)]


def _period() -> int:
    return int(time.time() // _policy.known_for)


async def _address_is_known(kind: str, agency_slug: str, who: str, ip: str | None) -> bool:
    if ip is None:
        return False
    for key in _known_address_keys((kind, agency_slug, who, ip), _period()):
        if await _counts.get(key) > 0:
            return True
    return False


async def login_attempt(
    kind: str, agency_slug: str, who: str, ip: str | None, device_id: str | None = None
) -> LoginAttempt:
    """Sorts an attempt into its buckets. `device_id` comes from `known_device` (None when no
    valid device token was presented). Looked up alike whether or not the account exists."""
    p = _policy
    if device_id is not None:
        known = _key("login-known", kind, agency_slug, who, "device", device_id)
    elif await _address_is_known(kind, agency_slug, who, ip):
        known = _key("login-known", kind, agency_slug, who, "address", _ip(ip))
    else:
        limits = [
            _Limit(p.login_per_account_ip, _key("login", kind, agency_slug, who, _ip(ip))),
            _Limit(p.login_per_account, _key("login", kind, agency_slug, who)),
            _Limit(p.login_per_account_day, _key("login-day", kind, agency_slug, who)),
            _Limit(p.login_per_ip, _key("login-ip", _ip(ip))),
        ]
        return LoginAttempt(kind, agency_slug, who, ip, limits)
    limits = [_Limit(p.login_per_known, known), _Limit(p.login_per_known_day, known + "-day")]
    return LoginAttempt(kind, agency_slug, who, ip, limits)


async def check_login(attempt: LoginAttempt) -> None:
    """Raises RATE_LIMITED before the password is looked at, if a limit is spent."""
    await _refuse_if_blocked(attempt.limits)


async def login_failed(attempt: LoginAttempt) -> None:
    """Only failures count: signing in, however often, never limits anyone. A success does not
    clear the count either (the memory storage's background expiry races with clear())."""
    await _hit(attempt.limits)


async def login_succeeded(attempt: LoginAttempt) -> None:
    """Remembers the address as known for this account (see `_known_address_keys`)."""
    if attempt.ip is None:
        return
    attempt_id = (attempt.kind, attempt.agency_slug, attempt.who, attempt.ip)
    key = _known_address_keys(attempt_id, _period())[0]
    await _counts.incr(key, 2 * _policy.known_for)


# --- recovery and reset ------------------------------------------------------------------------


async def check_recovery_address(ip: str | None) -> None:
    """Counts one recovery request from this address; RATE_LIMITED when the address is spent."""
    limits = [_Limit(_policy.recovery_per_ip, _key("recovery-ip", _ip(ip)))]
    await _refuse_if_blocked(limits)
    await _hit(limits)


@dataclass(frozen=True)
class SignsInAs:
    """The sign-in names (`kind` "staff" or "portal") of the account a recovery is for, whose
    known addresses get their own allowance: the e-mail for staff, the user name for a portal
    password reset, the user names found for the address in a user-name recovery."""

    kind: str
    names: Sequence[str]


async def recovery_may_mail(
    kind: str, agency_slug: str, who: str, ip: str | None, signs_in_as: SignsInAs
) -> bool:
    """Counts a recovery request (kind: "username", "password", "staff-password") against the
    account's mail allowance, or its (account, address) one when `ip` is an address the account
    signed in from; False when that is spent: answer as usual, send nothing. Looked up alike
    whether or not the account exists (no names found: the input is looked up instead)."""
    limit = _Limit(_policy.recovery_per_account, _key("recovery", kind, agency_slug, who))
    for name in signs_in_as.names or [who]:
        if await _address_is_known(signs_in_as.kind, agency_slug, name, ip):
            known = _key("recovery-known", kind, agency_slug, who, _ip(ip))
            limit = _Limit(_policy.recovery_per_known, known)
            break
    return await _counts.hit(limit)


def _reset_limits(ip: str | None) -> list[_Limit]:
    return [_Limit(_policy.reset_failures_per_ip, _key("reset-ip", _ip(ip)))]


async def check_reset(ip: str | None) -> None:
    await _refuse_if_blocked(_reset_limits(ip))


async def reset_failed(ip: str | None) -> None:
    await _hit(_reset_limits(ip))
