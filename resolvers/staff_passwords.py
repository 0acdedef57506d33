"""Staff passwords set through a one-time e-mailed link.

A new staff member gets a link (createStaff); a manager may send a fresh one
(sendStaffPasswordLink); a staff member who forgot their password asks for one
(requestStaffPasswordReset), which answers the same whether or not they exist. Like the portal's
links: a 256-bit token stored as SHA-256, usable once, expiry enforced at use, a newer link
voids the older ones, and using it ends every session of the staff member. The e-mail goes to
the first address through the outbox; its wording is fixed (emails/wording.py) and says only
the agency's name, the link and how long it works.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, render_default
from models.agency import Agency
from models.enums import AuditOutcome, Permission, TokenState
from models.invitations import StaffPasswordLink
from models.staff import Staff
from resolvers import access, audit, jobs, password_links, ratelimit, validation
from resolvers.auth import normalize_email
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.outbox import queue_mail
from resolvers.principal import Caller
from resolvers.sessions import hash_token, new_token
from resolvers.tenancy import get_scoped

# How long a link works: a new member may not read mail at once; forgot-password is asked
# for by the person who will use it.
SET_PASSWORD_DAYS = 3
RESET_DAYS = 1
# requestStaffPasswordReset answers no sooner than this after it started, known or not, so
# the writing a real staff member needs (link, outbox row) does not show in the timing.
ANSWER_FLOOR_SECONDS = 0.3
_INPUT_MAX = 254
# Looked up when the agency does not exist, so both branches run the same staff query.
_NO_AGENCY = UUID(int=0)
_INVALID = UserError(
    ErrorCode.RESET_LINK_INVALID,
    "This password link is not valid. Ask your agency or use “Forgot password” for a new one.",
    "token",
)


@dataclass(frozen=True)
class SentLink:
    """A link sent to a staff member: who, and until when it works."""

    staff: Staff
    expires_at: datetime


def set_password_link(base_url: str, slug: str, token: str) -> str:
    # A fragment never reaches server logs or Referer headers.
    return f"{base_url.rstrip('/')}/staff/{slug}/set-password#token={token}"


async def issue(staff: Staff, base_url: str, *, forgotten: bool = False) -> tuple[UUID, datetime]:
    """Call inside the transaction that creates or locks the staff row: voids the older links,
    writes the new one and its e-mail. Returns the outbox message id (enqueue it after commit)
    and the expiry. A member who never set a password gets the welcome wording."""
    agency = await Agency.get(id=staff.agency_id)
    token, at = new_token(), now()
    days = RESET_DAYS if forgotten else SET_PASSWORD_DAYS
    kind = MailKind.STAFF_WELCOME if staff.password_hash is None else MailKind.STAFF_PASSWORD_RESET
    link = set_password_link(base_url, agency.slug, token)
    mail = render_default(MailContext(agency.name, link, days), kind)
    await StaffPasswordLink.filter(staff_id=staff.id, state=TokenState.ACTIVE).update(
        state=TokenState.SUPERSEDED, finished_at=at
    )
    row = await StaffPasswordLink.create(
        agency_id=staff.agency_id,
        token_hash=hash_token(token),
        staff_id=staff.id,
        created_at=at,
        expires_at=at + timedelta(days=days),
    )
    message_id = await queue_mail(staff.agency_id, kind.value, staff.email, mail)
    return message_id, row.expires_at


async def send_link(caller: Caller, staff_id: str, base_url: str) -> SentLink:
    """MANAGE_STAFF: a fresh link for a staff member of the agency who holds no permission the
    caller lacks; older links stop working."""
    principal = await access.staff_with(caller, Permission.MANAGE_STAFF, "sendStaffPasswordLink")
    staff = await get_scoped(Staff, principal.agency_id, staff_id)
    if staff is None:
        raise UserErrors([UserError(ErrorCode.NOT_FOUND, "No such staff member.", "staffId")])
    # A link to someone more privileged would let a manager sign in as them (after changing
    # their e-mail, or with access to their mailbox): FORBIDDEN, like updateStaff's refusals.
    await access.holds_all(caller, staff.permissions, "sendStaffPasswordLink")
    if not staff.is_active:
        message = "This staff member is inactive; reactivate them first."
        raise UserErrors([UserError(ErrorCode.INVALID, message, "staffId")])
    async with in_transaction():
        # The lock makes concurrent sends queue up, so only the newest link stays active.
        staff = await Staff.select_for_update().get(id=staff.id)
        message_id, expires_at = await issue(staff, base_url)
        await audit.record(caller, "staff.password_link.send", "Staff", staff.id)
    await jobs.enqueue("deliver_email", str(message_id))
    return SentLink(staff, expires_at)


# --- forgot password ---------------------------------------------------------------------------


async def request_reset(caller: Caller, base_url: str, agency_slug: str, email: str) -> None:
    """The same outcome, and no sooner, whether or not such a staff member exists."""
    started = time.monotonic()
    try:
        await _request_reset(caller, base_url, agency_slug, email)
    finally:
        await asyncio.sleep(max(0.0, ANSWER_FLOOR_SECONDS - (time.monotonic() - started)))


async def _request_reset(caller: Caller, base_url: str, agency_slug: str, email: str) -> None:
    c = Collector()
    values = {"agency_slug": agency_slug, "email": email}
    for key in values:
        validation.text(c, values, key, _INPUT_MAX, required=True)
    c.raise_if_any()
    slug, address = agency_slug.strip().lower(), normalize_email(email)
    await ratelimit.check_recovery_address(caller.ip)
    agency = await Agency.get_or_none(slug=slug)
    staff = await Staff.filter(
        agency_id=agency.id if agency else _NO_AGENCY, email=address, is_active=True
    ).first()
    signs_in_as = ratelimit.SignsInAs("staff", [address])
    may_mail = await ratelimit.recovery_may_mail(
        "staff-password", slug, address, caller.ip, signs_in_as
    )
    message_id = None
    async with in_transaction():
        if staff is not None and may_mail:
            staff = await Staff.select_for_update().get(id=staff.id)
            message_id, _ = await issue(staff, base_url, forgotten=True)
        await audit.record(
            caller,
            "staff.password_reset.request",
            "Staff",
            staff.id if staff else None,
            _reset_outcome(staff is not None, may_mail),
            agency_id=agency.id if agency else None,
        )
    if message_id is not None:
        await jobs.enqueue("deliver_email", str(message_id))


def _reset_outcome(found: bool, may_mail: bool) -> AuditOutcome:
    if not found:
        return AuditOutcome.FAILURE
    return AuditOutcome.SUCCESS if may_mail else AuditOutcome.DENIED


# --- using a link ------------------------------------------------------------------------------


async def reset_password(caller: Caller, token: str, new_password: str) -> None:
    await password_links.set_password(caller, password_links.STAFF_LINK, token, new_password)
