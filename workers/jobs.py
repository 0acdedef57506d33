"""Job functions: plain `async def job(ctx, ...)`, idempotent, taking ids only.

The embedded default runs these same functions in-process; `portal worker` runs them on arq.
ctx["smtp"] is an SmtpConfig, or None for the development mode that logs mail instead;
ctx["base_url"] is the public base URL links point at.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from emails.render import RenderedMail
from emails.smtp import PermanentMailError, SmtpConfig, TransientMailError, build_message, send
from models.enums import TokenState
from models.invitations import Invitation, PasswordReset
from models.mail import OutboxMessage
from resolvers import forms, jobs, outbox, recovery, scheduling
from resolvers.clock import now

log = logging.getLogger("portal.worker")


async def ping(ctx: dict[str, Any]) -> str:
    """Proves a worker is consuming the queue."""
    return "pong"


async def deliver_email(ctx: dict[str, Any], message_id: str) -> str:
    smtp: SmtpConfig | None = ctx.get("smtp")
    if smtp is None and ctx.get("production"):
        # Never "log instead of send" in production: the message stays pending, unclaimed.
        log.error("message %s not sent: SMTP is not configured", message_id)
        return "not sent"
    message = await outbox.claim(UUID(message_id))
    if message is None:
        return "skipped"
    if smtp is None:
        # Development only (production requires SMTP_HOST): show the developer the link.
        log.info(
            "mail not sent (no SMTP_HOST) to=%s subject=%r\n%s",
            message.to_address,
            message.subject,
            message.text_body,
        )
        await outbox.mark_sent(message)
        return "logged"
    mail = build_message(smtp.sender, message.to_address, _as_rendered(message), _msgid(message))
    try:
        await send(smtp, mail)
    except (TransientMailError, PermanentMailError) as exc:
        status = await outbox.mark_failed(message, str(exc), isinstance(exc, PermanentMailError))
        log.warning("delivery of %s failed (%s): %s", message.id, status, exc)
        return "failed"
    await outbox.mark_sent(message)
    return "sent"


def _as_rendered(message: OutboxMessage) -> RenderedMail:
    return RenderedMail(message.subject, message.text_body, message.html_body)


def _msgid(message: OutboxMessage) -> str:
    return f"<{message.id}@client-portal>"


async def process_recovery(ctx: dict[str, Any], request_id: str) -> int:
    """Turns a password-reset or user-name-recovery request into outbox mail."""
    return await recovery.process_request(UUID(request_id), ctx["base_url"])


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Re-enqueues work whose job was lost: pending messages that are due and held by nobody,
    and recovery requests no job finished (a crash right after the answer, Redis away)."""
    requests = await recovery.pending_requests()
    for request_id in requests:
        await jobs.enqueue("process_recovery", str(request_id))
    messages = 0
    for _ in range(outbox.SWEEP_BATCHES):
        due = await outbox.take_due_messages()
        for message_id in due:
            await jobs.enqueue("deliver_email", str(message_id))
        messages += len(due)
        if len(due) < outbox.SWEEP_BATCH:
            break
    if messages or requests:
        log.info("sweep re-enqueued %d message(s), %d request(s)", messages, len(requests))
    return messages + len(requests)


async def expire_invitations(ctx: dict[str, Any]) -> int:
    return await _expire(Invitation, "invitation(s)")


async def expire_password_resets(ctx: dict[str, Any]) -> int:
    return await _expire(PasswordReset, "password reset link(s)")


async def _expire(model: type[Invitation] | type[PasswordReset], what: str) -> int:
    """One set-based statement. Tidies up and reports: expiry is enforced when a link is
    used, not by these jobs."""
    at = now()
    count: int = await model.filter(state=TokenState.ACTIVE, expires_at__lte=at).update(
        state=TokenState.EXPIRED, finished_at=at
    )
    log.info("expired %d %s", count, what)
    return count


async def expire_appointment_requests(ctx: dict[str, Any]) -> int:
    """Pending requests whose time has come: EXPIRED, their slots released (set-based)."""
    count = await scheduling.expire_requests(ctx["base_url"])
    log.info("expired %d appointment request(s)", count)
    return count


async def expire_form_links(ctx: dict[str, Any]) -> int:
    count = await forms.expire_links()
    log.info("expired %d form link(s)", count)
    return count


FUNCTIONS = {
    f.__name__: f
    for f in (
        ping,
        deliver_email,
        process_recovery,
        sweep_outbox,
        expire_invitations,
        expire_password_resets,
        expire_appointment_requests,
        expire_form_links,
    )
}
