"""Scheduling: staff availability, appointments, portal appointment requests, slot holds.

Times of appointments and requests are stored UTC. Availability windows are local times of day
(minutes after local midnight) in the location's IANA time zone, so a 09:00-17:00 window stays
09:00-17:00 local across daylight-saving changes (resolvers/slots.py does the arithmetic).

No double booking: every active appointment and every pending request holds its time in
`slot_hold`. On PostgreSQL an exclusion constraint (btree_gist) over (staff, time range) in that
one table covers both kinds at once (migration 0005_scheduling). On SQLite the booking
transaction re-checks instead (writes there are serialized anyway).
"""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.accounts import PortalAccount
from models.agency import Agency, Location
from models.clients import Client
from models.enums import DescribedEnum
from models.staff import Staff


class AppointmentStatus(DescribedEnum):
    SCHEDULED = (
        "SCHEDULED",
        "Booked and not cancelled: it holds its time (and the break after it) from other "
        "bookings. Every new appointment starts here.",
    )
    CANCELLED = (
        "CANCELLED",
        "Cancelled by staff, or by a portal user at least the agency's late-cancellation "
        "hours before the start; its time is free again.",
    )
    LATE_CANCELLED = (
        "LATE_CANCELLED",
        "Cancelled by a portal user fewer than the agency's late-cancellation hours before the "
        "start; its time is free again.",
    )
    COMPLETED = (
        "COMPLETED",
        "Took place. Nothing in this API sets it yet; such an appointment cannot be cancelled.",
    )


class AppointmentSource(DescribedEnum):
    PORTAL = (
        "PORTAL",
        "Made in the portal: booked by a client or representative (bookAppointment) or made "
        "when staff approved their request.",
    )
    STAFF = "STAFF", "Made by staff (createAppointment)."


class RequestStatus(DescribedEnum):
    PENDING = (
        "PENDING",
        "Waiting for staff to decide; it holds its time (and the break after it) from other "
        "bookings.",
    )
    APPROVED = "APPROVED", "Staff approved it; appointmentId names the appointment it made."
    DENIED = (
        "DENIED",
        "Staff denied it, with the reason (possibly empty) the client sees; its time is free "
        "again.",
    )
    CANCELLED = "CANCELLED", "Withdrawn by the client or representative while pending."
    EXPIRED = (
        "EXPIRED",
        "Still pending when its start time came; a periodic job expires it and frees its time.",
    )


class StaffSchedule(Model):
    """A staff member's scheduling preferences. Null lengths fall back to the agency defaults
    (PortalSettings.default_appointment_minutes, default_break_minutes)."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="staff_schedules", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.OneToOneRelation[Staff] = fields.OneToOneField(
        "models.Staff", related_name="schedule", on_delete=fields.CASCADE
    )
    shown_in_portal = fields.BooleanField(default=False)
    appointment_minutes = fields.IntField(null=True)
    break_minutes = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "staff_schedule"


class AvailabilityWindow(Model):
    """A weekly window: on `weekday` (0 Monday .. 6 Sunday), local minutes [start, end)."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="availability_windows", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="availability_windows", on_delete=fields.CASCADE
    )
    location_id: UUID
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "models.Location", related_name="availability_windows", on_delete=fields.CASCADE
    )
    weekday = fields.SmallIntField()
    start_minute = fields.SmallIntField()
    end_minute = fields.SmallIntField()

    class Meta:
        table = "availability_window"
        ordering = ["weekday", "start_minute", "id"]


class DateOff(Model):
    """A calendar day (in each location's own calendar) the staff member takes no appointments."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="dates_off", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="dates_off", on_delete=fields.CASCADE
    )
    day = fields.DateField()

    class Meta:
        table = "date_off"
        unique_together = (("staff", "day"),)
        ordering = ["day"]


class Appointment(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="appointments", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="appointments", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="appointments", on_delete=fields.CASCADE
    )
    location_id: UUID
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "models.Location", related_name="appointments", on_delete=fields.CASCADE
    )
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    status = fields.CharEnumField(
        AppointmentStatus, max_length=16, default=AppointmentStatus.SCHEDULED
    )
    source = fields.CharEnumField(AppointmentSource, max_length=8)
    created_by_staff_id: UUID | None
    created_by_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="appointments_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_account_id: UUID | None
    created_by_account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount",
        related_name="appointments_created",
        null=True,
        on_delete=fields.SET_NULL,
    )
    cancelled_at = fields.DatetimeField(null=True)
    cancelled_by_staff_id: UUID | None
    cancelled_by_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="appointments_cancelled", null=True, on_delete=fields.SET_NULL
    )
    cancelled_by_account_id: UUID | None
    cancelled_by_account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount",
        related_name="appointments_cancelled",
        null=True,
        on_delete=fields.SET_NULL,
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "appointment"
        ordering = ["starts_at", "id"]


class AppointmentRequest(Model):
    """A portal client's request for a time (mode REQUEST), which staff approve or deny."""

    id = fields.UUIDField(primary_key=True)
    agency_id: UUID
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="appointment_requests", on_delete=fields.CASCADE
    )
    client_id: UUID
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="appointment_requests", on_delete=fields.CASCADE
    )
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="appointment_requests", on_delete=fields.CASCADE
    )
    location_id: UUID
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "models.Location", related_name="appointment_requests", on_delete=fields.CASCADE
    )
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    status = fields.CharEnumField(RequestStatus, max_length=16, default=RequestStatus.PENDING)
    reason = fields.TextField(default="")
    requested_by_account_id: UUID | None
    requested_by_account: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount",
        related_name="appointment_requests",
        null=True,
        on_delete=fields.SET_NULL,
    )
    decided_by_staff_id: UUID | None
    decided_by_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="requests_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    appointment_id: UUID | None
    appointment: fields.ForeignKeyNullableRelation[Appointment] = fields.ForeignKeyField(
        "models.Appointment", related_name="requests", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "appointment_request"
        ordering = ["starts_at", "id"]


class SlotHold(Model):
    """The time an active appointment or a pending request keeps from everyone else.

    Exactly one of appointment / request is set. [starts_at, ends_at) is the appointment's time
    plus, for portal bookings, the break after it. Deleted when the appointment is cancelled
    or the request is decided otherwise; an approval moves it to the new appointment.
    """

    id = fields.UUIDField(primary_key=True)
    staff_id: UUID
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="slot_holds", on_delete=fields.CASCADE
    )
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    appointment_id: UUID | None
    appointment: fields.ForeignKeyNullableRelation[Appointment] = fields.ForeignKeyField(
        "models.Appointment", related_name="holds", null=True, on_delete=fields.CASCADE
    )
    request_id: UUID | None
    request: fields.ForeignKeyNullableRelation[AppointmentRequest] = fields.ForeignKeyField(
        "models.AppointmentRequest", related_name="holds", null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "slot_hold"
        indexes = (("staff_id", "starts_at"),)
