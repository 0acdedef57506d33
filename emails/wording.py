"""Each kind of e-mail: the placeholders its wording may use, and its default wording.

The agency may edit the wording of the portal's mail (settings); a new agency starts with these
defaults, and mail falls back to them when stored wording breaks the rules. Staff links always
use the default wording: nobody edits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MailKind(StrEnum):
    CLIENT_INVITATION = "client_invitation"
    REPRESENTATIVE_INVITATION = "representative_invitation"
    USERNAME_RECOVERY = "username_recovery"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of e-mail, not a password
    SELF_SERVICE = "self_service"
    STAFF_WELCOME = "staff_welcome"
    STAFF_PASSWORD_RESET = "staff_password_reset"  # noqa: S105 - a kind of e-mail
    # Staff appointment notices (resolvers/notifications.py): what happened, never to whom/when.
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_REQUESTED = "appointment_requested"
    APPOINTMENT_CREATED = "appointment_created"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    REQUEST_APPROVED = "request_approved"
    REQUEST_DENIED = "request_denied"
    REQUEST_WITHDRAWN = "request_withdrawn"
    REQUEST_EXPIRED = "request_expired"
    # Fixed wording, no PHI: only that there is news about an appointment request.
    APPOINTMENT_UPDATE = "appointment_update"
    # To the old address when a staff member's sign-in e-mail changes; it has no link.
    STAFF_EMAIL_CHANGED = "staff_email_changed"
    # Fixed wording, no PHI: only that a new secure message waits in the portal.
    NEW_MESSAGE = "new_message"


_LINK_THAT_EXPIRES = frozenset({"agency_name", "link", "expiry_days"})
_NAME_AND_LINK = frozenset({"agency_name", "link"})

# Which MailContext fields each kind's wording may use: only those its mail really has.
PLACEHOLDERS: dict[MailKind, frozenset[str]] = {
    MailKind.CLIENT_INVITATION: _LINK_THAT_EXPIRES,
    MailKind.REPRESENTATIVE_INVITATION: _LINK_THAT_EXPIRES,
    MailKind.USERNAME_RECOVERY: frozenset({"agency_name", "link", "username"}),
    MailKind.PASSWORD_RESET: _LINK_THAT_EXPIRES,
    MailKind.SELF_SERVICE: frozenset({"agency_name", "link"}),
    MailKind.STAFF_WELCOME: _LINK_THAT_EXPIRES,
    MailKind.STAFF_PASSWORD_RESET: _LINK_THAT_EXPIRES,
    MailKind.APPOINTMENT_BOOKED: _NAME_AND_LINK,
    MailKind.APPOINTMENT_REQUESTED: _NAME_AND_LINK,
    MailKind.APPOINTMENT_CREATED: _NAME_AND_LINK,
    MailKind.APPOINTMENT_CANCELLED: _NAME_AND_LINK,
    MailKind.REQUEST_APPROVED: _NAME_AND_LINK,
    MailKind.REQUEST_DENIED: _NAME_AND_LINK,
    MailKind.REQUEST_WITHDRAWN: _NAME_AND_LINK,
    MailKind.REQUEST_EXPIRED: _NAME_AND_LINK,
    MailKind.APPOINTMENT_UPDATE: frozenset({"agency_name", "link"}),
    MailKind.STAFF_EMAIL_CHANGED: frozenset({"agency_name"}),
    MailKind.NEW_MESSAGE: _NAME_AND_LINK,
}


@dataclass(frozen=True)
class Wording:
    subject: str
    message: str


_INVITATION_SUBJECT = "Your invitation to the {{ agency_name }} Client Portal"

DEFAULTS: dict[MailKind, Wording] = {
    MailKind.CLIENT_INVITATION: Wording(
        _INVITATION_SUBJECT,
        "You are invited to register for the {{ agency_name }} Client Portal.\n"
        "This link expires after {{ expiry_days }} day(s).",
    ),
    MailKind.REPRESENTATIVE_INVITATION: Wording(
        _INVITATION_SUBJECT,
        "You are invited to register as a representative in the {{ agency_name }} Client "
        "Portal.\nThis link expires after {{ expiry_days }} day(s).",
    ),
    MailKind.USERNAME_RECOVERY: Wording(
        "Your {{ agency_name }} Client Portal user name",
        "Someone asked for the user name of this Client Portal account. "
        "Use the link below to see it and sign in. If it was not you, ignore this e-mail.",
    ),
    MailKind.PASSWORD_RESET: Wording(
        "Reset your {{ agency_name }} Client Portal password",
        "Someone asked to reset the password of this Client Portal account.\n"
        "Use the link below to choose a new password.\n"
        "This link expires after {{ expiry_days }} day(s). If it was not you, ignore this e-mail.",
    ),
    MailKind.SELF_SERVICE: Wording(
        "You have paperwork to complete in the Client Portal",
        "{{ agency_name }} has paperwork for you to complete. Sign in to the Client Portal "
        "with the link below and open Forms.",
    ),
    MailKind.STAFF_WELCOME: Wording(
        "Set your {{ agency_name }} staff password",
        "A staff account of {{ agency_name }} was set up for this e-mail address.\n"
        "Use the link below to choose your password; it works once.\n"
        "This link expires after {{ expiry_days }} day(s). If you did not expect it, "
        "ignore this e-mail.",
    ),
    MailKind.STAFF_PASSWORD_RESET: Wording(
        "Reset your {{ agency_name }} staff password",
        "Someone asked to reset the password of the {{ agency_name }} staff account with this "
        "e-mail address.\nUse the link below to choose a new password; it works once.\n"
        "This link expires after {{ expiry_days }} day(s). If it was not you, ignore this e-mail.",
    ),
    MailKind.APPOINTMENT_UPDATE: Wording(
        "An update in your {{ agency_name }} Client Portal",
        "There is an update about an appointment request in the {{ agency_name }} Client "
        "Portal. Sign in with the link below to see it.",
    ),
    MailKind.NEW_MESSAGE: Wording(
        "You have a new message in your {{ agency_name }} Client Portal",
        "You have a new secure message in the {{ agency_name }} Client Portal. Sign in with "
        "the link below to read it.",
    ),
    MailKind.STAFF_EMAIL_CHANGED: Wording(
        "Your {{ agency_name }} sign-in e-mail address was changed",
        "The e-mail address you sign in with at {{ agency_name }} was changed; "
        "if this wasn't expected, contact your agency.",
    ),
}

# The one line each staff appointment notice says. It is the subject of the e-mail to a first
# address and the whole text to a second ("Phone/SMS") address, typically an e-mail-to-SMS
# gateway: at most 40 characters, so that with a link of up to 119 (a 63-character agency slug
# under a 36-character base URL) it fits in one text message (emails.render.SMS_MAX).
NOTICE_LINES: dict[MailKind, str] = {
    MailKind.APPOINTMENT_BOOKED: "New portal appointment booked.",
    MailKind.APPOINTMENT_REQUESTED: "New portal appointment request.",
    MailKind.APPOINTMENT_CREATED: "Appointment added to your calendar.",
    MailKind.APPOINTMENT_CANCELLED: "An appointment was cancelled.",
    MailKind.REQUEST_APPROVED: "Appointment request approved.",
    MailKind.REQUEST_DENIED: "Appointment request denied.",
    MailKind.REQUEST_WITHDRAWN: "Appointment request withdrawn.",
    MailKind.REQUEST_EXPIRED: "Appointment request expired.",
}

_SEE_IT = (
    "\nSign in to the {{ agency_name }} staff app with the link below to see it. "
    "Client details are shown only there, to staff who may see them."
)
for _kind, _line in NOTICE_LINES.items():
    DEFAULTS[_kind] = Wording(_line, _line + _SEE_IT)
