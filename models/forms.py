from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency


class FormTemplate(Model):
    """A kiosk form. The visibility flags are the agency defaults for completed forms."""

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

    class Meta:
        table = "form_template"
        ordering = ["name", "id"]
