"""Outbox throughput and the expiry statements, on a fresh database; prints one JSON object.

    .venv/bin/python -m bench.mail [--database-url URL] [--redis-url URL]

1. Outbox: 1,000 rows written by resolvers.outbox.queue_mail, then delivered to an aiosmtpd
   server on 127.0.0.1 (its own thread) by the real `deliver_email` job, twice:
   (a) arq: 1,000 jobs on Redis (QUEUE_NAME) and an in-process burst `arq.worker.Worker` with the
       arq defaults that workers/settings.py runs with (max_jobs=10, poll_delay=0.5 s);
   (b) app.jobs.InProcessQueue: enqueue all, then drain.
   The clock runs from the first enqueue until every row is SENT; the SMTP server must have
   received each Message-ID exactly once.
   (c) backlog: 2,000 rows whose jobs were lost (as when Redis was away at enqueue), drained
       by the periodic sweep alone, once by arq's Worker with WorkerSettings (cron, max_jobs)
       and once by InProcessQueue.run_periodic; also how many SMTP sessions were opened.
   (d) recovery timing: requestPasswordReset for known and unknown user names, interleaved at
       random, each call timed (the answer's cost); then a worker turns the requests into
       mail, which must be one message per known name and none for an unknown one.
2. Expiry: 100,000 Invitation and PasswordReset rows (every other one already expired), then
   workers.jobs.expire_invitations / expire_password_resets timed twice (the second must find 0),
   with the planner's EXPLAIN of the UPDATE before each run.

The database is wiped first (PostgreSQL: DROP SCHEMA public CASCADE; SQLite: the file is
deleted), so the database name or file must contain "bench". Redis: the run refuses to start if
QUEUE_NAME already holds jobs, and deletes exactly the keys of its own jobs afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiosmtpd.controller import Controller
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, create_worker
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app.db import migrate, tortoise_config
from app.jobs import QUEUE_NAME, ArqQueue, InProcessQueue
from emails.render import MailContext, MailKind, render
from emails.smtp import SmtpConfig, pool_for
from models.accounts import PortalAccount
from models.clients import Client
from models.enums import OutboxStatus, PortalAccountKind, TokenState
from models.invitations import Invitation, PasswordReset
from models.mail import OutboxMessage
from resolvers import jobs, outbox, recovery
from resolvers.agencies import create_agency
from resolvers.clock import now
from resolvers.principal import Caller
from workers.jobs import FUNCTIONS, expire_invitations, expire_password_resets
from workers.settings import WorkerSettings, install_queue

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5433/portal_bench6"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
HOST = "127.0.0.1"
SENDER = "portal@bench.test"
TARGET_OUTBOX_SECONDS = 20.0
TARGET_EXPIRY_SECONDS = 2.0
# What workers/settings.py (WorkerSettings) runs with.
ARQ_MAX_JOBS = WorkerSettings.max_jobs
ARQ_POLL_DELAY = 0.5
BACKLOG_MESSAGES = 2000
RECOVERY_SAMPLES = 300
BASE_URL = "https://portal.bench.test"
MACHINE_NOTE = "2-core VM; PostgreSQL, Redis, the SMTP server and the bench share it"


# --- the SMTP server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class CountingMailbox:
    """aiosmtpd handler: keeps only each message's Message-ID (the outbox row id)."""

    message_ids: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _parser: BytesHeaderParser = field(default_factory=BytesHeaderParser)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = self._parser.parsebytes(envelope.content)
        with self._lock:
            self.message_ids.append(str(headers["Message-ID"]))
        return "250 OK"

    def take(self) -> list[str]:
        with self._lock:
            taken, self.message_ids = self.message_ids, []
        return taken


def _serve(port: int, conn: Connection) -> None:
    """The child process: an aiosmtpd Controller, answering 'take' and 'stop' on a pipe."""
    mailbox = CountingMailbox()
    controller = Controller(mailbox, hostname=HOST, port=port)
    controller.start()
    conn.send("ready")
    try:
        while conn.recv() == "take":
            conn.send(mailbox.take())
    finally:
        controller.stop()


class SmtpSink:
    """A counting SMTP server on 127.0.0.1: in a child process by default, so that its work
    does not share the bench process's GIL with the code being measured; or in a thread."""

    def __init__(self, in_thread: bool) -> None:
        self.port = free_port()
        self.where = "thread" if in_thread else "process"
        self._mailbox = CountingMailbox()
        self._controller: Any = None
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    async def start(self) -> None:
        if self.where == "thread":
            self._controller = Controller(self._mailbox, hostname=HOST, port=self.port)
            self._controller.start()
            return
        spawn = multiprocessing.get_context("spawn")
        self._conn, child = spawn.Pipe()
        self._process = spawn.Process(target=_serve, args=(self.port, child), daemon=True)
        self._process.start()
        if not await asyncio.to_thread(self._conn.poll, 60) or self._conn.recv() != "ready":
            raise SystemExit("the SMTP server process did not start")

    async def take(self) -> list[str]:
        if self._conn is None:
            return self._mailbox.take()
        self._conn.send("take")
        received: list[str] = await asyncio.to_thread(self._conn.recv)
        return received

    async def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
        if self._conn is not None and self._process is not None:
            self._conn.send("stop")
            await asyncio.to_thread(self._process.join, 10)
            self._conn.close()


# --- the database ----------------------------------------------------------------------------


def database_kind(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme.startswith("sqlite"):
        return "sqlite"
    if scheme in ("postgres", "postgresql", "asyncpg", "psycopg"):
        return "postgres"
    raise SystemExit(f"unsupported database URL scheme: {scheme}")


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _delete_sqlite(path: Path) -> None:
    if "bench" not in path.name:
        raise SystemExit(f"refusing to delete {path}: the file name must contain 'bench'")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def wipe(url: str, kind: str) -> None:
    """A fresh database for every run, so reruns start from the same state."""
    if kind == "sqlite":
        await asyncio.to_thread(_delete_sqlite, Path(url[len("sqlite://") :]))
        return
    parts = urlsplit(url)
    if "bench" not in parts.path:
        raise SystemExit(f"refusing to wipe {parts.path!r}: the database name must contain 'bench'")
    dsn = urlunsplit(parts._replace(scheme="postgresql", query=""))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@dataclass(frozen=True)
class Tenant:
    agency_id: uuid.UUID
    client_id: uuid.UUID
    account_id: uuid.UUID


async def make_tenant() -> Tenant:
    agency, _ = await create_agency("Bench Agency", "bench-mail", "champion@bench.test", "x" * 16)
    client = await Client.create(agency=agency, first_name="Bench", last_name="Client")
    account = await PortalAccount.create(
        agency=agency,
        kind=PortalAccountKind.CLIENT,
        username="bench-client",
        email="client@bench.test",
        password_hash="not-a-hash",
        client=client,
    )
    return Tenant(agency.id, client.id, account.id)


# --- 1. outbox throughput --------------------------------------------------------------------


async def queue_messages(agency_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    mail = render(
        "Your invitation from {{ agency_name }}",
        "Please register within {{ expiry_days }} days.",
        MailContext("Bench Agency", "https://portal.bench.test/register?t=abc", 7),
        kind=MailKind.CLIENT_INVITATION,
    )
    ids = []
    for i in range(count):
        async with in_transaction():
            ids.append(await outbox.queue_mail(agency_id, "bench", f"r{i}@bench.test", mail))
    return ids


async def check_delivery(ids: list[uuid.UUID], received: list[str]) -> dict[str, Any]:
    expected = {f"<{i}@client-portal>" for i in ids}
    statuses = {
        status: await OutboxMessage.filter(status=status).count() for status in OutboxStatus
    }
    unique = set(received)
    return {
        "received": len(received),
        "duplicates": len(received) - len(unique),
        "missing": len(expected - unique),
        "unexpected": len(unique - expected),
        "rows_by_status": {str(k): v for k, v in statuses.items()},
        "ok": len(received) == len(ids)
        and unique == expected
        and statuses[OutboxStatus.SENT] == len(ids),
    }


def rates(count: int, seconds: float) -> dict[str, float]:
    return {"seconds": round(seconds, 3), "messages_per_s": round(count / seconds, 1)}


async def redis_keys_of(pool: ArqRedis, job_ids: list[str]) -> int:
    prefixes = ("arq:job:", "arq:result:", "arq:retry:", "arq:in-progress:")
    keys = [f"{prefix}{job_id}" for job_id in job_ids for prefix in prefixes]
    deleted = 0
    for start in range(0, len(keys), 1000):
        deleted += int(await pool.delete(*keys[start : start + 1000]))
    if job_ids:
        await pool.zrem(QUEUE_NAME, *job_ids)
    return deleted


async def run_arq(
    tenant: Tenant,
    mailbox: SmtpSink,
    smtp: SmtpConfig,
    redis: RedisSettings,
    count: int,
    max_jobs: int,
    poll_delay: float,
) -> dict[str, Any]:
    await OutboxMessage.all().delete()
    await mailbox.take()
    started = time.perf_counter()
    ids = await queue_messages(tenant.agency_id, count)
    queued = time.perf_counter() - started
    run = uuid.uuid4().hex[:8]
    job_ids = [f"bench-mail-{run}-{i}" for i in ids]
    pool = await create_pool(redis, default_queue_name=QUEUE_NAME)
    try:
        waiting = await pool.zcard(QUEUE_NAME)
        if waiting:
            raise SystemExit(f"{QUEUE_NAME} already holds {waiting} job(s); not touching them")
        started = time.perf_counter()
        for message_id, job_id in zip(ids, job_ids, strict=True):
            job = await pool.enqueue_job(
                "deliver_email", str(message_id), _job_id=job_id, _queue_name=QUEUE_NAME
            )
            if job is None:
                raise SystemExit(f"arq refused job {job_id} (already exists)")
        enqueued = time.perf_counter() - started
        worker = Worker(
            functions=list(FUNCTIONS.values()),
            queue_name=QUEUE_NAME,
            redis_settings=redis,
            burst=True,
            max_jobs=max_jobs,
            poll_delay=poll_delay,
            handle_signals=False,
            ctx={"smtp": smtp},
        )
        try:
            await worker.async_run()
        finally:
            await worker.close()
        elapsed = time.perf_counter() - started
        jobs = {
            "complete": worker.jobs_complete,
            "failed": worker.jobs_failed,
            "retried": worker.jobs_retried,
        }
        cleaned = await redis_keys_of(pool, job_ids)
    finally:
        await pool.aclose()
    result: dict[str, Any] = rates(count, elapsed)
    result.update(
        queue_mail_seconds=round(queued, 3),
        enqueue_seconds=round(enqueued, 3),
        max_jobs=max_jobs,
        poll_delay_s=poll_delay,
        arq_jobs=jobs,
        redis_keys_deleted=cleaned,
    )
    result.update(await check_delivery(ids, await mailbox.take()))
    return result


async def run_in_process(
    tenant: Tenant, mailbox: SmtpSink, smtp: SmtpConfig, count: int
) -> dict[str, Any]:
    await OutboxMessage.all().delete()
    await mailbox.take()
    started = time.perf_counter()
    ids = await queue_messages(tenant.agency_id, count)
    queued = time.perf_counter() - started
    queue = InProcessQueue({"smtp": smtp, "base_url": BASE_URL})
    started = time.perf_counter()
    for message_id in ids:
        await queue.enqueue("deliver_email", str(message_id))
    await queue.drain()
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = rates(count, elapsed)
    result.update(queue_mail_seconds=round(queued, 3), concurrency="app.jobs.MAX_JOBS at once")
    result.update(await check_delivery(ids, await mailbox.take()))
    return result


# --- 1c. a backlog of lost jobs, drained by the sweep ------------------------------------------


async def lost_jobs_backlog(tenant: Tenant, mailbox: SmtpSink, count: int) -> list[uuid.UUID]:
    """Rows written while no job could be enqueued, past their grace period: sweep work."""
    await OutboxMessage.all().delete()
    await mailbox.take()
    ids = await queue_messages(tenant.agency_id, count)
    await OutboxMessage.all().update(next_attempt_at=now() - timedelta(seconds=1))
    return ids


async def until_sent(count: int, limit_s: float = 900) -> float:
    started = time.perf_counter()
    while await OutboxMessage.filter(status=OutboxStatus.SENT).count() < count:
        if time.perf_counter() - started > limit_s:
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - started


async def _install(ctx: dict[str, Any]) -> None:
    install_queue(ctx)


async def run_backlog_arq(
    tenant: Tenant, mailbox: SmtpSink, smtp: SmtpConfig, redis: RedisSettings, count: int
) -> dict[str, Any]:
    ids = await lost_jobs_backlog(tenant, mailbox, count)
    opened = pool_for(smtp).opened
    worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=redis,
        on_startup=_install,
        on_shutdown=None,
        handle_signals=False,
        ctx={"smtp": smtp, "base_url": BASE_URL},
    )
    task = asyncio.create_task(worker.async_run())
    elapsed = await until_sent(count)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await worker.close()
    jobs.install(None)
    result: dict[str, Any] = rates(count, elapsed)
    result.update(
        max_jobs=worker.max_jobs,
        smtp_sessions_opened=pool_for(smtp).opened - opened,
        smtp_connections_per_process=smtp.connections,
    )
    result.update(await check_delivery(ids, await mailbox.take()))
    return result


async def run_backlog_in_process(
    tenant: Tenant, mailbox: SmtpSink, smtp: SmtpConfig, count: int
) -> dict[str, Any]:
    ids = await lost_jobs_backlog(tenant, mailbox, count)
    opened = pool_for(smtp).opened
    queue = InProcessQueue({"smtp": smtp, "base_url": BASE_URL})
    jobs.install(queue)
    cron = asyncio.create_task(queue.run_periodic())
    elapsed = await until_sent(count)
    cron.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cron
    await queue.drain()
    jobs.install(None)
    result: dict[str, Any] = rates(count, elapsed)
    result.update(smtp_sessions_opened=pool_for(smtp).opened - opened)
    result.update(await check_delivery(ids, await mailbox.take()))
    return result


# --- 1d. recovery answers: known and unknown accounts cost the same ---------------------------


def _summary(samples: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in samples)
    return {
        "median_ms": round(statistics.median(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "p90_ms": round(ms[int(len(ms) * 0.9)], 3),
    }


async def run_recovery_timing(
    tenant: Tenant, mailbox: SmtpSink, smtp: SmtpConfig, redis: RedisSettings, samples: int
) -> dict[str, Any]:
    await OutboxMessage.all().delete()
    await mailbox.take()
    names = [f"known-{i}" for i in range(samples)]
    await PortalAccount.bulk_create(
        [
            PortalAccount(
                agency_id=tenant.agency_id,
                kind=PortalAccountKind.CLIENT,
                username=name,
                email=f"{name}@bench.test",
                password_hash="not-a-hash",
                client_id=tenant.client_id,
            )
            for name in names
        ]
    )
    calls = [(name, True) for name in names] + [(f"nobody-{i}", False) for i in range(samples)]
    random.shuffle(calls)
    pool = await create_pool(redis, default_queue_name=QUEUE_NAME)
    jobs.install(ArqQueue(pool))
    timings: dict[bool, list[float]] = {True: [], False: []}
    try:
        for i, (name, known) in enumerate(calls):
            caller = Caller(None, f"2001:db8::{i:x}")
            started = time.perf_counter()
            await recovery.request_password_reset(caller, "bench-mail", name)
            timings[known].append(time.perf_counter() - started)
    finally:
        jobs.install(None)
        await pool.aclose()
    # The requests' jobs, run by a burst worker until the mail they wrote is delivered too.
    worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=redis,
        on_startup=_install,
        on_shutdown=None,
        handle_signals=False,
        burst=True,
        cron_jobs=[],
        ctx={"smtp": smtp, "base_url": BASE_URL},
    )
    await worker.async_run()
    await worker.close()
    jobs.install(None)
    if await OutboxMessage.filter(status=OutboxStatus.PENDING).exists():
        await until_sent(samples, limit_s=120)
    received = await mailbox.take()
    to = [str(a) for a in await OutboxMessage.all().values_list("to_address", flat=True)]
    for_known, for_unknown = _summary(timings[True]), _summary(timings[False])
    return {
        "samples_each": samples,
        "known": for_known,
        "unknown": for_unknown,
        "median_difference_ms": round(for_known["median_ms"] - for_unknown["median_ms"], 3),
        "mail_rows": len(to),
        "received": len(received),
        "ok": sorted(to) == sorted(f"{n}@bench.test" for n in names) and len(received) == samples,
    }


# --- 2. expiry -------------------------------------------------------------------------------

_INSERT_INVITATIONS = """
INSERT INTO invitation (id, agency_id, token_hash, kind, client_id, email, state, expires_at,
                        created_at)
SELECT md5('inv' || i)::uuid, $1, md5('inv' || i) || md5('tok' || i), 'CLIENT', $2,
       'r' || i || '@bench.test', 'ACTIVE',
       CASE WHEN i % 2 = 0 THEN $3::timestamptz - make_interval(days => 1, secs => i)
            ELSE $3::timestamptz + make_interval(days => 1, secs => i) END,
       $3::timestamptz - interval '8 days'
FROM generate_series(1, $4::int) AS i
"""

_INSERT_RESETS = """
INSERT INTO password_reset (id, agency_id, token_hash, account_id, state, expires_at, created_at)
SELECT md5('pwr' || i)::uuid, $1, md5('pwr' || i) || md5('tok' || i), $2, 'ACTIVE',
       CASE WHEN i % 2 = 0 THEN $3::timestamptz - make_interval(days => 1, secs => i)
            ELSE $3::timestamptz + make_interval(days => 1, secs => i) END,
       $3::timestamptz - interval '2 days'
FROM generate_series(1, $4::int) AS i
"""


Job = Callable[[dict[str, Any]], Awaitable[int]]


def expiry_of(i: int, at: datetime) -> datetime:
    offset = timedelta(days=1, seconds=i)
    return at - offset if i % 2 == 0 else at + offset


async def insert_tokens(table: str, tenant: Tenant, rows: int, kind: str) -> float:
    started = time.perf_counter()
    at = now()
    if kind == "postgres":
        conn = connections.get("default")
        if table == "invitation":
            args = [tenant.agency_id, tenant.client_id, at, rows]
            await conn.execute_query(_INSERT_INVITATIONS, args)
        else:
            await conn.execute_query(
                _INSERT_RESETS, [tenant.agency_id, tenant.account_id, at, rows]
            )
        # As autovacuum would have left rows that are days old: hint bits set, statistics fresh.
        await conn.execute_script(f"VACUUM ANALYZE {table}")
        return time.perf_counter() - started
    batch = 5000
    for first in range(1, rows + 1, batch):
        numbers = range(first, min(first + batch, rows + 1))
        if table == "invitation":
            await Invitation.bulk_create(
                [
                    Invitation(
                        agency_id=tenant.agency_id,
                        token_hash=f"inv{i:061d}",
                        kind=PortalAccountKind.CLIENT,
                        client_id=tenant.client_id,
                        email=f"r{i}@bench.test",
                        expires_at=expiry_of(i, at),
                        created_at=at - timedelta(days=8),
                    )
                    for i in numbers
                ]
            )
        else:
            await PasswordReset.bulk_create(
                [
                    PasswordReset(
                        agency_id=tenant.agency_id,
                        token_hash=f"pwr{i:061d}",
                        account_id=tenant.account_id,
                        expires_at=expiry_of(i, at),
                        created_at=at - timedelta(days=2),
                    )
                    for i in numbers
                ]
            )
    await connections.get("default").execute_script(f"ANALYZE {table}")
    return time.perf_counter() - started


async def explain(model: type[Invitation] | type[PasswordReset], kind: str) -> list[str]:
    """The plan of the statement the job runs (same filter and update, built by the ORM)."""
    at = now()
    sql = (
        model.filter(state=TokenState.ACTIVE, expires_at__lte=at)
        .update(state=TokenState.EXPIRED, finished_at=at)
        .sql(params_inline=True)
    )
    conn: BaseDBAsyncClient = connections.get("default")
    if kind == "postgres":
        _, rows = await conn.execute_query(f"EXPLAIN {sql}")
        return [str(row["QUERY PLAN"]) for row in rows]
    _, rows = await conn.execute_query(f"EXPLAIN QUERY PLAN {sql}")
    return [str(row["detail"]) for row in rows]


def uses_index(plan: list[str], indexes: dict[str, str]) -> bool:
    """Whether the plan reads any index whose definition covers expires_at."""
    text = "\n".join(plan)
    return any(name in text for name, sql in indexes.items() if "expires_at" in sql)


async def index_definitions(table: str, kind: str) -> dict[str, str]:
    conn = connections.get("default")
    if kind == "postgres":
        _, rows = await conn.execute_query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY 1", [table]
        )
        return {str(row["indexname"]): str(row["indexdef"]) for row in rows}
    _, rows = await conn.execute_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]
    )
    return {str(row["name"]): str(row["sql"]) for row in rows}


async def partial_index_experiment(
    table: str, model: type[Invitation] | type[PasswordReset], job: Job
) -> dict[str, Any]:
    """PostgreSQL only, on the bench's own database: the steady-state run (nothing to expire,
    every past row already EXPIRED) with an index on expires_at WHERE state = 'ACTIVE'."""
    name = f"bench_{table}_active_expires"
    conn = connections.get("default")
    await conn.execute_script(f"VACUUM ANALYZE {table}")
    plan_before = await explain(model, "postgres")
    started = time.perf_counter()
    await job({})
    before_s = time.perf_counter() - started
    await conn.execute_script(
        f"CREATE INDEX {name} ON {table} (expires_at) WHERE state = 'ACTIVE'; ANALYZE {table}"
    )
    plan_after = await explain(model, "postgres")
    started = time.perf_counter()
    expired = await job({})
    after_s = time.perf_counter() - started
    return {
        "what": "idle run (0 to expire) after VACUUM ANALYZE, without then with the index",
        "index": f"CREATE INDEX {name} ON {table} (expires_at) WHERE state = 'ACTIVE'",
        "without": {"seconds": round(before_s, 4), "plan": plan_before},
        "with": {"seconds": round(after_s, 4), "expired": expired, "plan": plan_after},
    }


async def run_expiry(table: str, tenant: Tenant, rows: int, kind: str) -> dict[str, Any]:
    model: type[Invitation] | type[PasswordReset]
    job: Job
    if table == "invitation":
        model, job = Invitation, expire_invitations
    else:
        model, job = PasswordReset, expire_password_resets
    inserted = await insert_tokens(table, tenant, rows, kind)
    plan_first = await explain(model, kind)
    started = time.perf_counter()
    first = await job({})
    first_s = time.perf_counter() - started
    plan_second = await explain(model, kind)
    started = time.perf_counter()
    second = await job({})
    second_s = time.perf_counter() - started
    indexes = await index_definitions(table, kind)
    result: dict[str, Any] = {
        "rows": rows,
        "insert_seconds": round(inserted, 3),
        "first_run": {"seconds": round(first_s, 4), "expired": first},
        "second_run": {"seconds": round(second_s, 4), "expired": second},
        "ok": first == rows // 2 and second == 0,
        "indexes": list(indexes.values()),
        "plan_first_run": plan_first,
        "plan_second_run": plan_second,
        "uses_expires_at_index": {
            "first_run": uses_index(plan_first, indexes),
            "second_run": uses_index(plan_second, indexes),
        },
    }
    if kind == "postgres":
        result["experiment_partial_index"] = await partial_index_experiment(table, model, job)
    return result


# --- the run ---------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    url: str = args.database_url
    kind = database_kind(url)
    load_at_start = round(os.getloadavg()[0], 2)
    await wipe(url, kind)
    await migrate(url)
    orm = await Tortoise.init(config=tortoise_config(url))
    mailbox = SmtpSink(in_thread=args.smtp_in_thread)
    await mailbox.start()
    try:
        tenant = await make_tenant()
        smtp = SmtpConfig(host=HOST, port=mailbox.port, sender=SENDER)
        redis = RedisSettings.from_dsn(args.redis_url)
        arq_result = await run_arq(
            tenant, mailbox, smtp, redis, args.messages, args.max_jobs, args.poll_delay
        )
        local_result = await run_in_process(tenant, mailbox, smtp, args.messages)
        backlog_arq = await run_backlog_arq(tenant, mailbox, smtp, redis, args.backlog)
        backlog_local = await run_backlog_in_process(tenant, mailbox, smtp, args.backlog)
        timing = await run_recovery_timing(tenant, mailbox, smtp, redis, args.recovery_samples)
        invitations = await run_expiry("invitation", tenant, args.rows, kind)
        resets = await run_expiry("password_reset", tenant, args.rows, kind)
    finally:
        await mailbox.stop()
        await orm.close_connections()

    full_size = args.messages == 1000 and args.rows == 100_000
    checks = {
        "outbox_arq": arq_result["ok"] and arq_result["seconds"] < TARGET_OUTBOX_SECONDS,
        "outbox_in_process": local_result["ok"] and local_result["seconds"] < TARGET_OUTBOX_SECONDS,
        "expiry_invitation": invitations["ok"]
        and invitations["first_run"]["seconds"] < TARGET_EXPIRY_SECONDS,
        "expiry_password_reset": resets["ok"]
        and resets["first_run"]["seconds"] < TARGET_EXPIRY_SECONDS,
    }
    return {
        "benchmark": "mail",
        "database": {"kind": kind, "url": redacted(url)},
        "redis_url": redacted(args.redis_url),
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_1m_at_start": load_at_start,
            "note": MACHINE_NOTE,
        },
        "targets": {
            "outbox_1000_messages_seconds": TARGET_OUTBOX_SECONDS,
            "expiry_100k_rows_seconds": TARGET_EXPIRY_SECONDS,
            "apply_to": "PostgreSQL, 1,000 messages, 100,000 rows",
            "applicable_to_this_run": kind == "postgres" and full_size,
        },
        "outbox": {
            "messages": args.messages,
            "smtp_server": f"aiosmtpd Controller on {HOST}, in a {mailbox.where}",
            "arq": arq_result,
            "in_process": local_result,
            "smtp_sessions_opened_in_all": pool_for(smtp).opened,
            "backlog_of_lost_jobs": {
                "messages": args.backlog,
                "how": "rows only, no jobs; the periodic sweep finds and enqueues them",
                "arq": backlog_arq,
                "in_process": backlog_local,
            },
        },
        "recovery_answer_timing": timing,
        "expiry": {"invitation": invitations, "password_reset": resets},
        "pass": {**checks, "all": all(checks.values())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backlog", type=int, default=BACKLOG_MESSAGES)
    parser.add_argument("--recovery-samples", type=int, default=RECOVERY_SAMPLES)
    parser.add_argument("--max-jobs", type=int, default=ARQ_MAX_JOBS)
    parser.add_argument("--poll-delay", type=float, default=ARQ_POLL_DELAY)
    parser.add_argument(
        "--smtp-in-thread",
        action="store_true",
        help="run the SMTP server in a thread of this process (shares the GIL)",
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args)), indent=2))


if __name__ == "__main__":
    main()
