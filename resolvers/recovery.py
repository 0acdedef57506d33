"""User-name recovery and password reset for portal accounts.

A stranger learns nothing from the two requests: they answer the same whether or not the agency
or the account exists, and in about the same time. The request does the same work either way
(input checks, the rate-limit count, the agency and account look-ups, and one transaction
holding an audit row and a `RecoveryRequest` row with the ids found, none for an unknown
account), then enqueues `process_recovery`. So the request is durable before the answer: a
crash after it loses no e-mail, the job (or the outbox sweep, for a lost job) writes the reset
link and the outbox rows later and deletes the request in the same transaction.

A reset link is a 256-bit token stored as SHA-256, works once, is enforced to expire at use,
and a newer request voids the older links. Using it ends every session of the account.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, render
from models.accounts import PortalAccount
from models.agency import Agency
from models.enums import AuditOutcome, TokenState
from models.invitations import PasswordReset
from models.mail import RecoveryRequest
from models.settings import PortalSettings
from resolvers import audit, jobs, password_links, ratelimit, validation
from resolvers.auth import normalize_email, normalize_username
from resolvers.branding import portal_url
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode, UserError
from resolvers.outbox import queue_mail
from resolvers.principal import Caller
from resolvers.sessions import hash_token, new_token

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
RESET_REQUEST = "password_reset"
USERNAME_REQUEST = "username_recovery"
# A request whose mail could not be written this many times is left for a person to look at.
MAX_ATTEMPTS = 5


def reset_link(base_url: str, slug: str, token: str) -> str:
    # A fragment never reaches server logs or Referer headers.
    return f"{portal_url(base_url, slug)}/reset-password#token={token}"


# --- turning a request into mail (the process_recovery job) ---------------------------------


async def _write_reset(agency: Agency, account_ids: list[UUID], base_url: str) -> list[UUID]:
    settings = await PortalSettings.get(agency_id=agency.id)
    token, at = new_token(), now()
    days = settings.password_reset_expiry_days
    mail = render(
        settings.password_reset_subject,
        settings.password_reset_message,
        MailContext(agency.name, reset_link(base_url, agency.slug, token), days),
        kind=MailKind.PASSWORD_RESET,
    )
    # The lock makes concurrent requests queue up, so only the newest link stays active.
    account = await PortalAccount.select_for_update().get_or_none(
        id__in=account_ids, is_active=True
    )
    if account is None:
        return []
    await PasswordReset.filter(account_id=account.id, state=TokenState.ACTIVE).update(
        state=TokenState.SUPERSEDED, finished_at=at
    )
    await PasswordReset.create(
        agency_id=agency.id,
        token_hash=hash_token(token),
        account_id=account.id,
        created_at=at,
        expires_at=at + timedelta(days=days),
    )
    return [await queue_mail(agency.id, RESET_REQUEST, account.email, mail)]


async def _write_usernames(agency: Agency, account_ids: list[UUID], base_url: str) -> list[UUID]:
    settings = await PortalSettings.get(agency_id=agency.id)
    link = portal_url(base_url, agency.slug)
    accounts = PortalAccount.filter(id__in=account_ids, is_active=True).order_by("username")
    message_ids = []
    for account in await accounts:
        mail = render(
            settings.username_recovery_subject,
            settings.username_recovery_message,
            MailContext(agency.name, link, username=account.username),
            kind=MailKind.USERNAME_RECOVERY,
        )
        message_ids.append(await queue_mail(agency.id, USERNAME_REQUEST, account.email, mail))
    return message_ids


_Writer = Callable[[Agency, list[UUID], str], Awaitable[list[UUID]]]
_WRITERS: dict[str, _Writer] = {
    RESET_REQUEST: _write_reset,
    USERNAME_REQUEST: _write_usernames,
}


async def process_request(request_id: UUID, base_url: str) -> int:
    """Writes the request's e-mails into the outbox and deletes it, in one transaction, then
    enqueues their delivery. Returns how many were written; a request already processed (a
    job that ran twice) writes none."""
    try:
        async with in_transaction():
            request = await RecoveryRequest.select_for_update().get_or_none(id=request_id)
            if request is None:
                return 0
            message_ids = await _write_mail(request, base_url)
            await request.delete()
    except Exception:
        # Left in place for the sweep to try again, a bounded number of times.
        await RecoveryRequest.filter(id=request_id).update(attempts=F("attempts") + 1)
        raise
    for message_id in message_ids:
        await jobs.enqueue("deliver_email", str(message_id))
    return len(message_ids)


async def _write_mail(request: RecoveryRequest, base_url: str) -> list[UUID]:
    agency = await Agency.get_or_none(id=request.agency_id) if request.agency_id else None
    if agency is None or not request.account_ids:
        return []
    ids = [UUID(i) for i in request.account_ids]
    return await _WRITERS[request.kind](agency, ids, base_url)


async def pending_requests(limit: int = 500) -> list[UUID]:
    """Requests no job has finished (a crash, a lost job): the outbox sweep's work."""
    ids = (
        await RecoveryRequest.filter(attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return list(ids)  # type: ignore[arg-type]


async def _record_request(
    caller: Caller,
    kind: str,
    agency_id: UUID | None,
    account_ids: list[UUID],
    audited: tuple[str, str, UUID | None],
    may_mail: bool,
) -> None:
    """The same writes and the same enqueue for a known and an unknown account, and for one
    whose mail allowance is spent (its request names no account: no mail, DENIED in the audit)."""
    action, target_type, target_id = audited
    outcome = AuditOutcome.SUCCESS if account_ids else AuditOutcome.FAILURE
    if account_ids and not may_mail:
        outcome, account_ids = AuditOutcome.DENIED, []
    async with in_transaction():
        await audit.record(caller, action, target_type, target_id, outcome, agency_id=agency_id)
        request = await RecoveryRequest.create(
            kind=kind, agency_id=agency_id, account_ids=[str(i) for i in account_ids]
        )
    await jobs.enqueue("process_recovery", str(request.id))


# --- requests ----------------------------------------------------------------------------------


def _check_input(values: dict[str, str]) -> None:
    c = Collector()
    for key in values:
        validation.text(c, values, key, _INPUT_MAX, required=True)
    c.raise_if_any()


async def _agency_id(slug: str) -> UUID | None:
    ids: list[UUID] = await Agency.filter(slug=slug).values_list("id", flat=True)  # type: ignore[assignment]
    return ids[0] if ids else None


async def request_password_reset(caller: Caller, agency_slug: str, username: str) -> None:
    """The same outcome whether or not the account exists: None, or the same UserErrors."""
    _check_input({"agency_slug": agency_slug, "username": username})
    slug, name = agency_slug.strip().lower(), normalize_username(username)
    await ratelimit.check_recovery_address(caller.ip)
    agency_id = await _agency_id(slug)
    ids: list[UUID] = await PortalAccount.filter(  # type: ignore[assignment]
        agency_id=agency_id or _NO_AGENCY, username=name, is_active=True
    ).values_list("id", flat=True)
    signs_in_as = ratelimit.SignsInAs("portal", [name])
    may_mail = await ratelimit.recovery_may_mail("password", slug, name, caller.ip, signs_in_as)
    account_id = ids[0] if ids else None
    audited = ("password_reset.request", "PortalAccount", account_id)
    await _record_request(caller, RESET_REQUEST, agency_id, ids[:1], audited, may_mail)


async def request_username_recovery(caller: Caller, agency_slug: str, email: str) -> None:
    """One e-mail per active account with that address (a client and a representative may
    share one); the same outcome whether or not there are any."""
    _check_input({"agency_slug": agency_slug, "email": email})
    slug, address = agency_slug.strip().lower(), normalize_email(email)
    await ratelimit.check_recovery_address(caller.ip)
    agency_id = await _agency_id(slug)
    found: list[tuple[UUID, str]] = await PortalAccount.filter(
        agency_id=agency_id or _NO_AGENCY, email__iexact=address, is_active=True
    ).values_list("id", "username")
    ids = [account_id for account_id, _ in found]
    # Someone who forgot their user name may still sign in from a device that remembers it.
    signs_in_as = ratelimit.SignsInAs("portal", [username for _, username in found])
    may_mail = await ratelimit.recovery_may_mail("username", slug, address, caller.ip, signs_in_as)
    audited = ("username_recovery.request", "Agency", agency_id)
    await _record_request(caller, USERNAME_REQUEST, agency_id, ids, audited, may_mail)


# --- using a reset link ------------------------------------------------------------------------


async def reset_password(caller: Caller, token: str, new_password: str) -> None:
    await password_links.set_password(caller, password_links.PORTAL_RESET, token, new_password)
