"""Invitations (Client Portal Manager) and registration from an invitation link."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from app.context import Info, timeouts
from models.enums import PortalAccountKind, TokenState
from models.invitations import Invitation as InvitationRow
from resolvers import branding
from resolvers import invitations as logic
from schema.auth import LoginPayload, login_payload
from schema.common import UserError, attempt, expose, gid
from schema.permissions import CanManagePortalAccess

expose(TokenState, "Where an invitation link is in its life.")


@strawberry.type(
    description="A registration invitation as staff see it; the link itself is only "
    "ever in the e-mail."
)
class Invitation:
    id: strawberry.ID
    kind: PortalAccountKind
    client_id: strawberry.ID
    representative_id: strawberry.ID | None
    email: str = strawberry.field(description="Where the invitation was sent.")
    state: TokenState
    created_at: datetime
    expires_at: datetime


@strawberry.enum(description="Whether an invitation link that was really sent can be used.")
class InvitationState(Enum):
    VALID = strawberry.enum_value(
        logic.InvitationState.VALID.value, description="The person may register with it now."
    )
    EXPIRED = strawberry.enum_value(
        logic.InvitationState.EXPIRED.value,
        description="Its time ran out: ask your agency for a new invitation.",
    )
    USED = strawberry.enum_value(
        logic.InvitationState.USED.value,
        description="Someone already registered with it: sign in, or ask your agency for a new "
        "invitation.",
    )
    REVOKED = strawberry.enum_value(
        logic.InvitationState.REVOKED.value,
        description="The agency withdrew it: ask your agency for a new invitation.",
    )
    SUPERSEDED = strawberry.enum_value(
        logic.InvitationState.SUPERSEDED.value,
        description="A newer invitation was sent to the same person: use the link in the latest "
        "e-mail, or ask your agency for a new invitation.",
    )


@strawberry.type(
    description="What the registration page shows for a link: for a link that was sent, the "
    "agency's branding, the kind of account and whether it can still be used (`state`); for an "
    "unknown token only `valid: false` with every other field null."
)
class InvitationInfo:
    valid: bool = strawberry.field(description="True only when `state` is VALID.")
    state: InvitationState | None = strawberry.field(
        default=None, description="Null for a token that was never issued."
    )
    kind: PortalAccountKind | None = None
    agency_name: str | None = None
    agency_slug: str | None = None
    logo_url: str | None = None
    color: str | None = None
    expires_at: datetime | None = None


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None
    errors: list[UserError]


@strawberry.input
class InviteClientInput:
    client_id: strawberry.ID


@strawberry.input
class InviteRepresentativeInput:
    representative_id: strawberry.ID


@strawberry.input
class RevokeInvitationInput:
    invitation_id: strawberry.ID


@strawberry.input
class AcceptInvitationInput:
    token: str
    username: str
    password: str = strawberry.field(description="At least 12 characters; common ones refused.")


def to_invitation(row: InvitationRow) -> Invitation:
    return Invitation(
        id=gid(row.id),
        kind=row.kind,
        client_id=gid(row.client_id),
        representative_id=gid(row.representative_id) if row.representative_id else None,
        email=row.email,
        state=row.state,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _payload(row: InvitationRow | None, errors: list[UserError]) -> InvitationPayload:
    return InvitationPayload(invitation=to_invitation(row) if row else None, errors=errors)


_ACCESS = [CanManagePortalAccess]


@strawberry.type
class Query:
    @strawberry.field(
        description="Public: what the registration page needs for a link: the agency's "
        "branding and whether the link can be used (an expired, used, revoked or replaced link "
        "says so); an unknown token answers `valid: false` and nothing else."
    )
    async def invitation(self, info: Info, token: str) -> InvitationInfo:
        view = await logic.invitation_view(token)
        if view is None:
            return InvitationInfo(valid=False)
        base = info.context.settings.public_base_url
        return InvitationInfo(
            valid=view.state == logic.InvitationState.VALID,
            state=InvitationState(view.state.value),
            kind=view.invitation.kind,
            agency_name=view.agency.name,
            agency_slug=view.agency.slug,
            color=view.settings.color,
            logo_url=branding.logo_url(base, view.agency.slug, view.logo),
            expires_at=view.invitation.expires_at,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_ACCESS,
        description="E-mails the client a "
        "registration link; an older link for the same client stops working.",
    )
    async def invite_client(self, info: Info, input: InviteClientInput) -> InvitationPayload:
        base = info.context.settings.public_base_url
        return _payload(
            *await attempt(logic.invite_client(info.context.caller, input.client_id, base))
        )

    @strawberry.mutation(
        permission_classes=_ACCESS,
        description="E-mails the representative a "
        "registration link; an older link for the same person stops working.",
    )
    async def invite_representative(
        self, info: Info, input: InviteRepresentativeInput
    ) -> InvitationPayload:
        base = info.context.settings.public_base_url
        work = logic.invite_representative(info.context.caller, input.representative_id, base)
        return _payload(*await attempt(work))

    @strawberry.mutation(permission_classes=_ACCESS)
    async def revoke_invitation(
        self, info: Info, input: RevokeInvitationInput
    ) -> InvitationPayload:
        work = logic.revoke_invitation(info.context.caller, input.invitation_id)
        return _payload(*await attempt(work))

    @strawberry.mutation(
        description="Public: creates the portal account from a link and signs "
        "in. A representative already registered for another client signs in "
        "with their existing user name and password to add this client."
    )
    async def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> LoginPayload:
        ctx = info.context
        work = logic.accept_invitation(
            ctx.caller, timeouts(ctx.settings), input.token, input.username, input.password
        )
        return login_payload(*await attempt(work))
