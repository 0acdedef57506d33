"""The SQLite engine the app configures: write transactions take the write lock up front.

SQLite's default `BEGIN` is deferred: a transaction that reads first and writes later must
upgrade its lock, and when another process (the `portal` CLI, a second server) wrote in between
the upgrade fails at once with "database is locked", whatever the busy timeout. `BEGIN IMMEDIATE`
takes the write lock when the transaction starts, so it waits (up to the busy timeout) for the
other writer instead of failing. Every `in_transaction()` here is a write transaction.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

# How long a write waits for another process's write transaction before giving up.
BUSY_TIMEOUT_MS = 10_000


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


# tortoise looks the client up by this name in the engine module.
client_class = ImmediateSqliteClient
