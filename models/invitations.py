from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.accounts import PortalAccount
from models.agency import Agency
from models.clients import Client, Representative
from models.enums import PortalAccountKind, TokenState
from models.staff import Staff


class Invitation(Model):
    """A registration link for a client or a representative. Only the token's hash is kept."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="invitations", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(PortalAccountKind, max_length=16)
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="invitations", on_delete=fields.CASCADE
    )
    representative_id: UUID | None
    representative: fields.ForeignKeyNullableRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="invitations", null=True, on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    state = fields.CharEnumField(TokenState, max_length=16, default=TokenState.ACTIVE)
    expires_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"


class PasswordReset(Model):
    """A password reset link. A newer request voids the older ones."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="password_resets", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    account_id: UUID
    account: fields.ForeignKeyRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount", related_name="password_resets", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(TokenState, max_length=16, default=TokenState.ACTIVE)
    expires_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_reset"


class StaffPasswordLink(Model):
    """A one-time link for a staff member to set their password. A newer one voids the older.

    Sent to a new member, re-sent by a manager, or asked for through forgot-password."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="staff_password_links", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="password_links", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(TokenState, max_length=16, default=TokenState.ACTIVE)
    expires_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_password_link"
