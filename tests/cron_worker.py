"""`portal worker` as production runs it, except that every cron job is due every second and
records each run in Redis (list RUNS, "<arq job id> <pid>"): a test sees within seconds whether
two workers ran one tick twice. Run as `python -m tests.cron_worker` with the worker's
environment (DATABASE_URL, REDIS_URL, ...)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from arq.cron import CronJob

from app.cli import main
from workers.settings import WorkerSettings

RUNS = "portal-test:cron-runs"


def every_second(job: CronJob) -> CronJob:
    """The same cron job (name, uniqueness, result keeping, start-up run) due every second."""
    real = job.coroutine

    async def recorded(ctx: dict[str, Any]) -> Any:
        await ctx["redis"].rpush(RUNS, f"{ctx['job_id']} {os.getpid()}")
        return await real(ctx)

    return dataclasses.replace(job, coroutine=recorded, second=None)


if __name__ == "__main__":
    WorkerSettings.cron_jobs = [every_second(job) for job in WorkerSettings.cron_jobs]
    main(["worker"])
