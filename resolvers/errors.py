"""Typed failures: user errors go into payloads, auth failures become GraphQL errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.enums import DescribedEnum


class ErrorCode(DescribedEnum):
    """Each member says when it happens: that text is its GraphQL description."""

    # any input
    REQUIRED = (
        "REQUIRED",
        "A field that must have a value is missing, empty or null (the message says which); "
        "also setPortalAccountActive without exactly one id, setStaffLocations with locations "
        "but no defaultLocationId, and a representative without clientId.",
    )
    INVALID = (
        "INVALID",
        "A value that cannot be used as it stands, such as sendStaffPasswordLink for an "
        "inactive staff member. (An `after` cursor this API did not give out comes back from a "
        "list query as a GraphQL error, extensions.code BAD_USER_INPUT, instead.)",
    )
    TOO_LONG = (
        "TOO_LONG",
        "Text longer than its field allows (the message says the limit, in characters). "
        "As a payload error: the field's own limit, such as 100 for a name. As a GraphQL "
        "error (extensions.code TOO_LONG, extensions.field the argument path): the cap on any "
        "text argument, MAX_TEXT_CHARS (20,000 by default), and nothing ran.",
    )
    OUT_OF_RANGE = (
        "OUT_OF_RANGE",
        "A number outside its allowed range (the message says the range), or a date of birth "
        "in the future or before 1900-01-01.",
    )
    NOT_FOUND = (
        "NOT_FOUND",
        "The id names nothing the caller may act on in this agency: unknown, another "
        "agency's, not visible to the caller, or (setPortalAccountActive) a person with no "
        "portal account yet.",
    )
    DUPLICATE = (
        "DUPLICATE",
        "Another staff member of this agency already uses this e-mail address (compared "
        "ignoring case); or a form template repeats a field key or an option, or form answers "
        "repeat a key.",
    )
    # A NUL character or an unpaired UTF-16 surrogate in text (schema/text_rule.py).
    INVALID_TEXT = (
        "INVALID_TEXT",
        "Text with a NUL character or an unpaired UTF-16 surrogate. Always a GraphQL error "
        "(extensions.code INVALID_TEXT, extensions.field the argument path, such as "
        "input.firstName), before anything runs; nothing is saved.",
    )
    # auth
    INVALID_CREDENTIALS = (
        "INVALID_CREDENTIALS",
        "staffLogin/portalLogin: the agency, the e-mail or user name, or the password is "
        "wrong, or the person is inactive; which one is never said.",
    )
    # branding
    INVALID_COLOR = "INVALID_COLOR", "A color that is not #RRGGBB hex, such as #1F6FEB."
    INVALID_IMAGE = (
        "INVALID_IMAGE",
        "uploadLogo: the file does not decode as an image, or has more than 4096×4096 pixels.",
    )
    UNSUPPORTED_IMAGE_TYPE = (
        "UNSUPPORTED_IMAGE_TYPE",
        "uploadLogo: an image that is not PNG or JPEG (SVG, GIF, WebP ... are refused).",
    )
    FILE_TOO_LARGE = (
        "FILE_TOO_LARGE",
        "uploadLogo: the file is larger than MAX_LOGO_BYTES (512 KiB by default); the message "
        "says the limit in KB. shareDocument: larger than MAX_DOCUMENT_BYTES (10 MiB by "
        "default).",
    )
    # modules
    UNSUPPORTED_FILE_TYPE = (
        "UNSUPPORTED_FILE_TYPE",
        "shareDocument: the file's bytes are not a PDF, PNG, JPEG or plain UTF-8 text (the "
        "name and the declared type are not trusted), or the file is empty.",
    )
    # core records
    INVALID_TIME_ZONE = (
        "INVALID_TIME_ZONE",
        "Not an IANA time zone name such as America/Chicago.",
    )
    INVALID_EMAIL = "INVALID_EMAIL", "Not an e-mail address, or longer than 254 characters."
    DEFAULT_LOCATION_NOT_SELECTED = (
        "DEFAULT_LOCATION_NOT_SELECTED",
        "setStaffLocations: defaultLocationId is not one of locationIds.",
    )
    SECOND_EMAIL_REQUIRED = (
        "SECOND_EMAIL_REQUIRED",
        "Appointment e-mail goes to the second address (SECOND_EMAIL): it cannot be cleared, "
        "and SECOND_EMAIL cannot be chosen without one.",
    )
    OWN_ACCESS = (
        "OWN_ACCESS",
        "updateStaff on yourself: you cannot deactivate yourself or remove your own MANAGE_STAFF.",
    )
    # accounts and invitations
    INVITATION_INVALID = (
        "INVITATION_INVALID",
        "acceptInvitation: the link is unknown, used, revoked, replaced by a newer one or "
        "expired (one answer for all; the invitation query tells the registration page which).",
    )
    USERNAME_TAKEN = (
        "USERNAME_TAKEN",
        "acceptInvitation: another portal account of the agency has this user name (or, for a "
        "representative adding a client, the password does not match that account).",
    )
    INVALID_USERNAME = (
        "INVALID_USERNAME",
        "acceptInvitation: a user name must be 3 to 64 characters: lowercase letters, digits, "
        "dots, dashes or underscores, starting with a letter or digit (it is lowercased first).",
    )
    WEAK_PASSWORD = (
        "WEAK_PASSWORD",
        "A new password is shorter than 12 or longer than 128 characters, common or easy to "
        "guess, or contains the sign-in name (user name, or a staff member's e-mail); the "
        "message says which.",
    )
    NO_EMAIL = (
        "NO_EMAIL",
        "inviteClient, or sendForm through SECURE_EMAIL_LINK: the client has no e-mail address "
        "to send the link to.",
    )
    ALREADY_REGISTERED = (
        "ALREADY_REGISTERED",
        "inviteClient/inviteRepresentative: the person already has a portal account.",
    )
    INVALID_PLACEHOLDER = (
        "INVALID_PLACEHOLDER",
        "E-mail wording uses a {{ name }} this kind of e-mail does not have; the message lists "
        "the ones it has.",
    )
    # e-mail wording with an expression, filter, tag or loop (only {{ name }} is allowed)
    INVALID_TEMPLATE = (
        "INVALID_TEMPLATE",
        "E-mail wording with anything but plain {{ name }} placeholders (an expression, a "
        "filter, a tag or a loop).",
    )
    # recovery and rate limits
    RESET_LINK_INVALID = (
        "RESET_LINK_INVALID",
        "resetPassword/resetStaffPassword: the link is unknown, used, expired or replaced by "
        "a newer one, or its owner is inactive; ask for a new one.",
    )
    RATE_LIMITED = (
        "RATE_LIMITED",
        "Too many attempts (sign-in failures, recovery requests or failed resets) from this "
        "address or for this account; the message says when to try again.",
    )
    # scheduling
    INVALID_TIME_RANGE = (
        "INVALID_TIME_RANGE",
        "An availability window whose end is not after its start, or a time not HH:MM.",
    )
    OVERLAPPING_WINDOWS = (
        "OVERLAPPING_WINDOWS",
        "Two availability windows of one staff member overlap on a weekday (any locations).",
    )
    NOT_STAFF_LOCATION = (
        "NOT_STAFF_LOCATION",
        "setStaffAvailability or a booking names a location the staff member does not work at "
        "(see setStaffLocations).",
    )
    MODE_FORBIDS = (
        "MODE_FORBIDS",
        "The agency's “Clients Can” mode does not allow this: bookAppointment outside MAKE, "
        "requestAppointment outside REQUEST, bookableSlots in VIEW_ONLY.",
    )
    SLOT_UNAVAILABLE = (
        "SLOT_UNAVAILABLE",
        "Not a bookable slot: off the grid, outside availability, past, inside the agency's "
        "minimum notice, beyond the horizon, or a staff member not offering portal "
        "availability.",
    )
    SLOT_TAKEN = (
        "SLOT_TAKEN",
        "A bookable slot someone else holds (an appointment or a pending request).",
    )
    NOT_CANCELLABLE = (
        "NOT_CANCELLABLE",
        "The appointment is not SCHEDULED; or, for a portal user, client cancellation is off "
        "or the appointment has started. (Staff may cancel a past SCHEDULED one.)",
    )
    REQUEST_DECIDED = (
        "REQUEST_DECIDED",
        "The request was already approved, denied, cancelled or expired.",
    )
    RANGE_TOO_LONG = (
        "RANGE_TOO_LONG",
        "A bookableSlots range longer than 93 days.",
    )
    # notifications
    NOTIFICATION_ADDRESS_REQUIRED = (
        "NOTIFICATION_ADDRESS_REQUIRED",
        "The staff member notified of portal appointments (AppointmentSettings.notifiedStaffId) "
        "must have a “send e-mail on appointment change” address: refused when choosing someone "
        "whose choice is NONE or names an address they lack, and when clearing that choice or "
        "address for the one chosen.",
    )
    # messaging
    MESSAGING_OFF = (
        "MESSAGING_OFF",
        "The agency's messaging mode is NONE: staff cannot start a thread or send a message to "
        "the portal (the history stays readable). Portal users are refused as FORBIDDEN instead.",
    )
    MESSAGING_READ_ONLY = (
        "MESSAGING_READ_ONLY",
        "The agency's messaging mode is FROM_STAFF_ONLY: clients and representatives read "
        "messages but cannot start a thread or send one.",
    )
    NOT_ON_CARE_TEAM = (
        "NOT_ON_CARE_TEAM",
        "startThread names a staff member who is not an active member of the client's care "
        "team (or no such staff member).",
    )
    # kiosk forms
    NO_PORTAL_ACCOUNT = (
        "NO_PORTAL_ACCOUNT",
        "sendForm through the PORTAL channel: the client or representative has no active portal "
        "account to put the form in (invite them, or turn their sign-in back on).",
    )
    FORM_INACTIVE = (
        "FORM_INACTIVE",
        "sendForm: the form template is deactivated (setFormTemplateActive); forms already "
        "sent can still be completed.",
    )
    FORM_LINK_INVALID = (
        "FORM_LINK_INVALID",
        "submitFormByLink: the link is unknown, already used, replaced by a newer copy of the "
        "form or expired (one answer for all); ask the agency to send the form again.",
    )
    FORM_NOT_OPEN = (
        "FORM_NOT_OPEN",
        "submitForm: the form was already completed, or replaced by a newer copy sent to the "
        "same person.",
    )
    UNKNOWN_FIELD = (
        "UNKNOWN_FIELD",
        "An answer whose key is not a field of the form (field answers.<key>, or answers when "
        "the key is not even a possible key).",
    )
    INVALID_CHOICE = (
        "INVALID_CHOICE",
        "An answer to a SINGLE_CHOICE, MULTI_CHOICE or YES_NO field that is not one of its "
        "options (YES or NO for YES_NO).",
    )
    NOT_A_NUMBER = "NOT_A_NUMBER", "An answer to a NUMBER field that is not a decimal number."
    INVALID_DATE = (
        "INVALID_DATE",
        "An answer to a DATE field that is not a calendar day YYYY-MM-DD between 1000-01-01 and "
        "2999-12-31.",
    )


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


class ModuleDisabled(Forbidden):
    """A portal module the agency has switched off: FORBIDDEN, naming the module (which says
    nothing about any record)."""

    def __init__(self, module: str) -> None:
        super().__init__(module)
        self.module = module


@dataclass
class Collector:
    """Gathers every problem with an input before refusing it, so a form can show all."""

    errors: list[UserError] = field(default_factory=list)

    def add(self, code: ErrorCode, field_name: str | None, message: str) -> None:
        self.errors.append(UserError(code, message, field_name))

    def raise_if_any(self) -> None:
        if self.errors:
            raise UserErrors(self.errors)
