"""Several `portal worker`s on one Redis and one database are one worker: each cron tick runs
once whichever worker takes it, and mail that several workers try to send at the same time is
sent once. Each test runs its own redis-server (tests/private_redis.py), so its queue holds
only what the test puts there."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker
from starlette.applications import Starlette

from app.jobs import QUEUE_NAME, job_context
from app.settings import Settings
from emails.render import MailContext, MailKind, render
from models.enums import OutboxStatus
from models.mail import OutboxMessage
from resolvers import outbox
from resolvers.clock import now
from tests.cron_worker import RUNS
from tests.mailbox import Mailbox
from tests.private_redis import PrivateRedis
from workers.settings import WorkerSettings

pytestmark = pytest.mark.multiprocess

# How long the cron test lets two workers run side by side: a few one-second ticks.
SIDE_BY_SIDE_SECONDS = 3.5


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


@pytest.fixture
async def queue(private_redis: PrivateRedis) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(private_redis.url))
    try:
        yield pool
    finally:
        await pool.aclose()


def worker_env(settings: Settings, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "test",
        "SMTP_HOST": settings.smtp_host or "",
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_FROM": settings.smtp_from,
    }


@contextlib.asynccontextmanager
async def workers(
    count: int, env: dict[str, str], *command: str
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """`count` worker processes (python + command); stopped with SIGTERM, as a deploy does."""
    started = [
        await asyncio.create_subprocess_exec(
            sys.executable, *command, env=env, stderr=asyncio.subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# Cron


async def test_two_workers_run_each_cron_tick_once(
    app: Starlette, settings: Settings, private_redis: PrivateRedis, queue: ArqRedis
) -> None:
    env = worker_env(settings, private_redis.url)
    command = ("-m", "tests.cron_worker")  # every cron job due every second (tests/cron_worker.py)
    async with workers(2, env, *command) as both:
        pids = {str(p.pid) for p in both}

        async def both_started() -> bool:
            runs = await _runs(queue)
            return {pid for _, pid in runs} >= pids  # each ran its start-up round

        await _until(both_started, "both workers' start-up runs")
        await asyncio.sleep(SIDE_BY_SIDE_SECONDS)
    runs = await _runs(queue)
    per_tick = Counter(job_id for job_id, _ in runs)
    assert [job_id for job_id, times in per_tick.items() if times > 1] == []
    # Every cron job ticked several times while both workers were up: once each time.
    names = {job.name for job in WorkerSettings.cron_jobs}
    ticks = Counter(job_id.rsplit(":", 1)[0] for job_id in per_tick)
    assert set(ticks) == names
    # two start-up runs, then ticks of one second (a loaded machine may miss some)
    assert min(ticks.values()) >= 2 + 1


async def _runs(queue: ArqRedis) -> list[list[str]]:
    """tests/cron_worker.py's record: [arq job id, pid] per run."""
    raw = await cast(Awaitable[list[bytes]], queue.lrange(RUNS, 0, -1))
    return [entry.decode().split() for entry in raw]


async def test_a_tick_already_run_is_not_run_again_by_a_worker_that_comes_to_it_late(
    app: Starlette, settings: Settings, private_redis: PrivateRedis, queue: ArqRedis
) -> None:
    """A worker reaches a tick late after a slow poll or a restart (its cron schedule carries
    on from where it was): the tick another worker ran must count as done."""
    [sweep] = [job for job in WorkerSettings.cron_jobs if job.name == "cron:sweep_outbox"]
    tick = f"{sweep.name}:{int(now().timestamp()) * 1000}"  # the id every worker gives it
    assert await queue.enqueue_job(sweep.name, _job_id=tick, _queue_name=QUEUE_NAME)
    started: list[str] = []

    async def record(ctx: dict[str, Any]) -> None:
        started.append(ctx["job_id"])

    worker = Worker(
        functions=WorkerSettings.functions,
        cron_jobs=[dataclasses.replace(sweep, run_at_startup=False)],
        redis_settings=RedisSettings.from_dsn(private_redis.url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
        ctx=job_context(settings),
        on_job_start=record,
    )
    await worker.main()
    await worker.close()
    # On a slow machine the worker may live into the next tick, which is another job id.
    assert started.count(tick) == 1, started
    # The late worker enqueues the same tick: refused, so it runs nowhere again.
    assert await queue.enqueue_job(sweep.name, _job_id=tick, _queue_name=QUEUE_NAME) is None


# Mail


async def _due_message(to: str) -> str:
    mail = render(
        "Hello from {{ agency_name }}",
        "Please sign in.",
        MailContext("Acme", "https://l"),
        kind=MailKind.SELF_SERVICE,
    )
    message_id = await outbox.queue_mail(None, "test", to, mail)
    await OutboxMessage.filter(id=message_id).update(next_attempt_at=now() - timedelta(minutes=1))
    return str(message_id)


async def test_two_workers_sweeping_the_same_due_mail_send_each_message_once(
    app: Starlette,
    settings: Settings,
    private_redis: PrivateRedis,
    queue: ArqRedis,
    mailbox: Mailbox,
) -> None:
    addresses = [f"swept{i}-{os.getpid()}@example.test" for i in range(20)]
    ids = [await _due_message(to) for to in addresses]
    # Two sweeps that read the same due rows before either pushed them ahead (the window
    # between outbox.due_messages and its update) enqueue every message twice.
    for _ in range(2):
        for message_id in ids:
            await queue.enqueue_job("deliver_email", message_id, _queue_name=QUEUE_NAME)
    env = worker_env(settings, private_redis.url)
    command = ("-c", "from app.cli import main; main(['worker'])")

    async def all_sent() -> bool:
        unsent = OutboxMessage.filter(id__in=ids).exclude(status=OutboxStatus.SENT)
        return not await unsent.exists()

    async with workers(2, env, *command):
        # Both workers also sweep at start-up, over the same rows.
        await _until(all_sent, "every message sent")
        await _until(_queue_empty(queue), "the queue to drain")
    assert [len(mailbox.to(to)) for to in addresses] == [1] * len(addresses)


def _queue_empty(queue: ArqRedis) -> Callable[[], Awaitable[bool]]:
    async def empty() -> bool:
        return not await queue.zcard(QUEUE_NAME)

    return empty
