"""The arq worker consumes our queue on a real Redis (CI always has one)."""

from __future__ import annotations

import os

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from workers.settings import WorkerSettings

REDIS_URL = os.environ.get("REDIS_URL")


@pytest.mark.skipif(
    not REDIS_URL and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="REDIS_URL not set: the embedded default has no Redis",
)
async def test_a_job_enqueued_on_redis_is_run_by_the_worker() -> None:
    assert REDIS_URL, "REDIS_URL must be set in CI"
    settings = RedisSettings.from_dsn(REDIS_URL)
    pool = await create_pool(settings, default_queue_name="portal-test-queue")
    try:
        job = await pool.enqueue_job("ping", _queue_name="portal-test-queue")
        assert job is not None
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=settings,
            queue_name="portal-test-queue",
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
        )
        await worker.main()
        await worker.close()
        assert await job.result(timeout=5) == "pong"
    finally:
        await pool.aclose()
