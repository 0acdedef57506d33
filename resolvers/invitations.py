"""Invitations: a registration link mailed to a client or a representative, and accepting it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, RenderedMail, render
from models.accounts import PortalAccount
from models.agency import Agency
from models.clients import Client, Representative
from models.enums import PortalAccountKind, TokenState
from models.invitations import Invitation
from models.settings import AgencyLogo, PortalSettings
from resolvers import audit, jobs
from resolvers.branding import portal_url
from resolvers.clock import now
from resolvers.errors import ErrorCode, UserError, UserErrors
from resolvers.outbox import queue_mail
from resolvers.passwords import hash_password, password_problem, verify_password
from resolvers.principal import Caller
from resolvers.sessions import (
    IssuedSession,
    Timeouts,
    hash_token,
    new_token,
    open_session,
    usable_link,
)
from resolvers.tenancy import get_scoped

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Every way a link can be unusable gets this one answer, so a stranger learns nothing.
_INVALID = UserError(
    ErrorCode.INVITATION_INVALID, "This invitation link is not valid. Ask for a new one.", "token"
)


def _refuse(code: ErrorCode, message: str, field: str) -> UserErrors:
    return UserErrors([UserError(code, message, field)])


class InvitationState(StrEnum):
    """What the registration page says about a link that really was sent."""

    VALID = "VALID"
    EXPIRED = "EXPIRED"
    USED = "USED"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"


@dataclass(frozen=True)
class InvitationView:
    """What the registration page may know: the agency's public face and the kind of account."""

    invitation: Invitation
    agency: Agency
    settings: PortalSettings
    logo: AgencyLogo | None
    state: InvitationState


async def invite_client(caller: Caller, client_id: str, base_url: str) -> Invitation:
    agency_id = _agency(caller)
    client = await get_scoped(Client, agency_id, client_id)
    if client is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such client.", "clientId")
    if await PortalAccount.exists(client_id=client.id, kind=PortalAccountKind.CLIENT):
        raise _refuse(
            ErrorCode.ALREADY_REGISTERED, "The client already has an account.", "clientId"
        )
    if not client.email:
        raise _refuse(ErrorCode.NO_EMAIL, "Add the client's e-mail address first.", "clientId")
    return await _issue(caller, PortalAccountKind.CLIENT, client.id, None, client.email, base_url)


async def invite_representative(
    caller: Caller, representative_id: str, base_url: str
) -> Invitation:
    agency_id = _agency(caller)
    rep = await get_scoped(Representative, agency_id, representative_id)
    if rep is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such representative.", "representativeId")
    if rep.account_id is not None:
        raise _refuse(
            ErrorCode.ALREADY_REGISTERED,
            "The representative already has an account.",
            "representativeId",
        )
    kind = PortalAccountKind.REPRESENTATIVE
    return await _issue(caller, kind, rep.client_id, rep.id, rep.email, base_url)


async def revoke_invitation(caller: Caller, invitation_id: str) -> Invitation:
    invitation = await get_scoped(Invitation, _agency(caller), invitation_id)
    if invitation is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such invitation.", "invitationId")
    await Invitation.filter(id=invitation.id, state=TokenState.ACTIVE).update(
        state=TokenState.REVOKED, finished_at=now()
    )
    await audit.record(caller, "invitation.revoke", "Invitation", invitation.id)
    await invitation.refresh_from_db()
    return invitation


def _agency(caller: Caller) -> UUID:
    assert caller.principal is not None
    return caller.principal.agency_id


def registration_link(base_url: str, slug: str, token: str) -> str:
    # A fragment never reaches server logs or Referer headers.
    return f"{portal_url(base_url, slug)}/register#token={token}"


async def _issue(
    caller: Caller,
    kind: PortalAccountKind,
    client_id: UUID,
    representative_id: UUID | None,
    email: str,
    base_url: str,
) -> Invitation:
    agency_id = _agency(caller)
    agency = await Agency.get(id=agency_id)
    settings = await PortalSettings.get(agency_id=agency_id)
    token, at = new_token(), now()
    mail = _render(
        settings,
        kind,
        MailContext(
            agency.name,
            registration_link(base_url, agency.slug, token),
            settings.invitation_expiry_days,
        ),
    )
    async with in_transaction():
        await _supersede(client_id, kind, representative_id)
        invitation = await Invitation.create(
            agency_id=agency_id,
            token_hash=hash_token(token),
            kind=kind,
            client_id=client_id,
            representative_id=representative_id,
            email=email,
            created_at=at,
            expires_at=at + timedelta(days=settings.invitation_expiry_days),
        )
        message_id = await queue_mail(agency_id, "invitation", email, mail)
        await audit.record(caller, "invitation.create", "Invitation", invitation.id)
    await jobs.enqueue("deliver_email", str(message_id))
    return invitation


async def _supersede(client_id: UUID, kind: PortalAccountKind, rep_id: UUID | None) -> None:
    """A new invitation replaces the old link: only the newest one works."""
    query = Invitation.filter(client_id=client_id, kind=kind, state=TokenState.ACTIVE)
    query = query.filter(representative_id=rep_id) if rep_id else query
    await query.update(state=TokenState.SUPERSEDED, finished_at=now())


def _render(
    settings: PortalSettings, kind: PortalAccountKind, context: MailContext
) -> RenderedMail:
    if kind == PortalAccountKind.CLIENT:
        subject, message = settings.client_invitation_subject, settings.client_invitation_message
        return render(subject, message, context, kind=MailKind.CLIENT_INVITATION)
    subject = settings.representative_invitation_subject
    message = settings.representative_invitation_message
    return render(subject, message, context, kind=MailKind.REPRESENTATIVE_INVITATION)


def invitation_state(invitation: Invitation) -> InvitationState:
    """Expiry is enforced here, at use, whatever the tidying job has marked yet."""
    if invitation.state == TokenState.ACTIVE:
        expired = invitation.expires_at <= now()
        return InvitationState.EXPIRED if expired else InvitationState.VALID
    return InvitationState(invitation.state.value)


async def invitation_view(token: str) -> InvitationView | None:
    """A link that was sent, usable or not (the page shows the agency and why it cannot be
    used); None for a token that was never issued, which looks like nothing at all."""
    invitation = await Invitation.get_or_none(token_hash=hash_token(token.strip()))
    if invitation is None:
        return None
    agency_id = invitation.agency_id
    return InvitationView(
        invitation,
        await Agency.get(id=agency_id),
        await PortalSettings.get(agency_id=agency_id),
        await AgencyLogo.get_or_none(agency_id=agency_id),
        invitation_state(invitation),
    )


async def accept_invitation(
    caller: Caller, timeouts: Timeouts, token: str, username: str, password: str
) -> IssuedSession:
    invitation = await usable_link(Invitation, token)
    if invitation is None:
        raise UserErrors([_INVALID])
    username = username.strip().lower()
    async with in_transaction():
        consumed = await Invitation.filter(id=invitation.id, state=TokenState.ACTIVE).update(
            state=TokenState.USED, finished_at=now()
        )
        if not consumed:
            raise UserErrors([_INVALID])
        account = await _account_for(invitation, username, password)
        if invitation.representative_id is not None:
            await Representative.filter(id=invitation.representative_id).update(
                account_id=account.id
            )
        await audit.record(
            caller,
            "invitation.accept",
            "Invitation",
            invitation.id,
            agency_id=invitation.agency_id,
            actor_id=account.id,
        )
    return await open_session(invitation.agency_id, timeouts, account_id=account.id, ip=caller.ip)


async def _account_for(invitation: Invitation, username: str, password: str) -> PortalAccount:
    """A new account; or, for a representative already registered for another client, the
    existing one (proved by its password), so one person needs one e-mail and one sign-in."""
    existing = await PortalAccount.get_or_none(agency_id=invitation.agency_id, username=username)
    if existing is not None:
        if _same_representative(existing, invitation) and verify_password(
            existing.password_hash, password
        ):
            return existing
        raise _refuse(ErrorCode.USERNAME_TAKEN, "That user name is taken.", "username")
    if not _USERNAME.match(username):
        raise _refuse(
            ErrorCode.INVALID_USERNAME,
            "Use 3 to 64 letters, digits, dots, dashes or underscores.",
            "username",
        )
    problem = password_problem(password, username)
    if problem:
        raise _refuse(ErrorCode.WEAK_PASSWORD, problem, "password")
    try:
        return await PortalAccount.create(
            agency_id=invitation.agency_id,
            kind=invitation.kind,
            username=username,
            email=invitation.email,
            password_hash=hash_password(password),
            client_id=invitation.client_id if invitation.kind == PortalAccountKind.CLIENT else None,
        )
    except IntegrityError as exc:
        raise _refuse(ErrorCode.USERNAME_TAKEN, "That user name is taken.", "username") from exc


def _same_representative(account: PortalAccount, invitation: Invitation) -> bool:
    return (
        account.kind == PortalAccountKind.REPRESENTATIVE
        and invitation.kind == PortalAccountKind.REPRESENTATIVE
        and account.email.lower() == invitation.email.lower()
    )
