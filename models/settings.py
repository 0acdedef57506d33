"""Client Portal Settings (one row per agency), the logo, and the Settings module Setup tab."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency
from models.enums import AppointmentMode, FormCompletionChannel, MessagingMode, NotifyMethod
from models.staff import Staff


class PortalSettings(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.OneToOneRelation[Agency] = fields.OneToOneField(
        "models.Agency", related_name="portal_settings", on_delete=fields.CASCADE
    )
    # Branding
    color = fields.CharField(max_length=7, default="#1F6FEB")
    # Invitations
    client_invitation_subject = fields.CharField(max_length=200)
    client_invitation_message = fields.TextField()
    representative_invitation_subject = fields.CharField(max_length=200)
    representative_invitation_message = fields.TextField()
    invitation_expiry_days = fields.IntField(default=2)
    # Appointments
    appointment_mode = fields.CharEnumField(
        AppointmentMode, max_length=16, default=AppointmentMode.VIEW_ONLY
    )
    allow_client_cancel = fields.BooleanField(default=True)
    notified_staff_id: UUID | None
    notified_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="notified_for", null=True, on_delete=fields.SET_NULL
    )
    max_days_in_future = fields.IntField(default=30)
    default_appointment_minutes = fields.IntField(default=50)
    default_break_minutes = fields.IntField(default=10)
    late_cancel_hours = fields.IntField(default=24)
    cancellation_message = fields.TextField(default="")
    # Beyond the spec: no portal slot starts sooner than this many hours from now.
    min_notice_hours = fields.IntField(default=0)
    # Messaging
    messaging_mode = fields.CharEnumField(MessagingMode, max_length=32, default=MessagingMode.NONE)
    email_client_on_new_message = fields.BooleanField(default=True)
    messaging_disclaimer = fields.TextField()
    # Modules
    enabled_modules: list[str] = fields.JSONField(default=list)
    # Utilities
    username_recovery_subject = fields.CharField(max_length=200)
    username_recovery_message = fields.TextField()
    password_reset_subject = fields.CharField(max_length=200)
    password_reset_message = fields.TextField()
    password_reset_expiry_days = fields.IntField(default=2)
    # Forms
    form_completion_channel = fields.CharEnumField(
        FormCompletionChannel, max_length=32, default=FormCompletionChannel.PORTAL
    )
    # Beyond the spec: days a secure form link works after it is sent.
    form_link_expiry_days = fields.IntField(default=7)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "portal_settings"


class AgencyLogo(Model):
    """The verified image bytes, served from a stable URL per agency."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.OneToOneRelation[Agency] = fields.OneToOneField(
        "models.Agency", related_name="logo", on_delete=fields.CASCADE
    )
    content_type = fields.CharField(max_length=32)
    data = fields.BinaryField()
    width = fields.IntField()
    height = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agency_logo"


class AgencySetup(Model):
    """Settings module, Setup tab."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.OneToOneRelation[Agency] = fields.OneToOneField(
        "models.Agency", related_name="setup", on_delete=fields.CASCADE
    )
    notify_email_on_new_appointment = fields.BooleanField(default=True)
    notify_method = fields.CharEnumField(
        NotifyMethod, max_length=16, default=NotifyMethod.EMAIL_AND_TASK
    )
    self_service_email_subject = fields.CharField(max_length=200)
    self_service_email_body = fields.TextField()
    text_before_forms = fields.TextField(default="")
    text_after_forms = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agency_setup"
