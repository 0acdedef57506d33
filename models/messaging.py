"""Secure messaging: threads between a client's side and one staff member, their messages, and
each reader's place in each thread.

A thread belongs to one client and one staff member (its correspondent). The client's side is
the client's portal account and every representative of that client. Ids are version 7 UUIDs,
so ordering by id lists messages oldest first and threads by their last message.
"""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.accounts import PortalAccount
from models.agency import Agency
from models.clients import Client
from models.enums import DescribedEnum
from models.staff import Staff
from models.tasks import time_ordered_id


class MessageAuthorKind(DescribedEnum):
    STAFF = "STAFF", "A staff member of the agency."
    CLIENT = "CLIENT", "The client, from their own portal account."
    REPRESENTATIVE = "REPRESENTATIVE", "A representative of the client (a parent, a guardian)."


class MessageThread(Model):
    """A conversation of one client's side with one staff member.

    message_count is kept on the row so unread counts need no scan of messages: a reader's
    unread count is message_count less the sequence number they read up to."""

    id = fields.UUIDField(primary_key=True, default=time_ordered_id)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="message_threads", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="message_threads", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="message_threads", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=200)
    created_at = fields.DatetimeField()
    message_count = fields.IntField(default=0)
    # The newest message: its id orders the inbox (newest first) and is the list's cursor.
    last_message_id = fields.UUIDField()
    last_message_at = fields.DatetimeField()

    class Meta:
        table = "message_thread"
        indexes = (("agency_id", "last_message_id"), ("client_id", "last_message_id"))


class Message(Model):
    id = fields.UUIDField(primary_key=True, default=time_ordered_id)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="messages", on_delete=fields.CASCADE
    )
    thread_id: UUID
    thread: fields.ForeignKeyRelation[MessageThread] = fields.ForeignKeyField(
        "models.MessageThread", related_name="messages", on_delete=fields.CASCADE
    )
    # 1, 2, 3... within the thread, given under the thread's row lock.
    seq = fields.IntField()
    author_kind = fields.CharEnumField(MessageAuthorKind, max_length=16)
    author_staff_id: UUID | None
    author_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="messages_written", null=True, on_delete=fields.SET_NULL
    )
    author_account_id: UUID | None
    author_account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount",
        related_name="messages_written",
        null=True,
        on_delete=fields.SET_NULL,
    )
    body = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "message"
        unique_together = (("thread", "seq"),)


class ThreadReadMarker(Model):
    """How far one reader (a staff member or a portal account) has read one thread."""

    id = fields.UUIDField(primary_key=True)
    thread_id: UUID
    thread: fields.ForeignKeyRelation[MessageThread] = fields.ForeignKeyField(
        "models.MessageThread", related_name="read_markers", on_delete=fields.CASCADE
    )
    staff_id: UUID | None
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="thread_markers", null=True, on_delete=fields.CASCADE
    )
    account_id: UUID | None
    account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount", related_name="thread_markers", null=True, on_delete=fields.CASCADE
    )
    read_seq = fields.IntField(default=0)
    read_at = fields.DatetimeField()

    class Meta:
        table = "thread_read_marker"
        unique_together = (("thread", "staff"), ("thread", "account"))
