"""The arq worker: ORM started in on_startup and closed through the object it returned."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings
from tortoise import Tortoise

from app.db import tortoise_config
from app.jobs import PERIODIC, QUEUE_NAME, ArqQueue, job_context
from app.settings import get_settings
from resolvers import jobs
from workers.jobs import FUNCTIONS


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["orm"] = await Tortoise.init(config=tortoise_config(settings.database_url))
    ctx.update(job_context(settings))
    # Jobs that start jobs (the sweep) go back onto this worker's queue.
    jobs.install(ArqQueue(ctx["redis"]))


async def shutdown(ctx: dict[str, Any]) -> None:
    jobs.install(None)
    orm = ctx.get("orm")
    if orm is not None:
        await orm.close_connections()


def _redis() -> RedisSettings:
    url = get_settings().redis_url
    return RedisSettings.from_dsn(url) if url else RedisSettings()


class WorkerSettings:
    functions = list(FUNCTIONS.values())
    cron_jobs = [cron(FUNCTIONS[name], second=0, run_at_startup=True) for name in PERIODIC]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    redis_settings = _redis()
