"""The one path for mail: outbox row -> job -> real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from tortoise.transactions import in_transaction

from app.jobs import job_context
from app.settings import Settings
from emails.render import MailContext, MailKind, render
from models.enums import OutboxStatus
from models.mail import OutboxMessage
from resolvers import jobs, outbox
from resolvers.clock import now, set_clock
from tests.mailbox import Mailbox, SmtpServer
from workers.jobs import deliver_email, sweep_outbox

RunJobs = Callable[[], Awaitable[None]]


async def queued(to: str) -> str:
    mail = render(
        "Hello from {{ agency_name }}",
        "Please sign in.",
        MailContext("Acme", "https://l"),
        kind=MailKind.SELF_SERVICE,
    )
    async with in_transaction():
        message_id = await outbox.queue_mail(None, "test", to, mail)
    return str(message_id)


def ctx(settings: Settings) -> dict[str, Any]:
    return job_context(settings)


async def test_a_queued_message_is_delivered_after_commit(
    mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given
    message_id = await queued("a@example.test")
    # when
    await jobs.enqueue("deliver_email", message_id)
    await run_jobs()
    # then
    [received] = mailbox.to("a@example.test")
    assert received["Subject"] == "Hello from Acme"
    row = await OutboxMessage.get(id=message_id)
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1


async def test_a_delivery_job_run_twice_sends_once(mailbox: Mailbox, settings: Settings) -> None:
    message_id = await queued("twice@example.test")
    assert await deliver_email(ctx(settings), message_id) == "sent"
    assert await deliver_email(ctx(settings), message_id) == "skipped"
    assert len(mailbox.to("twice@example.test")) == 1


async def test_smtp_down_then_up_delivers_each_message_exactly_once(
    mailbox: Mailbox, smtp_server: SmtpServer, settings: Settings, run_jobs: RunJobs
) -> None:
    # given the mail server is down
    ids = [await queued(f"down{i}@example.test") for i in range(3)]
    smtp_server.stop()
    try:
        for message_id in ids:
            assert await deliver_email(ctx(settings), message_id) == "failed"
    finally:
        smtp_server.start()
    rows = await OutboxMessage.filter(id__in=ids)
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert all(r.attempts == 1 and r.last_error for r in rows)
    # when the sweep runs before the backoff: they are not due yet
    assert not {UUID(i) for i in ids} & set(await outbox.due_messages())
    # and after it they are
    later = now() + timedelta(minutes=5)
    set_clock(lambda: later)
    assert {UUID(i) for i in ids} <= set(await outbox.due_messages())
    await sweep_outbox(ctx(settings))
    await run_jobs()
    await sweep_outbox(ctx(settings))
    await run_jobs()
    # then
    for i in range(3):
        assert len(mailbox.to(f"down{i}@example.test")) == 1
    rows = await OutboxMessage.filter(id__in=ids)
    assert {r.status for r in rows} == {OutboxStatus.SENT}


async def test_a_message_held_by_a_live_lease_is_not_sent_again(
    mailbox: Mailbox, settings: Settings
) -> None:
    message_id = await queued("leased@example.test")
    claimed = await outbox.claim(UUID(message_id))
    assert claimed is not None
    assert await deliver_email(ctx(settings), message_id) == "skipped"
    assert mailbox.to("leased@example.test") == []


async def test_retries_back_off_and_then_give_up() -> None:
    assert outbox.backoff(1) == timedelta(seconds=30)
    assert outbox.backoff(2) == timedelta(minutes=1)
    assert outbox.backoff(20) == timedelta(hours=1)
    message_id = await queued("gives-up@example.test")
    row = await OutboxMessage.get(id=message_id)
    row.attempts = outbox.MAX_ATTEMPTS - 1
    assert await outbox.mark_failed(row, "451 try later", permanent=False) == OutboxStatus.FAILED
