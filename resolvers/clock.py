"""The one source of 'now', so expiry is testable with a controlled clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now


def now() -> datetime:
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Tests move time; None restores the system clock."""
    global _now
    _now = fn or _system_now
