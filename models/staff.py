from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency, Location
from models.enums import AppointmentNotification


class Staff(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="staff", on_delete=fields.CASCADE
    )
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254)
    second_email = fields.CharField(max_length=254, null=True)
    permissions: list[str] = fields.JSONField(default=list)
    password_hash = fields.CharField(max_length=200, null=True)
    appointment_notification = fields.CharEnumField(
        AppointmentNotification, max_length=16, default=AppointmentNotification.NONE
    )
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff"
        unique_together = (("agency", "email"),)
        ordering = ["last_name", "first_name", "id"]


class StaffLocation(Model):
    id = fields.UUIDField(primary_key=True)
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="location_links", on_delete=fields.CASCADE
    )
    location_id: UUID
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "models.Location", related_name="staff_links", on_delete=fields.CASCADE
    )
    is_default = fields.BooleanField(default=False)

    class Meta:
        table = "staff_location"
        unique_together = (("staff", "location"),)
