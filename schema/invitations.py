"""Invitations (Client Portal Manager) and registration from an invitation link."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

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
    id: strawberry.ID = strawberry.field(description="Opaque id of the invitation.")
    kind: PortalAccountKind = strawberry.field(
        description="Whether it registers the client or a representative."
    )
    client_id: strawberry.ID = strawberry.field(
        description="The client (Client.id) it is for, or whom the representative represents."
    )
    representative_id: strawberry.ID | None = strawberry.field(
        description="The representative invited (Representative.id); null for a client's own."
    )
    email: str = strawberry.field(description="Where the invitation was sent.")
    state: TokenState = strawberry.field(
        description="Where the link is in its life; an ACTIVE one past expiresAt no longer works."
    )
    created_at: datetime = strawberry.field(description="When it was sent.")
    expires_at: datetime = strawberry.field(
        description="When the link stops working (InvitationSettings.invitationExpiryDays "
        "after it was sent)."
    )


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
    kind: PortalAccountKind | None = strawberry.field(
        default=None,
        description="The account it registers: CLIENT or REPRESENTATIVE; null for an unknown "
        "token.",
    )
    agency_name: str | None = strawberry.field(
        default=None, description="The agency's name; null for an unknown token."
    )
    agency_slug: str | None = strawberry.field(
        default=None,
        description="The agency's slug, for its sign-in page and portalLogin; null for an "
        "unknown token.",
    )
    logo_url: str | None = strawberry.field(
        default=None,
        description="Public URL of the agency's logo; null when it has none, or for an unknown "
        "token.",
    )
    color: str | None = strawberry.field(
        default=None,
        description="The agency's accent color, #RRGGBB; null for an unknown token.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the link stops (or stopped) working; null for an unknown token.",
    )


@strawberry.type(
    description="The answer to inviteClient, inviteRepresentative and revokeInvitation."
)
class InvitationPayload:
    invitation: Invitation | None = strawberry.field(
        description="The invitation as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused; empty on success. See the mutation for its codes."
    )


@strawberry.input(description="Whom to invite: a client.")
class InviteClientInput:
    client_id: strawberry.ID = strawberry.field(
        description="The client (Client.id); they need an e-mail address (NO_EMAIL)."
    )


@strawberry.input(description="Whom to invite: a representative.")
class InviteRepresentativeInput:
    representative_id: strawberry.ID = strawberry.field(
        description="The representative (Representative.id)."
    )


@strawberry.input(description="Which invitation to withdraw.")
class RevokeInvitationInput:
    invitation_id: strawberry.ID = strawberry.field(description="Invitation.id.")


@strawberry.input(description="Registration from an invitation link.")
class AcceptInvitationInput:
    token: str = strawberry.field(
        description="The token from the link's `#token=` (/portal/<slug>/register#token=...)."
    )
    username: str = strawberry.field(
        description="The user name to sign in with: 3 to 64 lowercase letters, digits, dots, "
        "dashes or underscores (lowercased first). A representative already registered for "
        "another client gives their existing user name."
    )
    password: str = strawberry.field(
        description="At least 12 characters (at most 128); common ones and ones containing the "
        "user name are refused. A representative already registered gives their existing "
        "password."
    )


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
    async def invitation(
        self,
        info: Info,
        token: Annotated[
            str,
            strawberry.argument(description="The token from the link's `#token=`."),
        ],
    ) -> InvitationInfo:
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
        description="E-mails the client a registration link (valid "
        "InvitationSettings.invitationExpiryDays); an older link for the same client stops "
        "working. MANAGE_PORTAL_ACCESS only. Errors: NOT_FOUND, ALREADY_REGISTERED, NO_EMAIL.",
    )
    async def invite_client(
        self,
        info: Info,
        input: Annotated[InviteClientInput, strawberry.argument(description="Whom to invite.")],
    ) -> InvitationPayload:
        base = info.context.settings.public_base_url
        return _payload(
            *await attempt(logic.invite_client(info.context.caller, input.client_id, base))
        )

    @strawberry.mutation(
        permission_classes=_ACCESS,
        description="E-mails the representative a registration link (valid "
        "InvitationSettings.invitationExpiryDays); an older link for the same person stops "
        "working. MANAGE_PORTAL_ACCESS only. Errors: NOT_FOUND, ALREADY_REGISTERED.",
    )
    async def invite_representative(
        self,
        info: Info,
        input: Annotated[
            InviteRepresentativeInput, strawberry.argument(description="Whom to invite.")
        ],
    ) -> InvitationPayload:
        base = info.context.settings.public_base_url
        work = logic.invite_representative(info.context.caller, input.representative_id, base)
        return _payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_ACCESS,
        description="Withdraws an invitation: its link stops working (state REVOKED). One that "
        "is already used, replaced or expired is returned unchanged. MANAGE_PORTAL_ACCESS only. "
        "Errors: NOT_FOUND.",
    )
    async def revoke_invitation(
        self,
        info: Info,
        input: Annotated[
            RevokeInvitationInput, strawberry.argument(description="Which invitation.")
        ],
    ) -> InvitationPayload:
        work = logic.revoke_invitation(info.context.caller, input.invitation_id)
        return _payload(*await attempt(work))

    @strawberry.mutation(
        description="Public: creates the portal account from a link and signs "
        "in. A representative already registered for another client signs in "
        "with their existing user name and password to add this client. A link works once. "
        "Errors: INVITATION_INVALID, USERNAME_TAKEN, INVALID_USERNAME, WEAK_PASSWORD."
    )
    async def accept_invitation(
        self,
        info: Info,
        input: Annotated[
            AcceptInvitationInput,
            strawberry.argument(description="The link's token and the new sign-in."),
        ],
    ) -> LoginPayload:
        ctx = info.context
        work = logic.accept_invitation(
            ctx.caller, timeouts(ctx.settings), input.token, input.username, input.password
        )
        return login_payload(*await attempt(work))
