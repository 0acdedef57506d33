"""The arq worker's settings. `portal worker` runs them under workers/supervisor.py, which
keeps the ORM and restarts arq's Worker when Redis goes away; `arq workers.settings.WorkerSettings`
runs them bare (ORM started in on_startup and closed through the object it returned)."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings
from tortoise import Tortoise

from app.db import tortoise_config
from app.jobs import (
    MAX_JOBS,
    PERIODIC,
    QUEUE_NAME,
    SWEEP,
    SWEEP_EVERY_SECONDS,
    ArqQueue,
    job_context,
)
from app.settings import get_settings
from resolvers import jobs
from workers.jobs import FUNCTIONS


def install_queue(ctx: dict[str, Any]) -> None:
    """Jobs that start jobs (the sweep, a retry) go back onto this worker's queue."""
    jobs.install(ArqQueue(ctx["redis"]))


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["orm"] = await Tortoise.init(config=tortoise_config(settings.database_url))
    ctx.update(job_context(settings))
    install_queue(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    jobs.install(None)
    orm = ctx.get("orm")
    if orm is not None:
        await orm.close_connections()


_SWEEP_SECONDS = set(range(0, 60, SWEEP_EVERY_SECONDS))
# Every worker enqueues each cron tick under one job id (name + tick time), so Redis keeps one
# of several workers' copies. arq keeps a cron job's key only until it finishes (keep_result=0),
# so a worker that reached the tick late (a slow poll, a restart after a Redis outage) would
# enqueue and run it again; the kept result makes the tick count as done for this long.
CRON_DONE_SECONDS = 600


def _redis() -> RedisSettings:
    url = get_settings().redis_url
    return RedisSettings.from_dsn(url) if url else RedisSettings()


class WorkerSettings:
    functions = list(FUNCTIONS.values())
    cron_jobs = [
        cron(
            FUNCTIONS[name],
            second=_SWEEP_SECONDS,
            run_at_startup=True,
            keep_result=CRON_DONE_SECONDS,
        )
        for name in SWEEP
    ] + [
        cron(FUNCTIONS[name], second=0, run_at_startup=True, keep_result=CRON_DONE_SECONDS)
        for name in PERIODIC
    ]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    redis_settings = _redis()
    max_jobs = MAX_JOBS
    # Results are never read; keeping them for arq's default hour only fills Redis.
    keep_result = 60
