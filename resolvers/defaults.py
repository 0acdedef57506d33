"""A new agency's settings: sensible wording an agency can edit, expiry of 2 days as the spec
recommends. The e-mail wording is each kind's default (emails/wording.py), which is also what
mail falls back to when stored wording breaks the rules."""

from __future__ import annotations

from typing import Any

from emails.wording import DEFAULTS, MailKind


def _wording(kind: MailKind, subject_key: str, message_key: str) -> dict[str, str]:
    return {subject_key: DEFAULTS[kind].subject, message_key: DEFAULTS[kind].message}


PORTAL_SETTINGS: dict[str, Any] = {
    **_wording(
        MailKind.CLIENT_INVITATION, "client_invitation_subject", "client_invitation_message"
    ),
    **_wording(
        MailKind.REPRESENTATIVE_INVITATION,
        "representative_invitation_subject",
        "representative_invitation_message",
    ),
    "invitation_expiry_days": 2,
    "messaging_disclaimer": (
        "Messaging is for non-urgent matters only. If you are in crisis, call 988 or 911, "
        "or go to the nearest emergency room. We aim to reply within two business days."
    ),
    **_wording(
        MailKind.USERNAME_RECOVERY, "username_recovery_subject", "username_recovery_message"
    ),
    **_wording(MailKind.PASSWORD_RESET, "password_reset_subject", "password_reset_message"),
    "password_reset_expiry_days": 2,
}

AGENCY_SETUP: dict[str, Any] = _wording(
    MailKind.SELF_SERVICE, "self_service_email_subject", "self_service_email_body"
)
