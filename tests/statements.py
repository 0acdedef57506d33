"""Counting the SQL statements one API call runs (bench/slots_server.count_statements wraps
tortoise's execute_* methods), for the tests that say a page does not grow with its lists."""

from __future__ import annotations

from typing import Any

from bench.slots_server import STATEMENTS, count_statements
from tests.factories import Api


async def statements_of(
    api: Api, query: str, variables: dict[str, Any], token: str
) -> tuple[list[str], dict[str, Any]]:
    """The SQL one successful call ran, in order, and its data. Reads only: the call is made
    twice first, uncounted, since a session is served from the principal cache from its third
    request on (resolvers/session_cache.py) and the counts compare pages, not sign-ins."""
    for _ in range(2):
        await api.data(query, variables, token)
    count_statements()
    seen: list[str] = []
    marker = STATEMENTS.set(seen)
    try:
        data = await api.data(query, variables, token)
    finally:
        STATEMENTS.reset(marker)
    return seen, data


def without_audit(sql: list[str]) -> list[str]:
    """Less the audit trail's inserts (a staff list records one per client shown, by design)."""
    return [s for s in sql if "audit_event" not in s]
