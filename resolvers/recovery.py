"""User-name recovery and password reset for portal accounts.

A stranger learns nothing from the two requests: they answer the same whether or not the agency
or the account exists, and in about the same time. The request itself does the same work either
way (input checks, the rate-limit count, the agency and account look-ups, one audit row); the
writing only a real account needs (the reset row, the outbox row) runs in a background task
after the answer is decided, so the answer never waits on it. The task takes ids only.

A reset link is a 256-bit token stored as SHA-256, works once, is enforced to expire at use,
and a newer request voids the older links. Using it ends every session of the account.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any
from uuid import UUID

from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, render
from models.accounts import PortalAccount
from models.agency import Agency
from models.enums import AuditOutcome, TokenState
from models.invitations import PasswordReset
from models.settings import PortalSettings
from resolvers import audit, jobs, ratelimit, validation
from resolvers.auth import normalize_email, normalize_username
from resolvers.branding import portal_url
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.outbox import queue_mail
from resolvers.passwords import hash_password, password_problem
from resolvers.principal import Caller
from resolvers.sessions import ENDED, announce, hash_token, new_token, revoke_all, usable_link

log = logging.getLogger("portal.recovery")

# Looked up when the agency does not exist, so both branches run the same account query.
_NO_AGENCY = UUID(int=0)
_INPUT_MAX = 254
# Every way a link can be unusable gets this one answer.
_INVALID = UserError(
    ErrorCode.RESET_LINK_INVALID,
    "This password reset link is not valid. Ask for a new one.",
    "token",
)

_background: set[asyncio.Task[None]] = set()


def reset_link(base_url: str, slug: str, token: str) -> str:
    # A fragment never reaches server logs or Referer headers.
    return f"{portal_url(base_url, slug)}/reset-password#token={token}"


# --- background work ---------------------------------------------------------------------------


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def drain() -> None:
    """Waits for the mail started so far to be written and enqueued (tests, shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


async def _send_reset(agency_id: UUID, account_id: UUID, base_url: str) -> None:
    try:
        agency = await Agency.get(id=agency_id)
        settings = await PortalSettings.get(agency_id=agency_id)
        token, at = new_token(), now()
        days = settings.password_reset_expiry_days
        mail = render(
            settings.password_reset_subject,
            settings.password_reset_message,
            MailContext(agency.name, reset_link(base_url, agency.slug, token), days),
            kind=MailKind.PASSWORD_RESET,
        )
        async with in_transaction():
            # The lock makes concurrent requests queue up, so only the newest link stays active.
            account = await PortalAccount.select_for_update().get(id=account_id)
            await PasswordReset.filter(account_id=account.id, state=TokenState.ACTIVE).update(
                state=TokenState.SUPERSEDED, finished_at=at
            )
            await PasswordReset.create(
                agency_id=agency_id,
                token_hash=hash_token(token),
                account_id=account.id,
                created_at=at,
                expires_at=at + timedelta(days=days),
            )
            message_id = await queue_mail(agency_id, "password_reset", account.email, mail)
        await jobs.enqueue("deliver_email", str(message_id))
    except Exception:
        log.exception("password reset mail for account %s not written", account_id)


async def _send_usernames(agency_id: UUID, account_ids: list[UUID], base_url: str) -> None:
    try:
        agency = await Agency.get(id=agency_id)
        settings = await PortalSettings.get(agency_id=agency_id)
        link = portal_url(base_url, agency.slug)
        message_ids = []
        async with in_transaction():
            for account in await PortalAccount.filter(id__in=account_ids).order_by("username"):
                mail = render(
                    settings.username_recovery_subject,
                    settings.username_recovery_message,
                    MailContext(agency.name, link, username=account.username),
                    kind=MailKind.USERNAME_RECOVERY,
                )
                message_ids.append(
                    await queue_mail(agency_id, "username_recovery", account.email, mail)
                )
        for message_id in message_ids:
            await jobs.enqueue("deliver_email", str(message_id))
    except Exception:
        log.exception("user name recovery mail for agency %s not written", agency_id)


# --- requests ----------------------------------------------------------------------------------


def _check_input(values: dict[str, str]) -> None:
    c = Collector()
    for key in values:
        validation.text(c, values, key, _INPUT_MAX, required=True)
    c.raise_if_any()


async def _agency_id(slug: str) -> UUID | None:
    ids: list[UUID] = await Agency.filter(slug=slug).values_list("id", flat=True)  # type: ignore[assignment]
    return ids[0] if ids else None


async def request_password_reset(
    caller: Caller, base_url: str, agency_slug: str, username: str
) -> None:
    """The same outcome whether or not the account exists: None, or the same UserErrors."""
    _check_input({"agency_slug": agency_slug, "username": username})
    slug, name = agency_slug.strip().lower(), normalize_username(username)
    await ratelimit.check_recovery("password", slug, name, caller.ip)
    agency_id = await _agency_id(slug)
    account = await PortalAccount.filter(
        agency_id=agency_id or _NO_AGENCY, username=name, is_active=True
    ).first()
    await audit.record(
        caller,
        "password_reset.request",
        "PortalAccount",
        account.id if account else None,
        AuditOutcome.SUCCESS if account else AuditOutcome.FAILURE,
        agency_id=agency_id,
    )
    if account is not None:
        _spawn(_send_reset(account.agency_id, account.id, base_url))


async def request_username_recovery(
    caller: Caller, base_url: str, agency_slug: str, email: str
) -> None:
    """One e-mail per active account with that address (a client and a representative may
    share one); the same outcome whether or not there are any."""
    _check_input({"agency_slug": agency_slug, "email": email})
    slug, address = agency_slug.strip().lower(), normalize_email(email)
    await ratelimit.check_recovery("username", slug, address, caller.ip)
    agency_id = await _agency_id(slug)
    ids: list[UUID] = await PortalAccount.filter(  # type: ignore[assignment]
        agency_id=agency_id or _NO_AGENCY, email__iexact=address, is_active=True
    ).values_list("id", flat=True)
    await audit.record(
        caller,
        "username_recovery.request",
        "Agency",
        agency_id,
        AuditOutcome.SUCCESS if ids else AuditOutcome.FAILURE,
        agency_id=agency_id,
    )
    if agency_id is not None and ids:
        _spawn(_send_usernames(agency_id, list(ids), base_url))


# --- using a reset link ------------------------------------------------------------------------


async def _refuse_link(caller: Caller, agency_id: UUID | None = None) -> UserErrors:
    await ratelimit.reset_failed(caller.ip)
    await audit.record(
        caller, "password_reset.use", "PasswordReset", None, AuditOutcome.FAILURE, agency_id
    )
    return UserErrors([_INVALID])


async def reset_password(caller: Caller, token: str, new_password: str) -> None:
    await ratelimit.check_reset(caller.ip)
    reset = await usable_link(PasswordReset, token) if token.strip() else None
    account = None
    if reset is not None:
        account = await PortalAccount.get_or_none(id=reset.account_id, is_active=True)
    if reset is None or account is None:
        raise await _refuse_link(caller, reset.agency_id if reset else None)
    problem = password_problem(new_password, account.username)
    if problem:
        raise UserErrors([UserError(ErrorCode.WEAK_PASSWORD, problem, "newPassword")])
    password_hash = hash_password(new_password)
    if not await _consume(caller, reset, account, password_hash):
        raise await _refuse_link(caller, reset.agency_id)
    await announce(ENDED, account_id=account.id)


async def _consume(
    caller: Caller, reset: PasswordReset, account: PortalAccount, password_hash: str
) -> bool:
    """Uses the link once, even when two requests race for it; False if it was already gone."""
    at = now()
    async with in_transaction():
        consumed = await PasswordReset.filter(
            id=reset.id, state=TokenState.ACTIVE, expires_at__gt=at
        ).update(state=TokenState.USED, finished_at=at)
        if not consumed:
            return False
        await PasswordReset.filter(account_id=account.id, state=TokenState.ACTIVE).update(
            state=TokenState.REVOKED, finished_at=at
        )
        await PortalAccount.filter(id=account.id).update(password_hash=password_hash)
        await revoke_all(account_id=account.id)
        await audit.record(
            caller,
            "password_reset.use",
            "PortalAccount",
            account.id,
            agency_id=account.agency_id,
            actor_id=account.id,
        )
    return True
