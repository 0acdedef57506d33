"""The job queue the app installs: in-process by default, arq on Redis when REDIS_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from app.settings import Settings
from emails.smtp import SmtpConfig
from resolvers import jobs
from workers.jobs import FUNCTIONS

log = logging.getLogger("portal.jobs")
QUEUE_NAME = "portal:queue"
# What the in-process runner does every minute; arq's cron runs the same (workers/settings.py).
PERIODIC = ("sweep_outbox", "expire_invitations", "expire_password_resets")


def smtp_config(settings: Settings) -> SmtpConfig | None:
    if not settings.smtp_host:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


def job_context(settings: Settings) -> dict[str, Any]:
    return {"smtp": smtp_config(settings), "production": settings.is_production}


class InProcessQueue:
    """Runs the same job functions as asyncio tasks in this process (the embedded default)."""

    def __init__(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx
        self._tasks: set[asyncio.Task[Any]] = set()

    async def enqueue(self, job: str, *args: str) -> None:
        task = asyncio.create_task(self._run(job, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: str, *args: str) -> Any:
        try:
            return await FUNCTIONS[job](self.ctx, *args)
        except Exception:
            log.exception("job %s failed", job)
            return None

    async def drain(self) -> None:
        """Waits until every job started so far, and any they started, has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def run_periodic(self, every_seconds: float = 60) -> None:
        while True:
            for job in PERIODIC:
                await self._run(job)
            await asyncio.sleep(every_seconds)


class ArqQueue:
    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def enqueue(self, job: str, *args: str) -> None:
        await self.pool.enqueue_job(job, *args, _queue_name=QUEUE_NAME)


@contextlib.asynccontextmanager
async def running_queue(settings: Settings) -> AsyncIterator[InProcessQueue | ArqQueue]:
    """Installs the queue for the app's lifetime; the in-process one also runs the cron."""
    if settings.redis_url:
        pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        queue: InProcessQueue | ArqQueue = ArqQueue(pool)
        jobs.install(queue)
        try:
            yield queue
        finally:
            jobs.install(None)
            await pool.aclose()
        return
    local = InProcessQueue(job_context(settings))
    jobs.install(local)
    cron = asyncio.create_task(local.run_periodic())
    try:
        yield local
    finally:
        cron.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cron
        await local.drain()
        jobs.install(None)
