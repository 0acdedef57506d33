"""app/postgres.py returns pooled connections without asyncpg's reset query, which is right only
while nothing makes session state. These fail when such code appears, naming the file."""

from __future__ import annotations

import re
from pathlib import Path

from app.db import connection_config

ROOT = Path(__file__).resolve().parent.parent
# Session-level advisory locks, LISTEN, cursors, and statements that start with a plain SET
# (SET LOCAL ends with its transaction and is fine), or asyncpg's own listeners. SQL keywords
# are matched in capitals, as the project writes SQL, so prose ("Set your password") is not.
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\s*\(|(?-i:[\"']\s*(UN)?LISTEN\s|[\"']\s*DECLARE\s"
    r"|[\"']\s*SET\s+(?!LOCAL\b))|set_config\s*\([^)]*false|add_listener\(|\.cursor\(",
    re.IGNORECASE,
)


def test_nothing_makes_session_state_that_a_reset_would_have_undone() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for folder in ("app", "resolvers", "models", "workers", "schema", "emails")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if SESSION_STATE.search(line) and "app/postgres.py" not in line
    ]
    assert found == [], "session state on a pooled connection: see app/postgres.py\n" + "\n".join(
        found
    )


def test_the_guard_would_see_such_code() -> None:
    for line in (
        'await conn.execute("SELECT pg_advisory_lock(1)")',
        "await conn.execute('SET statement_timeout = 5')",
        'await conn.execute("LISTEN jobs")',
        "await conn.add_listener('jobs', callback)",
    ):
        assert SESSION_STATE.search(line), line
    for line in ('"SET LOCAL lock_timeout = 1"', '"UPDATE t SET a = $1"', "pg_advisory_xact_lock("):
        assert not SESSION_STATE.search(line), line


def test_postgres_urls_use_the_engine_without_the_reset() -> None:
    for url in ("postgres://u@h:5432/d", "postgresql://u@h:5432/d"):
        config = connection_config(url)
        assert isinstance(config, dict) and config["engine"] == "app.postgres"
