"""Signing in and out. Failures look the same whether the agency or person exists or not."""

from __future__ import annotations

from models.accounts import PortalAccount
from models.agency import Agency
from models.enums import AuditOutcome
from models.staff import Staff
from resolvers import audit, ratelimit
from resolvers.errors import ErrorCode, UserError, UserErrors
from resolvers.passwords import verify_password
from resolvers.principal import Caller
from resolvers.sessions import IssuedSession, Timeouts, open_session, revoke

_BAD_LOGIN = UserError(ErrorCode.INVALID_CREDENTIALS, "The sign-in details are not correct.")


async def staff_login(
    caller: Caller, timeouts: Timeouts, agency_slug: str, email: str, password: str
) -> IssuedSession:
    slug, who = agency_slug.strip().lower(), normalize_email(email)
    await _check_limits(caller, "staff", slug, who)
    agency = await Agency.get_or_none(slug=slug)
    staff = None
    if agency is not None:
        staff = await Staff.get_or_none(
            agency_id=agency.id, email=normalize_email(email), is_active=True
        )
    if not verify_password(staff.password_hash if staff else None, password) or staff is None:
        await audit.record(
            caller,
            "staff.login",
            "Staff",
            staff.id if staff else None,
            AuditOutcome.FAILURE,
            agency_id=agency.id if agency else None,
        )
        await ratelimit.login_failed("staff", slug, who, caller.ip)
        raise UserErrors([_BAD_LOGIN])
    issued = await open_session(staff.agency_id, timeouts, staff_id=staff.id, ip=caller.ip)
    await audit.record(
        caller,
        "staff.login",
        "Staff",
        staff.id,
        agency_id=staff.agency_id,
        actor_id=staff.id,
    )
    return issued


async def portal_login(
    caller: Caller, timeouts: Timeouts, agency_slug: str, username: str, password: str
) -> IssuedSession:
    slug, who = agency_slug.strip().lower(), normalize_username(username)
    await _check_limits(caller, "portal", slug, who)
    agency = await Agency.get_or_none(slug=slug)
    account = None
    if agency is not None:
        account = await PortalAccount.get_or_none(
            agency_id=agency.id, username=normalize_username(username), is_active=True
        )
    if not verify_password(account.password_hash if account else None, password) or not account:
        await audit.record(
            caller,
            "portal.login",
            "PortalAccount",
            account.id if account else None,
            AuditOutcome.FAILURE,
            agency_id=agency.id if agency else None,
        )
        await ratelimit.login_failed("portal", slug, who, caller.ip)
        raise UserErrors([_BAD_LOGIN])
    agency_id = account.agency_id
    issued = await open_session(agency_id, timeouts, account_id=account.id, ip=caller.ip)
    await audit.record(
        caller,
        "portal.login",
        "PortalAccount",
        account.id,
        agency_id=agency_id,
        actor_id=account.id,
    )
    return issued


async def _check_limits(caller: Caller, kind: str, slug: str, who: str) -> None:
    """Refuses before the password is checked once failures have spent a limit (and audits it)."""
    try:
        await ratelimit.check_login(kind, slug, who, caller.ip)
    except UserErrors:
        await audit.record(caller, f"{kind}.login", None, None, AuditOutcome.DENIED)
        raise


async def logout(caller: Caller) -> None:
    if caller.principal is not None:
        await revoke(caller.principal.session_id)
        await audit.record(caller, "logout", "Session", caller.principal.session_id)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_username(username: str) -> str:
    return username.strip().lower()
