from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.accounts import PortalAccount
from models.agency import Agency
from models.clients import Client, Representative
from models.enums import FormAssignmentState, FormCompletionChannel
from models.staff import Staff


class FormTemplate(Model):
    """A kiosk form. The visibility flags are the agency defaults for completed forms.

    `definition` holds {"fields": [{key, label, type, required, options, help_text}]}."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="form_templates", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    is_active = fields.BooleanField(default=True)
    client_can_see = fields.BooleanField(default=False)
    representative_can_see = fields.BooleanField(default=False)
    definition: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "form_template"
        ordering = ["name", "id"]


class FormAssignment(Model):
    """One form sent to a client or one of their representatives.

    The channel, the form's name and its fields are copied at send time, so a later change of
    the agency's channel or of the template never changes a form already sent. A link's token
    is stored only as its SHA-256."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="form_assignments", on_delete=fields.CASCADE
    )
    template_id: UUID
    template: fields.ForeignKeyRelation[FormTemplate] = fields.ForeignKeyField(
        "models.FormTemplate", related_name="assignments", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="form_assignments", on_delete=fields.CASCADE
    )
    # Null: sent to the client; otherwise to this representative of the client.
    representative_id: UUID | None
    representative: fields.ForeignKeyNullableRelation[Representative] = fields.ForeignKeyField(
        "models.Representative",
        related_name="form_assignments",
        null=True,
        on_delete=fields.CASCADE,
    )
    channel = fields.CharEnumField(FormCompletionChannel, max_length=32)
    state = fields.CharEnumField(
        FormAssignmentState, max_length=16, default=FormAssignmentState.SENT
    )
    form_name = fields.CharField(max_length=200)
    form_fields: list[dict[str, Any]] = fields.JSONField(default=list)
    email = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True, null=True)
    expires_at: datetime | None = fields.DatetimeField(null=True)
    sent_by_id: UUID | None
    sent_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="forms_sent", null=True, on_delete=fields.SET_NULL
    )
    sent_at = fields.DatetimeField()
    answers: dict[str, Any] | None = fields.JSONField(null=True)
    completed_at: datetime | None = fields.DatetimeField(null=True)
    # The portal account that submitted it; null for a secure link (nobody signed in).
    completed_by_id: UUID | None
    completed_by: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount", related_name="forms_completed", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "form_assignment"
        indexes = (("client_id", "state"),)


class ClientFormVisibility(Model):
    """Client Portal Manager: whether this client sees completed copies of this form, instead
    of the form's agency default."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="client_form_visibility", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="form_visibility", on_delete=fields.CASCADE
    )
    template_id: UUID
    template: fields.ForeignKeyRelation[FormTemplate] = fields.ForeignKeyField(
        "models.FormTemplate", related_name="client_visibility", on_delete=fields.CASCADE
    )
    can_see = fields.BooleanField()

    class Meta:
        table = "client_form_visibility"
        unique_together = (("client", "template"),)


class RepresentativeFormVisibility(Model):
    """Client Portal Manager: whether this representative sees completed copies of this form,
    instead of the form's agency default."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="representative_form_visibility", on_delete=fields.CASCADE
    )
    representative_id: UUID
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="form_visibility", on_delete=fields.CASCADE
    )
    template_id: UUID
    template: fields.ForeignKeyRelation[FormTemplate] = fields.ForeignKeyField(
        "models.FormTemplate", related_name="representative_visibility", on_delete=fields.CASCADE
    )
    can_see = fields.BooleanField()

    class Meta:
        table = "representative_form_visibility"
        unique_together = (("representative", "template"),)
