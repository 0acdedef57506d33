"""The job queue the app installs: in-process by default, arq on Redis when REDIS_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from app.settings import Settings
from emails.smtp import SmtpConfig, close_pools
from resolvers import jobs
from workers.jobs import FUNCTIONS

log = logging.getLogger("portal.jobs")
QUEUE_NAME = "portal:queue"
# What the in-process runner does periodically; arq's cron runs the same (workers/settings.py).
# The sweep is the safety net for lost jobs (a crash, Redis away at enqueue): it runs often so
# such mail waits seconds, not minutes. The expiry jobs only tidy up.
SWEEP_EVERY_SECONDS = 10
SWEEP = ("sweep_outbox",)
PERIODIC = (
    "expire_invitations",
    "expire_password_resets",
    "expire_appointment_requests",
    "expire_form_links",
)
PERIODIC_EVERY_SECONDS = 60
# Jobs one process runs at once (arq's max_jobs, the in-process semaphore).
MAX_JOBS = 10
# An enqueue that cannot reach Redis gives up after this; the sweep enqueues the work later.
ENQUEUE_TIMEOUT_SECONDS = 2.0


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
    return {
        "smtp": smtp_config(settings),
        "production": settings.is_production,
        "base_url": settings.public_base_url,
    }


class InProcessQueue:
    """Runs the same job functions as asyncio tasks in this process (the embedded default),
    at most `max_jobs` at once; a delayed job is started by a timer."""

    def __init__(self, ctx: dict[str, Any], max_jobs: int = MAX_JOBS) -> None:
        self.ctx = ctx
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._slots = asyncio.Semaphore(max_jobs)

    async def enqueue(self, job: str, *args: str, delay: timedelta | None = None) -> None:
        if delay is None or delay <= timedelta(0):
            self._start(job, *args)
            return
        loop = asyncio.get_running_loop()
        timer = loop.call_later(delay.total_seconds(), self._fire, job, args)
        self._timers.add(timer)

    def _fire(self, job: str, args: tuple[str, ...]) -> None:
        now = asyncio.get_running_loop().time()
        self._timers = {t for t in self._timers if t.when() > now}
        self._start(job, *args)

    def _start(self, job: str, *args: str) -> None:
        task = asyncio.create_task(self._run(job, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: str, *args: str) -> Any:
        async with self._slots:
            try:
                return await FUNCTIONS[job](self.ctx, *args)
            except Exception:
                log.exception("job %s failed", job)
                return None

    async def drain(self) -> None:
        """Waits until every job started so far, and any they started, has finished
        (not for delayed jobs whose time has not come)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    def cancel_timers(self) -> None:
        """At shutdown: delayed jobs are dropped; their rows stay due for the next sweep."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    async def run_periodic(self) -> None:
        """The sweep every few seconds, the tidy-up jobs every minute; both at start-up."""
        ticks_per_period = PERIODIC_EVERY_SECONDS // SWEEP_EVERY_SECONDS
        tick = 0
        while True:
            jobs_now = SWEEP + (PERIODIC if tick % ticks_per_period == 0 else ())
            for job in jobs_now:
                await self._run(job)
            tick += 1
            await asyncio.sleep(SWEEP_EVERY_SECONDS)


class ArqQueue:
    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def enqueue(self, job: str, *args: str, delay: timedelta | None = None) -> None:
        # Bounded: a request must not hang on an unreachable Redis (resolvers.jobs logs it).
        async with asyncio.timeout(ENQUEUE_TIMEOUT_SECONDS):
            await self.pool.enqueue_job(job, *args, _queue_name=QUEUE_NAME, _defer_by=delay)


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
            await close_pools()
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
        local.cancel_timers()
        await local.drain()
        jobs.install(None)
        await close_pools()
