"""Shapes shared by every domain: the error type, payload helper, enums exposed from models/."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import strawberry

from models import enums
from models.enums import DescribedEnum
from resolvers.errors import ErrorCode, UserErrors

T = TypeVar("T")

E = TypeVar("E", bound=type[DescribedEnum])


def expose(cls: E, description: str) -> E:
    """Registers an enumeration with GraphQL: the type's description here, each value's from
    its member (models.enums.DescribedEnum), so the description stays next to the value."""
    strawberry.enum(cls, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = cls[value.name].description or None
    return cls


# Registers the stored enums with GraphQL descriptions; schema modules annotate with the
# classes from models.enums (strawberry.enum returns the class it is given).

expose(
    ErrorCode,
    "Why an input was refused; each value says when it happens. Text in any argument is "
    "checked before anything "
    "runs: a NUL character or an unpaired UTF-16 surrogate answers INVALID_TEXT, and a string "
    "over the cap (20,000 characters by default, MAX_TEXT_CHARS; 63 for agencySlug, 64 for "
    "username, 128 for token, 254 for email) answers TOO_LONG, both as a GraphQL error (not in "
    "a payload) whose "
    "extensions.field is the argument path, such as input.agencySlug; nothing is saved. "
    "A field's own, smaller limit is answered in the payload's errors.",
)
expose(
    enums.Permission,
    "What a staff member may do. Portal users (clients, representatives) have none. A field "
    "that needs one refuses others with a GraphQL error, extensions.code FORBIDDEN.",
)
expose(enums.AppointmentMode, "What clients can do with appointments.")
expose(enums.MessagingMode, "Who may send portal messages.")
expose(enums.PortalModule, "An optional section of the portal.")
expose(enums.FormCompletionChannel, "How clients receive and submit kiosk forms.")
expose(enums.NotifyMethod, "How staff are told of new appointments.")
expose(
    enums.AppointmentNotification,
    "Which of a staff member's addresses gets appointment e-mail.",
)
expose(enums.ClientStatus, "Where a client is in their care.")
expose(enums.PortalAccountKind, "Client or representative.")


@strawberry.type(
    description="Why a mutation did not do what was asked: one entry in a payload's `errors`. "
    "When `errors` is not empty nothing was saved and the payload's result field is null; "
    "a form should show every entry, next to `field` when there is one."
)
class UserError:
    code: ErrorCode = strawberry.field(
        description="What went wrong, for code to act on (see each ErrorCode value)."
    )
    field: str | None = strawberry.field(
        description="The input field at fault, as named in the input (camelCase, such as "
        "firstName or staffIds); null when the error is about the input as a whole."
    )
    message: str = strawberry.field(
        description="What went wrong and how to put it right, in English words for the "
        "person filling the form."
    )


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
