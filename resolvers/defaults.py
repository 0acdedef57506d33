"""A new agency's settings: sensible wording an agency can edit, expiry of 2 days as the spec
recommends. Placeholders: {{ agency_name }}, {{ link }}, {{ expiry_days }}. Every e-mail
ends with its link, so the wording need not repeat it."""

from __future__ import annotations

from typing import Any

PORTAL_SETTINGS: dict[str, Any] = {
    "client_invitation_subject": "Your invitation to the {{ agency_name }} Client Portal",
    "client_invitation_message": (
        "You are invited to register for the {{ agency_name }} Client Portal.\n"
        "This link expires after {{ expiry_days }} day(s)."
    ),
    "representative_invitation_subject": "Your invitation to the {{ agency_name }} Client Portal",
    "representative_invitation_message": (
        "You are invited to register as a representative in the {{ agency_name }} Client Portal.\n"
        "This link expires after {{ expiry_days }} day(s)."
    ),
    "invitation_expiry_days": 2,
    "messaging_disclaimer": (
        "Messaging is for non-urgent matters only. If you are in crisis, call 988 or 911, "
        "or go to the nearest emergency room. We aim to reply within two business days."
    ),
    "username_recovery_subject": "Your {{ agency_name }} Client Portal user name",
    "username_recovery_message": (
        "Someone asked for the user name of this Client Portal account. "
        "Use the link below to see it and sign in. If it was not you, ignore this e-mail."
    ),
    "password_reset_subject": "Reset your {{ agency_name }} Client Portal password",
    "password_reset_message": (
        "Someone asked to reset the password of this Client Portal account.\n"
        "Use the link below to choose a new password.\n"
        "This link expires after {{ expiry_days }} day(s). If it was not you, ignore this e-mail."
    ),
    "password_reset_expiry_days": 2,
}

AGENCY_SETUP: dict[str, Any] = {
    "self_service_email_subject": "You have paperwork to complete in the Client Portal",
    "self_service_email_body": (
        "{{ agency_name }} has paperwork for you to complete. Sign in to the Client Portal "
        "with the link below and open Forms."
    ),
}
