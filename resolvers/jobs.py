"""How resolvers start background work: by job name and ids, after their transaction commits.

The app installs the queue at start-up (in-process by default, arq when REDIS_URL is set);
resolvers only call `enqueue`, so they never know which.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

log = logging.getLogger("portal.jobs")


class JobQueue(Protocol):
    async def enqueue(self, job: str, *args: str, delay: timedelta | None = None) -> None: ...


class _Unconfigured:
    async def enqueue(self, job: str, *args: str, delay: timedelta | None = None) -> None:
        # The outbox sweep picks the work up later; nothing is lost.
        log.warning("no job queue configured; %s left for the sweep", job)


_queue: JobQueue = _Unconfigured()


def install(queue: JobQueue | None) -> None:
    global _queue
    _queue = queue or _Unconfigured()


async def enqueue(job: str, *args: str, delay: timedelta | None = None) -> None:
    """Runs `job` now, or `delay` from now. Never raises: a queue outage must not fail a request
    whose data is already committed (the sweep finds the work later)."""
    try:
        await _queue.enqueue(job, *args, delay=delay)
    except Exception:
        log.exception("could not enqueue %s; the sweep will retry", job)
