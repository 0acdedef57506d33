"""User-name recovery and password reset: public, no session."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.context import Info
from resolvers import recovery
from schema.common import UserError, attempt

_SLUG = "The agency's slug, as in portalLogin (at most 254 characters, not empty)."


@strawberry.input(description="Forgot user name: no session needed.")
class RequestUsernameRecoveryInput:
    agency_slug: str = strawberry.field(description=_SLUG)
    email: str = strawberry.field(
        description="The e-mail address of the portal account; case is ignored. Each active "
        "account with it gets an e-mail (a client and a representative may share one)."
    )


@strawberry.input(description="Forgot password: no session needed.")
class RequestPasswordResetInput:
    agency_slug: str = strawberry.field(description=_SLUG)
    username: str = strawberry.field(description="The portal account's user name; case is ignored.")


@strawberry.input(description="A new password through a portal reset link.")
class ResetPasswordInput:
    token: str = strawberry.field(
        description="The token from the reset link's `#token=` (/portal/<slug>/reset-password)."
    )
    new_password: str = strawberry.field(
        description="At least 12 characters (at most 128); common ones and ones containing the "
        "user name are refused (WEAK_PASSWORD)."
    )


@strawberry.type(
    description="The same answer whether or not such an account exists: `ok` means that "
    "if it does, an e-mail is on its way, unless the account's mail allowance for the hour is "
    "spent (5, plus 3 per address the account signed in from, for requests from there); over "
    "it the answer is still `ok`, so nobody can stop the owner's request nor tell accounts "
    "apart. Errors: input problems, or RATE_LIMITED when this address sent too many requests "
    "(20 an hour, for any accounts)."
)
class RecoveryRequestPayload:
    ok: bool = strawberry.field(
        description="True when the request was taken, whether or not the account exists, and "
        "also when the account's hourly mail allowance is spent (then no mail goes out); "
        "false only when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="REQUIRED or TOO_LONG (an empty or over-long field), or RATE_LIMITED (too "
        "many requests from this address, for any accounts; the message says when to try "
        "again). Never RATE_LIMITED per account, so nobody can block another's recovery. "
        "Empty otherwise."
    )


@strawberry.type(description="The answer to setting a password with a link.")
class ResetPasswordPayload:
    ok: bool = strawberry.field(
        description="True: the password is changed and every session of the account has "
        "ended; sign in with the new password. False when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="RESET_LINK_INVALID, WEAK_PASSWORD or RATE_LIMITED; empty on success."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Public: e-mails the user name(s) of the active portal accounts with this "
        "address. The same answer whether or not any exist. Errors: REQUIRED, TOO_LONG, "
        "RATE_LIMITED."
    )
    async def request_username_recovery(
        self,
        info: Info,
        input: Annotated[
            RequestUsernameRecoveryInput, strawberry.argument(description="Who forgot.")
        ],
    ) -> RecoveryRequestPayload:
        ctx = info.context
        work = recovery.request_username_recovery(ctx.caller, input.agency_slug, input.email)
        _, errors = await attempt(work)
        return RecoveryRequestPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        description="Public: e-mails a password reset link to an active portal account (valid "
        "UtilitySettings.passwordResetExpiryDays); older links stop working. The same answer "
        "whether or not the account exists. Errors: REQUIRED, TOO_LONG, RATE_LIMITED (per address)."
    )
    async def request_password_reset(
        self,
        info: Info,
        input: Annotated[RequestPasswordResetInput, strawberry.argument(description="Who forgot.")],
    ) -> RecoveryRequestPayload:
        ctx = info.context
        work = recovery.request_password_reset(ctx.caller, input.agency_slug, input.username)
        _, errors = await attempt(work)
        return RecoveryRequestPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        description="Public: sets a portal account's new password with a reset link's token. "
        "The link works once; every session of the account ends (open WebSockets close with "
        "4401) and its other links stop working. Errors: RESET_LINK_INVALID, WEAK_PASSWORD, "
        "RATE_LIMITED (too many unusable links from this address)."
    )
    async def reset_password(
        self,
        info: Info,
        input: Annotated[
            ResetPasswordInput,
            strawberry.argument(description="The link's token and the new password."),
        ],
    ) -> ResetPasswordPayload:
        work = recovery.reset_password(info.context.caller, input.token, input.new_password)
        _, errors = await attempt(work)
        return ResetPasswordPayload(ok=not errors, errors=errors)
