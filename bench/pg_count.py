"""Counts what each asyncpg connection sends to PostgreSQL, round trip by round trip.

Patched onto asyncpg's Connection (not tortoise's clients, as bench/slots_server.py does), so the
pool's release reset (`SELECT pg_advisory_unlock_all(); CLOSE ALL; ...`) and BEGIN/COMMIT count
too: they cost a round trip each like any query. `GET /bench/statements` on a wrapped app answers
the counts since the last call, by statement text (first line, 80 characters), and clears them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SENT: Counter[str] = Counter()


@lru_cache(maxsize=256)
def _key(query: str) -> str:
    # Cached: a server sends the same few texts, and the count must not cost what it counts.
    return " ".join(query.split())[:80]


def install() -> None:
    """Wraps Connection.execute (the simple-query path: resets, BEGIN, COMMIT, or arguments
    handed on to _execute) and Connection._execute (every extended-protocol query)."""
    from asyncpg.connection import Connection

    if getattr(Connection, "__bench_counting__", False):
        return
    execute: Callable[..., Awaitable[Any]] = Connection.execute
    extended: Callable[..., Awaitable[Any]] = Connection._execute

    async def counted_execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:
            SENT[_key(query)] += 1
        return await execute(self, query, *args, **kwargs)

    async def counted_extended(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        SENT[_key(query)] += 1
        return await extended(self, query, *args, **kwargs)

    Connection.execute = counted_execute
    Connection._execute = counted_extended
    Connection.__bench_counting__ = True


@dataclass
class Counting:
    """ASGI wrapper that answers GET /bench/statements."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/bench/statements":
            counts = dict(SENT)
            SENT.clear()
            await JSONResponse(counts)(scope, receive, send)
            return
        await self.app(scope, receive, send)
