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


class RecoveryRequest(Model):
    """A password-reset or user-name-recovery request, written before the answer is sent.

    Written for every request, known account or not, so the answer costs the same either way.
    It holds ids only (the accounts found, none for an unknown one). A job turns it into the
    e-mail and deletes it in the same transaction.
    """

    id = fields.UUIDField(primary_key=True)
    kind = fields.CharField(max_length=32)
    agency_id: UUID | None
    agency: fields.ForeignKeyNullableRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="recovery_requests", null=True, on_delete=fields.CASCADE
    )
    account_ids: list[str] = fields.JSONField(default=list)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "recovery_request"
