"""Tasks: to-do items the agency's staff see in the app (How to Notify: Task).

A task names what happened by kind and points at the appointment or request by id. It holds no
client name, time or other detail: the staff app resolves those through the scheduling fields,
which check that the viewer may see that client.
"""

from __future__ import annotations

import os
import time
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.agency import Agency
from models.enums import DescribedEnum
from models.scheduling import Appointment, AppointmentRequest
from models.staff import Staff


class TaskKind(DescribedEnum):
    PORTAL_APPOINTMENT_BOOKED = (
        "PORTAL_APPOINTMENT_BOOKED",
        "A client or representative booked an appointment in the portal (appointmentId).",
    )
    PORTAL_APPOINTMENT_REQUESTED = (
        "PORTAL_APPOINTMENT_REQUESTED",
        "A client or representative requested a time in the portal, to approve or deny "
        "(appointmentRequestId); done by itself when the request is settled.",
    )


def time_ordered_id() -> UUID:
    """A version 7 UUID (RFC 9562): milliseconds since the epoch first, then random bits, so
    ordering by id lists tasks oldest first and keyset pages by id stay stable."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return UUID(int=value)


class Task(Model):
    """Assigned to one staff member, open until someone marks it done."""

    id = fields.UUIDField(primary_key=True, default=time_ordered_id)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="tasks", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tasks", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(TaskKind, max_length=32)
    appointment_id: UUID | None
    appointment: fields.ForeignKeyNullableRelation[Appointment] = fields.ForeignKeyField(
        "models.Appointment", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    request_id: UUID | None
    request: fields.ForeignKeyNullableRelation[AppointmentRequest] = fields.ForeignKeyField(
        "models.AppointmentRequest", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)
    done_by_staff_id: UUID | None
    done_by_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tasks_done", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "task"
        indexes = (("staff_id", "done_at"),)
