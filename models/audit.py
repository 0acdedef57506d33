from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import ActorKind, AuditOutcome


class AuditEvent(Model):
    """Append-only (HIPAA 164.312(b)): who did what to which object, when, from where.

    Holds identifiers only, never PHI values. Not a foreign key to the agency so that the
    trail outlives whatever it describes.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField(null=True, db_index=True)
    actor_kind = fields.CharEnumField(ActorKind, max_length=16)
    actor_id = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=64, null=True)
    object_id = fields.CharField(max_length=64, null=True)
    outcome = fields.CharEnumField(AuditOutcome, max_length=16)
    ip = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_event"
