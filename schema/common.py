"""Shapes shared by every domain: the error type, payload helper, enums exposed from models/."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import strawberry

from models import enums
from resolvers.errors import ErrorCode, UserErrors

T = TypeVar("T")

# Registers the stored enums with GraphQL descriptions; schema modules annotate with the
# classes from models.enums (strawberry.enum returns the class it is given).

strawberry.enum(
    ErrorCode,
    description="Why an input was refused. Text in any argument is checked before anything "
    "runs: a NUL character or an unpaired UTF-16 surrogate answers INVALID_TEXT, and a string "
    "over the cap (20,000 characters by default, MAX_TEXT_CHARS; 63 for agencySlug, 64 for "
    "username, 128 for token, 254 for email) answers TOO_LONG, both as a GraphQL error (not in "
    "a payload) whose "
    "extensions.field is the argument path, such as input.agencySlug; nothing is saved. "
    "A field's own, smaller limit is answered in the payload's errors.",
)
strawberry.enum(enums.Permission, description="What a staff member may do.")
strawberry.enum(enums.AppointmentMode, description="What clients can do with appointments.")
strawberry.enum(enums.MessagingMode, description="Who may send portal messages.")
strawberry.enum(enums.PortalModule, description="An optional section of the portal.")
strawberry.enum(
    enums.FormCompletionChannel, description="How clients receive and submit kiosk forms."
)
strawberry.enum(enums.NotifyMethod, description="How staff are told of new appointments.")
strawberry.enum(
    enums.AppointmentNotification,
    description="Which of a staff member's addresses gets appointment e-mail.",
)
strawberry.enum(enums.ClientStatus, description="Where a client is in their care.")
strawberry.enum(enums.PortalAccountKind, description="Client or representative.")


@strawberry.type(description="Why a mutation did not do what was asked; nothing was saved.")
class UserError:
    code: ErrorCode
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    message: str


def to_user_errors(exc: UserErrors) -> list[UserError]:
    return [UserError(code=e.code, field=e.field, message=e.message) for e in exc.errors]


def gid(value: object) -> strawberry.ID:
    """An opaque GraphQL ID from a row's UUID."""
    return strawberry.ID(str(value))


def changes(data: object, *leave_out: str) -> dict[str, Any]:
    """The fields of a partial-update input that the caller actually sent, less the ids that
    name the object rather than change it."""
    return {k: v for k, v in vars(data).items() if v is not strawberry.UNSET and k not in leave_out}


async def attempt(work: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    """Runs a resolver; its UserErrors become the payload's errors, anything else propagates."""
    try:
        return await work, []
    except UserErrors as exc:
        return None, to_user_errors(exc)
