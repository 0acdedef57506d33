"""Enumerations stored in columns; schema/ exposes the same classes to GraphQL.

A member exposed to GraphQL carries its description next to it (`NAME = "NAME", "What it
means."`): the schema export shows it, and tests/test_schema_docs.py fails on a member without
one. The stored value is the first string only.
"""

from enum import StrEnum
from typing import Self


class DescribedEnum(StrEnum):
    """A string enumeration whose members carry the description GraphQL shows for them."""

    _value_: str
    description: str

    def __new__(cls, value: str, description: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


class Permission(DescribedEnum):
    MANAGE_PORTAL_SETTINGS = (
        "MANAGE_PORTAL_SETTINGS",
        'Client Portal Settings (the agency\'s "Champions"): portalSettings and the mutations '
        "that change it (update...Settings, uploadLogo, clearLogo, setFormVisibility).",
    )
    MANAGE_PORTAL_ACCESS = (
        "MANAGE_PORTAL_ACCESS",
        "Client Portal Manager: sees and edits every client and representative of the agency, "
        "sends and revokes invitations, turns portal sign-ins on and off.",
    )
    MANAGE_AGENCY_SETTINGS = (
        "MANAGE_AGENCY_SETTINGS",
        "Settings module, Setup tab: agencySetup and updateAgencySetup.",
    )
    MANAGE_STAFF = (
        "MANAGE_STAFF",
        "Staff module: every staff member and location of the agency, their permissions, "
        "active state and set-password links. Without it a staff member edits only their own "
        "contact, locations and appointment e-mail.",
    )
    MANAGE_ALL_APPOINTMENTS = (
        "MANAGE_ALL_APPOINTMENTS",
        "Acts on every appointment of the agency; without it a staff member acts on the "
        "appointments of clients whose care team they are in.",
    )
    VIEW_ALL_CLIENTS = (
        "VIEW_ALL_CLIENTS",
        "Sees, creates and edits every client and representative of the agency; without it (or "
        "MANAGE_PORTAL_ACCESS) a staff member sees only the clients whose care team they are in.",
    )
    MANAGE_FORMS = (
        "MANAGE_FORMS",
        "Kiosk form templates: createFormTemplate, updateFormTemplate and setFormTemplateActive. "
        "Reading templates (formTemplates) and sending forms (sendForm) need no permission.",
    )


class AppointmentMode(DescribedEnum):
    VIEW_ONLY = "VIEW_ONLY", "Clients see their appointments but cannot book or request one."
    MAKE = "MAKE", "Clients book an open slot themselves."
    REQUEST = "REQUEST", "Clients ask for a slot; staff approve or deny the request."


class MessagingMode(DescribedEnum):
    NONE = "NONE", "Portal messaging is off."
    FROM_STAFF_ONLY = "FROM_STAFF_ONLY", "Only staff send messages; clients read them."
    BETWEEN_STAFF_AND_CLIENT = "BETWEEN_STAFF_AND_CLIENT", "Staff and clients both send messages."


class PortalModule(DescribedEnum):
    PAYMENTS = "PAYMENTS", "The Payments section."
    DOCUMENTS = "DOCUMENTS", "The Documents section."
    SOCIAL_HISTORY = "SOCIAL_HISTORY", "The Social History section."
    CLINICAL = "CLINICAL", "The Clinical section."
    CARE_TEAM = "CARE_TEAM", "The Care Team section: the client's staff and their locations."


class FormCompletionChannel(DescribedEnum):
    PORTAL = "PORTAL", "Clients complete forms after signing in to the portal."
    SECURE_EMAIL_LINK = (
        "SECURE_EMAIL_LINK",
        "Clients get a secure e-mail link to each form and complete it without signing in.",
    )


class NotifyMethod(DescribedEnum):
    EMAIL = "EMAIL", "By e-mail only."
    TASK = "TASK", "By a task on the staff member's task list only."
    EMAIL_AND_TASK = "EMAIL_AND_TASK", "By e-mail and by a task."


class AppointmentNotification(DescribedEnum):
    NONE = "NONE", "No appointment e-mail."
    FIRST_EMAIL = "FIRST_EMAIL", "To the first e-mail address (the sign-in name)."
    SECOND_EMAIL = (
        "SECOND_EMAIL",
        'To the second ("Phone/SMS") address; needs one (SECOND_EMAIL_REQUIRED otherwise).',
    )


class ClientStatus(DescribedEnum):
    ACTIVE = "ACTIVE", "In care now."
    INACTIVE = "INACTIVE", "Not seen at the moment, but not discharged."
    DISCHARGED = "DISCHARGED", "Care has ended."


class PortalAccountKind(DescribedEnum):
    CLIENT = "CLIENT", "The client's own portal account."
    REPRESENTATIVE = (
        "REPRESENTATIVE",
        "A representative's account (a parent, a guardian): one sign-in for every client that "
        "person represents.",
    )


class ActorKind(StrEnum):
    STAFF = "STAFF"
    PORTAL = "PORTAL"
    ANONYMOUS = "ANONYMOUS"
    SYSTEM = "SYSTEM"


class AuditOutcome(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    DENIED = "DENIED"


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class TokenState(DescribedEnum):
    """A link's life: usable, then used, revoked, superseded by a newer one, or expired."""

    ACTIVE = (
        "ACTIVE",
        "Not used, withdrawn or replaced. It works until expiresAt; after that it is refused "
        "even while it still shows ACTIVE (a periodic job marks it EXPIRED).",
    )
    USED = "USED", "Used once; it works no more."
    REVOKED = "REVOKED", "Withdrawn (revokeInvitation); it works no more."
    SUPERSEDED = "SUPERSEDED", "A newer link was sent to the same person; only the newest works."
    EXPIRED = "EXPIRED", "Its time ran out before it was used."


class PaymentMethod(DescribedEnum):
    CASH = "CASH", "Paid in cash."
    CHECK = "CHECK", "Paid by check (the reference holds its number)."
    CARD = "CARD", "Paid by card outside this service (no card data is kept here)."
    INSURANCE = "INSURANCE", "Paid by an insurer or another third party."
    OTHER = "OTHER", "Any other way (the reference says which)."


class DiagnosisStatus(DescribedEnum):
    ACTIVE = "ACTIVE", "A current diagnosis."
    RESOLVED = "RESOLVED", "A diagnosis that no longer applies."


class GoalStatus(DescribedEnum):
    ACTIVE = "ACTIVE", "A goal being worked on."
    MET = "MET", "A goal reached."
    DISCONTINUED = "DISCONTINUED", "A goal no longer pursued."


class FormFieldType(DescribedEnum):
    SHORT_TEXT = "SHORT_TEXT", "One line of text, at most 500 characters."
    LONG_TEXT = "LONG_TEXT", "Free text, at most 5,000 characters; line breaks kept."
    NUMBER = (
        "NUMBER",
        "A decimal number such as 12, -3 or 7.5 (digits with an optional sign and decimal "
        "point, at most 30 characters).",
    )
    DATE = "DATE", "A calendar day, YYYY-MM-DD, between 1000-01-01 and 2999-12-31."
    YES_NO = "YES_NO", "YES or NO."
    SINGLE_CHOICE = "SINGLE_CHOICE", "Exactly one of the field's options."
    MULTI_CHOICE = "MULTI_CHOICE", "Any number of the field's options (at least one if required)."


class FormAssignmentState(DescribedEnum):
    SENT = (
        "SENT",
        "Sent and waiting to be completed. A secure link past its expiresAt shows EXPIRED.",
    )
    COMPLETED = "COMPLETED", "Completed: its answers are kept."
    EXPIRED = "EXPIRED", "A secure e-mail link whose time ran out before the form was completed."
    SUPERSEDED = (
        "SUPERSEDED",
        "The same form was sent again to the same person before this copy was completed; only "
        "the newest copy can be completed.",
    )
