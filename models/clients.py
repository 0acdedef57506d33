from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency
from models.enums import ClientStatus
from models.staff import Staff

if TYPE_CHECKING:
    from models.accounts import PortalAccount


class Client(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="clients", on_delete=fields.CASCADE
    )
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, null=True)
    date_of_birth = fields.DateField(null=True)
    status = fields.CharEnumField(ClientStatus, max_length=16, default=ClientStatus.ACTIVE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "client"
        ordering = ["last_name", "first_name", "id"]


class CareTeamMember(Model):
    id = fields.UUIDField(primary_key=True)
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="care_team", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="care_team_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "care_team_member"
        unique_together = (("client", "staff"),)


class Representative(Model):
    """A person acting for one client. The same person for two clients is two rows
    sharing one portal account."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="representatives", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="representatives", on_delete=fields.CASCADE
    )
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254)
    relationship = fields.CharField(max_length=100, default="")
    account_id: UUID | None
    account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount",
        related_name="representations",
        null=True,
        on_delete=fields.SET_NULL,
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "representative"
        ordering = ["last_name", "first_name", "id"]
