"""The PostgreSQL engine the app configures: asyncpg's pool without its release reset.

tortoise checks a pooled connection out for every statement, and on each return asyncpg's pool
sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`: one more round trip
per statement, half of all the traffic of a read. The reset undoes session state (advisory
locks, open cursors, LISTEN, session-level SET), and nothing in this project makes any: locks
are row locks (SELECT ... FOR UPDATE) that end with their transaction, and asyncpg still rolls
back a transaction left open on release without this query. tests/test_postgres_engine.py fails
when code that makes session state appears; such code must bring the reset back (RESET_QUERY).
"""

from __future__ import annotations

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient

# What a returned connection runs: nothing, while no session state is ever made (see above).
RESET_QUERY = ""


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    def get_reset_query(self) -> str:
        return RESET_QUERY


class PortalAsyncpgClient(AsyncpgDBClient):
    connection_class = NoResetConnection


# tortoise looks the client up by this name in the engine module.
client_class = PortalAsyncpgClient
