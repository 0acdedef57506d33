"""Typed failures: user errors go into payloads, auth failures become GraphQL errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    # any input
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    # A NUL character or an unpaired UTF-16 surrogate in text (schema/text_rule.py).
    INVALID_TEXT = "INVALID_TEXT"
    # auth
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    # branding
    INVALID_COLOR = "INVALID_COLOR"
    INVALID_IMAGE = "INVALID_IMAGE"
    UNSUPPORTED_IMAGE_TYPE = "UNSUPPORTED_IMAGE_TYPE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    # core records
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    INVALID_EMAIL = "INVALID_EMAIL"
    DEFAULT_LOCATION_NOT_SELECTED = "DEFAULT_LOCATION_NOT_SELECTED"
    SECOND_EMAIL_REQUIRED = "SECOND_EMAIL_REQUIRED"
    OWN_ACCESS = "OWN_ACCESS"
    # accounts and invitations
    INVITATION_INVALID = "INVITATION_INVALID"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    INVALID_USERNAME = "INVALID_USERNAME"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 - an error code, not a password
    NO_EMAIL = "NO_EMAIL"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    INVALID_PLACEHOLDER = "INVALID_PLACEHOLDER"
    # e-mail wording with an expression, filter, tag or loop (only {{ name }} is allowed)
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    # recovery and rate limits
    RESET_LINK_INVALID = "RESET_LINK_INVALID"
    RATE_LIMITED = "RATE_LIMITED"
    # scheduling
    # An availability window whose end is not after its start, or a time not HH:MM.
    INVALID_TIME_RANGE = "INVALID_TIME_RANGE"
    # Two availability windows of one staff member overlap on a weekday (any locations).
    OVERLAPPING_WINDOWS = "OVERLAPPING_WINDOWS"
    # A location the staff member does not work at (setStaffLocations).
    NOT_STAFF_LOCATION = "NOT_STAFF_LOCATION"
    # The agency's "Clients Can" mode does not allow this (VIEW_ONLY, or the other mode).
    MODE_FORBIDS = "MODE_FORBIDS"
    # Not a bookable slot: off the grid, outside availability, past, inside the notice,
    # beyond the horizon, or a staff member not offering portal availability.
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
    # A bookable slot someone else holds (an appointment or a pending request).
    SLOT_TAKEN = "SLOT_TAKEN"
    # Client cancellation is off, or the appointment is not a future scheduled one.
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    # The request was already approved, denied, cancelled or expired.
    REQUEST_DECIDED = "REQUEST_DECIDED"
    # A slot range longer than bookableSlots allows (93 days).
    RANGE_TOO_LONG = "RANGE_TOO_LONG"
    # notifications
    # The staff member notified of portal appointments (PortalSettings.notified_staff) must have
    # a "send e-mail on appointment change" address: refused when choosing someone without one,
    # and when clearing it for the one chosen (resolvers/notifications.py).
    NOTIFICATION_ADDRESS_REQUIRED = "NOTIFICATION_ADDRESS_REQUIRED"


@dataclass(frozen=True)
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None


class UserErrors(Exception):
    """Raised by a resolver to reject a mutation; nothing it was about to write is kept."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class NotAuthenticated(Exception):
    pass


class Forbidden(Exception):
    """Not allowed, or not found: the two are indistinguishable to the caller."""


@dataclass
class Collector:
    """Gathers every problem with an input before refusing it, so a form can show all."""

    errors: list[UserError] = field(default_factory=list)

    def add(self, code: ErrorCode, field_name: str | None, message: str) -> None:
        self.errors.append(UserError(code, message, field_name))

    def raise_if_any(self) -> None:
        if self.errors:
            raise UserErrors(self.errors)
