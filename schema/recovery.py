"""User-name recovery and password reset: public, no session."""

from __future__ import annotations

import strawberry

from app.context import Info
from resolvers import recovery
from schema.common import UserError, attempt


@strawberry.input
class RequestUsernameRecoveryInput:
    agency_slug: str
    email: str = strawberry.field(description="The e-mail address of the portal account.")


@strawberry.input
class RequestPasswordResetInput:
    agency_slug: str
    username: str


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="The token from the reset link's `#token=`.")
    new_password: str


@strawberry.type(
    description="The same answer whether or not such an account exists: `ok` means that "
    "if it does, an e-mail is on its way, unless the account's mail allowance for the hour is "
    "spent (5, plus 3 per address the account signed in from, for requests from there); over "
    "it the answer is still `ok`, so nobody can stop the owner's request nor tell accounts "
    "apart. Errors: input problems, or RATE_LIMITED when this address sent too many requests "
    "(20 an hour, for any accounts)."
)
class RecoveryRequestPayload:
    ok: bool = strawberry.field(description="False only with errors.")
    errors: list[UserError]


@strawberry.type
class ResetPasswordPayload:
    ok: bool = strawberry.field(
        description="The password is changed and every session of the account has ended."
    )
    errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="E-mails the user name(s) of the portal accounts with this address."
    )
    async def request_username_recovery(
        self, info: Info, input: RequestUsernameRecoveryInput
    ) -> RecoveryRequestPayload:
        ctx = info.context
        work = recovery.request_username_recovery(ctx.caller, input.agency_slug, input.email)
        _, errors = await attempt(work)
        return RecoveryRequestPayload(ok=not errors, errors=errors)

    @strawberry.mutation(description="E-mails a password reset link; older links stop working.")
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RecoveryRequestPayload:
        ctx = info.context
        work = recovery.request_password_reset(ctx.caller, input.agency_slug, input.username)
        _, errors = await attempt(work)
        return RecoveryRequestPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        description="Sets a new password with a reset link's token; ends every session."
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
        work = recovery.reset_password(info.context.caller, input.token, input.new_password)
        _, errors = await attempt(work)
        return ResetPasswordPayload(ok=not errors, errors=errors)
