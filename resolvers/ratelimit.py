"""Rate limits on sign-in, user-name recovery and password reset.

Counted with the `limits` library's moving window: in process memory in the embedded default,
in Redis when REDIS_URL is set, so every API process shares the counts. The app installs the
storage at start-up (like resolvers/jobs); resolvers only call the functions below.

Nobody can lock an account out for good: nothing is stored on the account, every count lives
in a window that expires on its own. Sign-in counts failures only, first per (account, address),
so one stranger's guesses stop at their own address long before the much higher per-account
limit, which only a many-address attack can reach, and only for as long as it keeps going.

Keys are SHA-256 of the identifiers: no e-mail address or user name is written to Redis.
Counts are kept for the input as typed (normalized), whether or not such an account exists, so
a limited answer says nothing about whether it does.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from resolvers.errors import ErrorCode, UserError, UserErrors

log = logging.getLogger("portal.ratelimit")

_NAMESPACE = "portal"


def _minutes(amount: int, minutes: int) -> RateLimitItem:
    return RateLimitItemPerMinute(amount, minutes, namespace=_NAMESPACE)


def _hours(amount: int, hours: int = 1) -> RateLimitItem:
    return RateLimitItemPerHour(amount, hours, namespace=_NAMESPACE)


@dataclass(frozen=True)
class Policy:
    """How many attempts each window allows. Tests install short windows (see `use_policy`)."""

    # Sign-in failures.
    login_per_account_ip: RateLimitItem = field(default_factory=lambda: _minutes(10, 15))
    login_per_account: RateLimitItem = field(default_factory=lambda: _minutes(100, 15))
    login_per_ip: RateLimitItem = field(default_factory=lambda: _minutes(50, 15))
    # requestUsernameRecovery / requestPasswordReset, every request.
    recovery_per_account: RateLimitItem = field(default_factory=lambda: _hours(5))
    recovery_per_ip: RateLimitItem = field(default_factory=lambda: _hours(20))
    # resetPassword with a token that does not work.
    reset_failures_per_ip: RateLimitItem = field(default_factory=lambda: _hours(20))


@dataclass(frozen=True)
class _Limit:
    item: RateLimitItem
    key: str


_storage: Storage = MemoryStorage()
_limiter = MovingWindowRateLimiter(_storage)
_policy = Policy()


def install(redis_url: str | None) -> None:
    """Redis when configured (shared by every API process), process memory otherwise."""
    global _storage, _limiter
    if redis_url:
        uri = "async+" + redis_url
        _storage = RedisStorage(uri, implementation="redispy", key_prefix="portal:ratelimit")
    else:
        _storage = MemoryStorage()
    _limiter = MovingWindowRateLimiter(_storage)


@asynccontextmanager
async def installed(redis_url: str | None) -> AsyncIterator[None]:
    """For the app's lifespan: installs the storage, and closes its connections at the end."""
    install(redis_url)
    try:
        yield
    finally:
        storage = _storage
        install(None)
        if isinstance(storage, RedisStorage) and isinstance(storage.bridge, RedispyBridge):
            connection = storage.bridge.get_connection()
            if isinstance(connection, Redis):
                await connection.aclose()


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
    """When the last exhausted limit frees a slot (epoch seconds); None if none is exhausted.

    A storage outage lets the request through (and is logged): sign-in must not stop working
    because Redis is down."""
    until: float | None = None
    try:
        for limit in limits:
            if not await _limiter.test(limit.item, limit.key):
                stats = await _limiter.get_window_stats(limit.item, limit.key)
                until = max(until or 0.0, stats.reset_time)
    except Exception:
        log.exception("rate limit storage unavailable; request allowed")
        return None
    return until


async def _hit(limits: Sequence[_Limit]) -> None:
    try:
        for limit in limits:
            await _limiter.hit(limit.item, limit.key)
    except Exception:
        log.exception("rate limit storage unavailable; attempt not counted")


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


def _login_limits(kind: str, agency_slug: str, who: str, ip: str | None) -> list[_Limit]:
    account = _key("login", kind, agency_slug, who)
    return [
        _Limit(_policy.login_per_account_ip, _key("login", kind, agency_slug, who, _ip(ip))),
        _Limit(_policy.login_per_account, account),
        _Limit(_policy.login_per_ip, _key("login-ip", _ip(ip))),
    ]


async def check_login(kind: str, agency_slug: str, who: str, ip: str | None) -> None:
    """Raises RATE_LIMITED before the password is looked at, if a limit is spent."""
    await _refuse_if_blocked(_login_limits(kind, agency_slug, who, ip))


async def login_failed(kind: str, agency_slug: str, who: str, ip: str | None) -> None:
    """Only failures count: signing in, however often, never limits anyone. A success does not
    clear the count either (the memory storage's background expiry races with clear())."""
    await _hit(_login_limits(kind, agency_slug, who, ip))


# --- recovery and reset ------------------------------------------------------------------------


async def check_recovery(kind: str, agency_slug: str, who: str, ip: str | None) -> None:
    """Counts one recovery request (kind: "username" or "password"); RATE_LIMITED when spent."""
    limits = [
        _Limit(_policy.recovery_per_account, _key("recovery", kind, agency_slug, who)),
        _Limit(_policy.recovery_per_ip, _key("recovery-ip", _ip(ip))),
    ]
    await _refuse_if_blocked(limits)
    await _hit(limits)


def _reset_limits(ip: str | None) -> list[_Limit]:
    return [_Limit(_policy.reset_failures_per_ip, _key("reset-ip", _ip(ip)))]


async def check_reset(ip: str | None) -> None:
    await _refuse_if_blocked(_reset_limits(ip))


async def reset_failed(ip: str | None) -> None:
    await _hit(_reset_limits(ip))
