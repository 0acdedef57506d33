"""The arq worker: ORM started in on_startup and closed through the object it returned."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings
from tortoise import Tortoise

from app.db import tortoise_config
from app.settings import get_settings
from workers.jobs import ping


async def startup(ctx: dict[str, Any]) -> None:
    ctx["orm"] = await Tortoise.init(config=tortoise_config(get_settings().database_url))


async def shutdown(ctx: dict[str, Any]) -> None:
    orm = ctx.get("orm")
    if orm is not None:
        await orm.close_connections()


def _redis() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise SystemExit("REDIS_URL is not set: the embedded default runs jobs in-process")
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    functions = [ping]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = _redis() if get_settings().redis_url else RedisSettings()
