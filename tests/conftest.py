"""One app per test session on a fresh database: SQLite by default, PostgreSQL when
DATABASE_URL says so (CI runs both). Each test makes its own agency, so tests never share rows."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.db import migrate
from app.main import create_app
from app.settings import Settings
from resolvers.clock import set_clock
from tests.factories import Api


async def _fresh_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    folder = Path(tempfile.mkdtemp(prefix="portal-test-"))
    return f"sqlite://{folder / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        public_base_url="https://portal.test",
        max_logo_bytes=64 * 1024,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    if settings.database_url.startswith("postgres"):
        await _fresh_postgres(settings.database_url)
    await migrate(settings.database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http)


@pytest.fixture(autouse=True)
def _system_clock() -> object:
    yield None
    set_clock(None)
