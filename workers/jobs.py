"""Job functions. The embedded default runs these same functions in-process."""

from __future__ import annotations

from typing import Any


async def ping(ctx: dict[str, Any]) -> str:
    """Proves a worker is consuming the queue."""
    return "pong"
