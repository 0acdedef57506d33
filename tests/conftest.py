"""One app per test session on a fresh database: SQLite by default, PostgreSQL when
DATABASE_URL says so (CI runs both). Each test makes its own agency, so tests never share rows."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from arq.connections import RedisSettings
from arq.utils import timestamp_ms
from arq.worker import Worker
from starlette.applications import Starlette

from app.db import migrate
from app.jobs import QUEUE_NAME, InProcessQueue, job_context
from app.main import create_app
from app.settings import Settings
from resolvers.clock import set_clock
from tests.factories import Api
from tests.mailbox import Mailbox, SmtpServer
from workers.settings import WorkerSettings


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
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        public_base_url="https://portal.test",
        max_logo_bytes=64 * 1024,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="Portal <portal@agency.test>",
        # Live servers (tests/live.py) take X-Forwarded-For from loopback, so each test calls
        # from its own address (tests/test_websocket.py `web`, tests/test_fuzz.py).
        forwarded_allow_ips="127.0.0.1",
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
def client_ip() -> str:
    """Each test calls from its own address, so per-address rate limits never carry over
    between tests, nor between the SQLite and PostgreSQL runs sharing one Redis."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@pytest.fixture
async def http(app: Starlette, client_ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http)


@pytest.fixture(autouse=True)
def _system_clock() -> object:
    yield None
    set_clock(None)


@pytest.fixture
async def mailbox(
    smtp_server: SmtpServer, run_jobs: Callable[[], Awaitable[None]]
) -> AsyncIterator[Mailbox]:
    """An empty mailbox: mail that earlier tests left queued (on Redis, jobs wait for a
    worker) is delivered first, so it cannot land in this test's mailbox."""
    await run_jobs()
    smtp_server.mailbox.messages.clear()
    yield smtp_server.mailbox


@pytest.fixture
def run_jobs(app: Starlette, settings: Settings) -> Callable[[], Awaitable[None]]:
    """Runs every queued job to completion: in-process, or a burst of the real arq worker."""

    async def run() -> None:
        queue = app.state.jobs
        if isinstance(queue, InProcessQueue):
            await queue.drain()
            return
        # Bursts of the jobs that are due now (a deferred retry is not waited for), until the
        # jobs they enqueued (a recovery request's mail) have run too.
        while due := await queue.pool.zcount(QUEUE_NAME, "-inf", timestamp_ms()):
            worker = Worker(
                functions=WorkerSettings.functions,
                redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
                queue_name=QUEUE_NAME,
                burst=True,
                max_burst_jobs=due,
                poll_delay=0.01,
                handle_signals=False,
                ctx=job_context(settings),
            )
            await worker.main()
            await worker.close()

    return run
