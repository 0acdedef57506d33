"""The transactional outbox: a message row written with the change that caused it, then
delivered by a job after commit. Delivery claims a row with a lease, so two runs of the same
job send once.

`next_attempt_at` is when the sweep should next enqueue a message: a grace period after it was
written or last enqueued (the job enqueued after commit gets there first), or a failed attempt's
retry time (the retry is also scheduled as a deferred job, so it runs within seconds of it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from tortoise.expressions import Q

from emails.render import RenderedMail
from models.enums import OutboxStatus
from models.mail import OutboxMessage
from resolvers import jobs
from resolvers.clock import now

# Longer than one whole SMTP send (emails.smtp.SmtpConfig.timeout, 15 s) with a margin: a send
# that was interrupted (a killed worker) is retried this soon after it started.
LEASE = timedelta(seconds=45)
# How long an enqueued job has to claim its message before the sweep enqueues another.
SWEEP_GRACE = timedelta(seconds=60)
# One sweep enqueues up to SWEEP_BATCH * SWEEP_BATCHES messages (a backlog after an outage).
SWEEP_BATCH = 1000
SWEEP_BATCHES = 10
MAX_ATTEMPTS = 8
_FIRST_RETRY = timedelta(seconds=30)
_LONGEST_WAIT = timedelta(hours=1)


async def queue_mail(agency_id: UUID | None, kind: str, to: str, mail: RenderedMail) -> UUID:
    """Call inside the transaction of the change; enqueue `deliver_email` after it commits."""
    message = await OutboxMessage.create(
        agency_id=agency_id,
        kind=kind,
        to_address=to,
        subject=mail.subject,
        text_body=mail.text,
        html_body=mail.html,
        next_attempt_at=now() + SWEEP_GRACE,
    )
    return message.id


def _claimable(at: datetime) -> Q:
    return Q(status=OutboxStatus.PENDING) & (Q(locked_until__isnull=True) | Q(locked_until__lt=at))


async def claim(message_id: UUID) -> OutboxMessage | None:
    """Takes the lease on a pending message; None if it is sent, failed or leased elsewhere."""
    at = now()
    taken = await OutboxMessage.filter(_claimable(at), id=message_id).update(
        locked_until=at + LEASE
    )
    return await OutboxMessage.get(id=message_id) if taken else None


async def mark_sent(message: OutboxMessage) -> None:
    await OutboxMessage.filter(id=message.id).update(
        status=OutboxStatus.SENT,
        sent_at=now(),
        attempts=message.attempts + 1,
        locked_until=None,
        last_error=None,
    )


def backoff(attempts: int) -> timedelta:
    factor: int = 2 ** max(attempts - 1, 0)
    return min(_FIRST_RETRY * factor, _LONGEST_WAIT)


async def mark_failed(message: OutboxMessage, error: str, permanent: bool) -> OutboxStatus:
    """Records the attempt; a message worth retrying gets a job deferred to its retry time."""
    attempts = message.attempts + 1
    give_up = permanent or attempts >= MAX_ATTEMPTS
    status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
    wait = backoff(attempts)
    await OutboxMessage.filter(id=message.id).update(
        status=status,
        attempts=attempts,
        last_error=error[:1000],
        locked_until=None,
        next_attempt_at=now() + wait,
    )
    if status == OutboxStatus.PENDING:
        await jobs.enqueue("deliver_email", str(message.id), delay=wait)
    return status


async def due_messages(limit: int = SWEEP_BATCH) -> list[UUID]:
    """Pending messages whose next attempt is due and that nobody holds: the sweep's work."""
    at = now()
    ids = (
        await OutboxMessage.filter(_claimable(at), next_attempt_at__lte=at)
        .order_by("next_attempt_at")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return list(ids)  # type: ignore[arg-type]


async def take_due_messages(limit: int = SWEEP_BATCH) -> list[UUID]:
    """The due messages, each pushed a grace period ahead, so the next sweep does not enqueue
    them again while their jobs wait in a long queue (a job still claims them at once)."""
    ids = await due_messages(limit)
    if ids:
        await OutboxMessage.filter(id__in=ids).update(next_attempt_at=now() + SWEEP_GRACE)
    return ids
