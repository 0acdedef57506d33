from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency
from models.clients import Client
from models.enums import PortalAccountKind
from models.staff import Staff


class PortalAccount(Model):
    """A client's or a representative's sign-in to the portal."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="portal_accounts", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(PortalAccountKind, max_length=16)
    username = fields.CharField(max_length=64)
    email = fields.CharField(max_length=254)
    password_hash = fields.CharField(max_length=200)
    client_id: UUID | None
    client: fields.ForeignKeyNullableRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="portal_accounts", null=True, on_delete=fields.CASCADE
    )
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "portal_account"
        unique_together = (("agency", "username"),)


class Session(Model):
    """A bearer session. Only the SHA-256 of the token is stored."""

    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="sessions", on_delete=fields.CASCADE
    )
    staff_id: UUID | None
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    account_id: UUID | None
    account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    ip = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "session"
