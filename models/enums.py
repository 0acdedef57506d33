"""Enumerations stored in columns; schema/ exposes the same classes to GraphQL."""

from enum import StrEnum


class Permission(StrEnum):
    MANAGE_PORTAL_SETTINGS = "MANAGE_PORTAL_SETTINGS"
    MANAGE_PORTAL_ACCESS = "MANAGE_PORTAL_ACCESS"
    MANAGE_AGENCY_SETTINGS = "MANAGE_AGENCY_SETTINGS"
    MANAGE_STAFF = "MANAGE_STAFF"
    MANAGE_ALL_APPOINTMENTS = "MANAGE_ALL_APPOINTMENTS"
    VIEW_ALL_CLIENTS = "VIEW_ALL_CLIENTS"


class AppointmentMode(StrEnum):
    VIEW_ONLY = "VIEW_ONLY"
    MAKE = "MAKE"
    REQUEST = "REQUEST"


class MessagingMode(StrEnum):
    NONE = "NONE"
    FROM_STAFF_ONLY = "FROM_STAFF_ONLY"
    BETWEEN_STAFF_AND_CLIENT = "BETWEEN_STAFF_AND_CLIENT"


class PortalModule(StrEnum):
    PAYMENTS = "PAYMENTS"
    DOCUMENTS = "DOCUMENTS"
    SOCIAL_HISTORY = "SOCIAL_HISTORY"
    CLINICAL = "CLINICAL"
    CARE_TEAM = "CARE_TEAM"


class FormCompletionChannel(StrEnum):
    PORTAL = "PORTAL"
    SECURE_EMAIL_LINK = "SECURE_EMAIL_LINK"


class NotifyMethod(StrEnum):
    EMAIL = "EMAIL"
    TASK = "TASK"
    EMAIL_AND_TASK = "EMAIL_AND_TASK"


class AppointmentNotification(StrEnum):
    NONE = "NONE"
    FIRST_EMAIL = "FIRST_EMAIL"
    SECOND_EMAIL = "SECOND_EMAIL"


class ClientStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    DISCHARGED = "DISCHARGED"


class PortalAccountKind(StrEnum):
    CLIENT = "CLIENT"
    REPRESENTATIVE = "REPRESENTATIVE"


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


class TokenState(StrEnum):
    """A link's life: usable, then used, revoked, superseded by a newer one, or expired."""

    ACTIVE = "ACTIVE"
    USED = "USED"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    EXPIRED = "EXPIRED"
