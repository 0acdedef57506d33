"""Signing in and out. Failures look the same whether the agency or person exists or not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from models.accounts import PortalAccount
from models.agency import Agency
from models.enums import AuditOutcome
from models.staff import Staff
from resolvers import audit, devices, ratelimit
from resolvers.errors import ErrorCode, UserError, UserErrors
from resolvers.passwords import verify_password
from resolvers.principal import Caller
from resolvers.sessions import IssuedSession, Timeouts, open_session, revoke

_BAD_LOGIN = UserError(ErrorCode.INVALID_CREDENTIALS, "The sign-in details are not correct.")


@dataclass(frozen=True)
class _Door:
    """What differs between staff and portal sign-in; the procedure is one."""

    kind: str
    object_type: str
    lookup: Callable[[UUID, str], Awaitable[Staff | PortalAccount | None]]


async def _find_staff(agency_id: UUID, email: str) -> Staff | None:
    return await Staff.get_or_none(agency_id=agency_id, email=email, is_active=True)


async def _find_account(agency_id: UUID, username: str) -> PortalAccount | None:
    return await PortalAccount.get_or_none(agency_id=agency_id, username=username, is_active=True)


_STAFF = _Door("staff", "Staff", _find_staff)
_PORTAL = _Door("portal", "PortalAccount", _find_account)


@dataclass(frozen=True)
class SignedIn:
    """A new session, and a device token for the app to keep and send with its next sign-in."""

    session: IssuedSession
    device_token: str


async def staff_login(
    caller: Caller,
    timeouts: Timeouts,
    agency_slug: str,
    email: str,
    password: str,
    device_token: str | None = None,
) -> SignedIn:
    who = normalize_email(email)
    return await _login(caller, timeouts, _STAFF, agency_slug, who, password, device_token)


async def portal_login(
    caller: Caller,
    timeouts: Timeouts,
    agency_slug: str,
    username: str,
    password: str,
    device_token: str | None = None,
) -> SignedIn:
    who = normalize_username(username)
    return await _login(caller, timeouts, _PORTAL, agency_slug, who, password, device_token)


async def _login(
    caller: Caller,
    timeouts: Timeouts,
    door: _Door,
    agency_slug: str,
    who: str,
    password: str,
    device_token: str | None,
) -> SignedIn:
    slug, action = agency_slug.strip().lower(), f"{door.kind}.login"
    agency = await Agency.get_or_none(slug=slug)
    person = await door.lookup(agency.id, who) if agency else None
    device_id = ratelimit.known_device(_subject(door, person), device_token) if person else None
    attempt = await ratelimit.login_attempt(door.kind, slug, who, caller.ip, device_id)
    await _check_limits(caller, attempt)
    # The password is checked (against a dummy hash) even when nobody matched: same time.
    if not verify_password(person.password_hash if person else None, password) or not person:
        await audit.record(
            caller,
            action,
            door.object_type,
            person.id if person else None,
            AuditOutcome.FAILURE,
            agency_id=agency.id if agency else None,
        )
        await ratelimit.login_failed(attempt)
        raise UserErrors([_BAD_LOGIN])
    who_signed_in = {"staff_id": person.id} if door is _STAFF else {"account_id": person.id}
    issued = await open_session(person.agency_id, timeouts, ip=caller.ip, **who_signed_in)
    await ratelimit.login_succeeded(attempt)
    await audit.record(
        caller,
        action,
        door.object_type,
        person.id,
        agency_id=person.agency_id,
        actor_id=person.id,
    )
    return SignedIn(issued, ratelimit.device_token(_subject(door, person), device_id))


def _subject(door: _Door, person: Staff | PortalAccount) -> devices.Subject:
    return devices.Subject(door.kind, person.agency_id, person.id, person.password_hash or "")


async def _check_limits(caller: Caller, attempt: ratelimit.LoginAttempt) -> None:
    """Refuses before the password is checked once failures have spent a limit (and audits it)."""
    try:
        await ratelimit.check_login(attempt)
    except UserErrors:
        await audit.record(caller, f"{attempt.kind}.login", None, None, AuditOutcome.DENIED)
        raise


async def logout(caller: Caller) -> None:
    if caller.principal is not None:
        await revoke(caller.principal.session_id)
        await audit.record(caller, "logout", "Session", caller.principal.session_id)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_username(username: str) -> str:
    return username.strip().lower()
