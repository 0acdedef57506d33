"""`portal worker`: arq's Worker, started again whenever Redis goes away, until SIGTERM/SIGINT.

arq's Worker gives up when Redis stops answering (its poll raises ConnectionError) and does not
come back. Here the ORM, the job context and the SMTP connections outlive it: a lost Redis ends
one Worker, jobs still running are given time to finish, and a new Worker connects again with
back-off (1 s doubling to 10 s). Its start-up sweep then enqueues whatever the outage left
behind (mail whose enqueue failed, retries whose deferred job was lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, create_worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise import Tortoise

from app.db import tortoise_config
from app.jobs import job_context
from app.pubsub import running_bus
from app.settings import Settings
from emails.smtp import close_pools
from resolvers import jobs
from workers.settings import WorkerSettings, install_queue

log = logging.getLogger("portal.worker")

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
FIRST_WAIT_SECONDS = 1.0
LONGEST_WAIT_SECONDS = 10.0
# How long jobs still running when Redis went away get to finish (an SMTP send's bound).
FINISH_SECONDS = 20.0


async def _on_startup(ctx: dict[str, Any]) -> None:
    install_queue(ctx)


def _worker(settings: Settings) -> Worker:
    return create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
        on_startup=_on_startup,
        on_shutdown=None,
        handle_signals=False,
        ctx=job_context(settings),
    )


async def _abandon(worker: Worker) -> None:
    """Lets running jobs finish (bounded), then drops the worker's Redis pool."""
    running = [t for t in worker.tasks.values() if not t.done()]
    if running:
        _, late = await asyncio.wait(running, timeout=FINISH_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    if worker._pool is not None:
        with contextlib.suppress(Exception):
            await worker._pool.close(close_connection_pool=True)
        worker._pool = None


async def supervise(settings: Settings) -> None:
    """Runs Workers one after another until cancelled."""
    orm = await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        # Jobs publish what they change (an expired request) to every API process's subscribers.
        async with running_bus(settings):
            await _run_workers(settings)
    finally:
        jobs.install(None)
        await close_pools()
        await orm.close_connections()


async def _run_workers(settings: Settings) -> None:
    wait = FIRST_WAIT_SECONDS
    while True:
        worker = _worker(settings)
        try:
            await worker.main()
            return  # only a burst worker returns
        except REDIS_DOWN as exc:
            connected = "redis" in worker.ctx
            log.warning("Redis unreachable (%s); worker restarts in %.0f s", exc, wait)
        finally:
            await _abandon(worker)
        wait = FIRST_WAIT_SECONDS if connected else min(wait * 2, LONGEST_WAIT_SECONDS)
        await asyncio.sleep(wait)


def run(settings: Settings) -> None:
    """The process entry point: SIGTERM and SIGINT stop it cleanly."""

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await supervise(settings)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())
