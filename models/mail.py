from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency
from models.enums import OutboxStatus


class OutboxMessage(Model):
    """One e-mail, written in the same transaction as the change that caused it.

    Its text comes from agency settings and a link: never PHI.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID | None
    agency: fields.ForeignKeyNullableRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="outbox", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=32)
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    text_body = fields.TextField()
    html_body = fields.TextField()
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
