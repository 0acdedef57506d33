"""Signing in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.context import Info, timeouts
from models.enums import Permission, PortalAccountKind
from resolvers import auth
from resolvers.sessions import IssuedSession
from schema.common import UserError, attempt, gid
from schema.permissions import SignedIn


@strawberry.type(description="A bearer token for the Authorization header, and when it lapses.")
class SessionToken:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime = strawberry.field(
        description="When the session lapses if unused. Each use extends it, up to its "
        "absolute limit."
    )


_DEVICE_HELP = (
    "The `deviceToken` this app received from its last successful sign-in to this account, "
    "if it has one. With a valid token, other people's failed attempts (from other addresses, "
    "or from an address this device shares) do not refuse this device: its own failures have "
    "their own limit (10 in 15 minutes, 100 a day). A token of another account or agency, or "
    "an expired or unknown one, is ignored. Optional."
)


@strawberry.type(description="The answer to a sign-in.")
class LoginPayload:
    session: SessionToken | None = strawberry.field(
        description="The new session; null when the sign-in was refused (see errors)."
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="Proof that this device has signed in to this account: store it (replacing "
        "any older one) and send it back as `deviceToken` in the next staffLogin/portalLogin "
        "input for the same account. Valid for 90 days after this sign-in; a password change "
        "retires it. Null when the sign-in was refused, and from acceptInvitation.",
    )
    errors: list[UserError] = strawberry.field(
        description="Why the sign-in was refused. staffLogin/portalLogin: INVALID_CREDENTIALS "
        "(wrong agency, name or password, never told apart) or RATE_LIMITED (too many failures; "
        "the message says when to try again). acceptInvitation: see there."
    )


@strawberry.type(description="The answer to logout.")
class LogoutPayload:
    ok: bool = strawberry.field(
        description="Always true: the session is over (or there was none to end)."
    )
    errors: list[UserError] = strawberry.field(description="Always empty.")


_SLUG_HELP = (
    "The agency's short name from its portal address (/portal/<slug>); case and surrounding "
    "blanks are ignored."
)


@strawberry.input(description="A staff member signing in.")
class StaffLoginInput:
    agency_slug: str = strawberry.field(description=_SLUG_HELP)
    email: str = strawberry.field(
        description="The staff member's first e-mail address, their sign-in name; case and "
        "surrounding blanks are ignored."
    )
    password: str = strawberry.field(description="The staff member's password.")
    device_token: str | None = strawberry.field(default=None, description=_DEVICE_HELP)


@strawberry.input(description="A client or representative signing in to the portal.")
class PortalLoginInput:
    agency_slug: str = strawberry.field(description=_SLUG_HELP)
    username: str = strawberry.field(
        description="The user name chosen at registration; case and surrounding blanks are ignored."
    )
    password: str = strawberry.field(description="The account's password.")
    device_token: str | None = strawberry.field(default=None, description=_DEVICE_HELP)


@strawberry.type(
    description="Who the current session belongs to: a staff member (staffId set) or a "
    "portal account (portalAccountId set), never both."
)
class Viewer:
    agency_id: strawberry.ID = strawberry.field(
        description="The agency the session belongs to; everything the viewer reads or "
        "changes is this agency's."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        description="The signed-in staff member (Staff.id); null for a portal account."
    )
    portal_account_id: strawberry.ID | None = strawberry.field(
        description="The signed-in portal account; null for staff."
    )
    portal_account_kind: PortalAccountKind | None = strawberry.field(
        description="CLIENT or REPRESENTATIVE for a portal account; null for staff."
    )
    permissions: list[Permission] = strawberry.field(
        description="The staff member's permissions, in alphabetical order; empty for a "
        "portal account. Read at each request: a change applies at once."
    )


def login_payload(
    issued: IssuedSession | None, errors: list[UserError], device_token: str | None = None
) -> LoginPayload:
    session = SessionToken(token=issued.token, expires_at=issued.expires_at) if issued else None
    return LoginPayload(session=session, device_token=device_token, errors=errors)


def _signed_in_payload(signed_in: auth.SignedIn | None, errors: list[UserError]) -> LoginPayload:
    if signed_in is None:
        return login_payload(None, errors)
    return login_payload(signed_in.session, errors, signed_in.device_token)


def _id(value: object) -> strawberry.ID | None:
    return gid(value) if value else None


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[SignedIn],
        description="The signed-in principal: staff or portal account. Any valid session; "
        "without one, UNAUTHENTICATED.",
    )
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.caller.principal
        assert principal is not None
        return Viewer(
            agency_id=gid(principal.agency_id),
            staff_id=_id(principal.staff_id),
            portal_account_id=_id(principal.account_id),
            portal_account_kind=principal.account_kind,
            permissions=sorted(principal.permissions, key=lambda p: p.value),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Public: staff sign-in with agency, e-mail and password. Returns a session "
        "token (idle timeout SESSION_IDLE_MINUTES, 30 by default; absolute limit "
        "SESSION_ABSOLUTE_HOURS, 12 by default). Errors: INVALID_CREDENTIALS, RATE_LIMITED."
    )
    async def staff_login(
        self,
        info: Info,
        input: Annotated[StaffLoginInput, strawberry.argument(description="Who signs in.")],
    ) -> LoginPayload:
        ctx = info.context
        work = auth.staff_login(
            ctx.caller,
            timeouts(ctx.settings),
            input.agency_slug,
            input.email,
            input.password,
            input.device_token,
        )
        return _signed_in_payload(*await attempt(work))

    @strawberry.mutation(
        description="Public: client or representative sign-in to the portal, with agency, "
        "user name and password. Sessions as for staffLogin. Errors: INVALID_CREDENTIALS, "
        "RATE_LIMITED."
    )
    async def portal_login(
        self,
        info: Info,
        input: Annotated[PortalLoginInput, strawberry.argument(description="Who signs in.")],
    ) -> LoginPayload:
        ctx = info.context
        work = auth.portal_login(
            ctx.caller,
            timeouts(ctx.settings),
            input.agency_slug,
            input.username,
            input.password,
            input.device_token,
        )
        return _signed_in_payload(*await attempt(work))

    @strawberry.mutation(
        description="Ends the current session: its token stops working at once, and WebSockets "
        "opened with it close (4401). Without a session it does nothing and still answers ok."
    )
    async def logout(self, info: Info) -> LogoutPayload:
        await auth.logout(info.context.caller)
        return LogoutPayload(ok=True, errors=[])
