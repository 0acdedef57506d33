from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model


class Agency(Model):
    """The tenant: every other row belongs to exactly one agency."""

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=63, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "agency"


class Location(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="locations", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    address = fields.TextField(default="")
    time_zone = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "location"
        ordering = ["name", "id"]
