"""Scheduling: staff availability, bookable slots, appointments and appointment requests.

Units: lengths in minutes, notice and late cancellation in hours, horizon in days. Times are
DateTime with offset (stored UTC); slots come in the location's time zone; dates (from, to,
dates off) are calendar days of the location.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from app.context import Info
from models import scheduling as rows
from models.agency import Location as LocationRow
from models.enums import AppointmentMode
from resolvers import availability as availability_logic
from resolvers import scheduling as logic
from schema.common import UserError, attempt, changes, gid
from schema.permissions import IsStaff, SignedIn
from schema.staff import Location, to_location

strawberry.enum(
    rows.AppointmentStatus,
    description="SCHEDULED; CANCELLED; LATE_CANCELLED (cancelled by the client inside the "
    "late-cancellation window); COMPLETED.",
)
strawberry.enum(rows.AppointmentSource, description="Booked in the portal or by staff.")
strawberry.enum(
    rows.RequestStatus,
    description="PENDING (holds its slot); APPROVED (an appointment was made); DENIED (with "
    "an optional reason); CANCELLED (withdrawn by the client); EXPIRED (still pending when its "
    "time came).",
)
strawberry.enum(logic.When, description="PAST: started before now; FUTURE: starts now or later.")


@strawberry.enum(description="A day of the week.")
class Weekday(Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


ClientIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The client the portal user acts for: required for a representative of "
        "more than one client, otherwise optional. A client the viewer does not act for is "
        "FORBIDDEN."
    ),
]


@strawberry.type(description="A weekly window of availability at one location.")
class AvailabilityWindow:
    location: Location
    weekday: Weekday
    start: str = strawberry.field(description="Local time HH:MM in the location's time zone.")
    end: str = strawberry.field(description="Local time HH:MM, after start; 24:00 is midnight.")


@strawberry.type(description="When a staff member can be booked.")
class StaffAvailability:
    staff_id: strawberry.ID
    shown_in_portal: bool = strawberry.field(
        description="Whether clients on their care team see this availability in the portal."
    )
    appointment_minutes: int | None = strawberry.field(
        description="Their own appointment length in minutes; null uses the agency default."
    )
    break_minutes: int | None = strawberry.field(
        description="Their own break after each appointment in minutes; null uses the agency "
        "default."
    )
    effective_appointment_minutes: int = strawberry.field(
        description="The length slots use: their own, or the agency default."
    )
    effective_break_minutes: int = strawberry.field(
        description="The break slots keep: their own, or the agency default."
    )
    windows: list[AvailabilityWindow]
    dates_off: list[date] = strawberry.field(
        description="Days (each location's calendar) with no appointments, ascending."
    )


@strawberry.type(description="A bookable time: book or request it with exactly this start.")
class Slot:
    start: datetime = strawberry.field(description="With the location's UTC offset.")
    end: datetime = strawberry.field(description="start + the appointment length.")
    staff_id: strawberry.ID
    location_id: strawberry.ID


@strawberry.type(description="An appointment of a client with a staff member at a location.")
class Appointment:
    id: strawberry.ID
    client_id: strawberry.ID
    staff_id: strawberry.ID
    location_id: strawberry.ID
    start: datetime = strawberry.field(description="UTC.")
    end: datetime = strawberry.field(description="UTC.")
    status: rows.AppointmentStatus
    source: rows.AppointmentSource
    cancelled_at: datetime | None = strawberry.field(description="Null unless cancelled.")


@strawberry.type(description="A client's request for a time, for staff to approve or deny.")
class AppointmentRequest:
    id: strawberry.ID
    client_id: strawberry.ID
    staff_id: strawberry.ID
    location_id: strawberry.ID
    start: datetime = strawberry.field(description="UTC.")
    end: datetime = strawberry.field(description="UTC.")
    status: rows.RequestStatus
    reason: str = strawberry.field(description="Why it was denied; empty when none was given.")
    decided_at: datetime | None = strawberry.field(
        description="When it was approved, denied, cancelled or expired; null while pending."
    )
    appointment_id: strawberry.ID | None = strawberry.field(
        description="The appointment an approval made; null otherwise."
    )


@strawberry.type(description="What the portal's appointment pages need from the settings.")
class PortalScheduling:
    client_id: strawberry.ID = strawberry.field(description="The client acted for.")
    mode: AppointmentMode = strawberry.field(description="Clients can: view, make or request.")
    allow_client_cancel: bool
    cancellation_message: str = strawberry.field(
        description="What to show before a cancellation: the agency's message, or "
        f'"{logic.GENERIC_CANCELLATION_MESSAGE}" when none is set.'
    )
    max_days_in_future: int = strawberry.field(
        description="Days ahead (location calendar) slots are offered."
    )
    min_notice_hours: int = strawberry.field(description="No slot starts sooner, in hours.")
    late_cancel_hours: int = strawberry.field(
        description="A cancellation fewer than this many hours before the start is recorded "
        "LATE_CANCELLED."
    )


def to_window(window: rows.AvailabilityWindow, location: LocationRow) -> AvailabilityWindow:
    return AvailabilityWindow(
        location=to_location(location),
        weekday=Weekday(window.weekday),
        start=availability_logic.clock_text(window.start_minute),
        end=availability_logic.clock_text(window.end_minute),
    )


def to_availability(view: availability_logic.AvailabilityView) -> StaffAvailability:
    return StaffAvailability(
        staff_id=gid(view.staff_id),
        shown_in_portal=view.shown_in_portal,
        appointment_minutes=view.appointment_minutes,
        break_minutes=view.break_minutes,
        effective_appointment_minutes=view.effective_appointment_minutes,
        effective_break_minutes=view.effective_break_minutes,
        windows=[to_window(w, loc) for w, loc in view.windows],
        dates_off=view.dates_off,
    )


def to_appointment(row: rows.Appointment) -> Appointment:
    return Appointment(
        id=gid(row.id),
        client_id=gid(row.client_id),
        staff_id=gid(row.staff_id),
        location_id=gid(row.location_id),
        start=row.starts_at,
        end=row.ends_at,
        status=row.status,
        source=row.source,
        cancelled_at=row.cancelled_at,
    )


def to_request(row: rows.AppointmentRequest) -> AppointmentRequest:
    return AppointmentRequest(
        id=gid(row.id),
        client_id=gid(row.client_id),
        staff_id=gid(row.staff_id),
        location_id=gid(row.location_id),
        start=row.starts_at,
        end=row.ends_at,
        status=row.status,
        reason=row.reason,
        decided_at=row.decided_at,
        appointment_id=gid(row.appointment_id) if row.appointment_id else None,
    )


# --- inputs and payloads -----------------------------------------------------------------------


@strawberry.input(description="One weekly window.")
class AvailabilityWindowInput:
    location_id: strawberry.ID = strawberry.field(
        description="One of the staff member's locations (setStaffLocations), else "
        "NOT_STAFF_LOCATION."
    )
    weekday: Weekday
    start: str = strawberry.field(description="Local HH:MM (00:00 to 23:59).")
    end: str = strawberry.field(
        description="Local HH:MM after start (24:00 for midnight), else INVALID_TIME_RANGE."
    )


@strawberry.input(
    description="Replaces a staff member's availability. Errors: NOT_FOUND (staff), "
    "NOT_STAFF_LOCATION, INVALID_TIME_RANGE, OVERLAPPING_WINDOWS (two windows of a weekday "
    "overlap, across locations), OUT_OF_RANGE (lengths, over 100 windows or 400 dates off)."
)
class SetStaffAvailabilityInput:
    staff_id: strawberry.ID
    windows: list[AvailabilityWindowInput] = strawberry.field(
        description="Every weekly window; replaces the current ones."
    )
    dates_off: list[date] = strawberry.field(
        default_factory=list, description="Every date off; replaces the current ones."
    )
    shown_in_portal: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Offer this availability in the portal."
    )
    appointment_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="5 to 480 minutes; null falls back to the agency default; omitted keeps it.",
    )
    break_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="0 to 240 minutes; null falls back to the agency default; omitted keeps it.",
    )


@strawberry.input(description="Which slots to list.")
class BookableSlotsInput:
    staff_id: strawberry.ID = strawberry.field(
        description="A staff member on the client's care team, else FORBIDDEN."
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of the staff member's locations; required when they have several.",
    )
    from_: date = strawberry.field(name="from", description="First day, location calendar.")
    to: date = strawberry.field(description="Last day (inclusive); at most 93 days after from.")
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for a representative of more than one client."
    )


@strawberry.input(description="A slot to book or request: exactly a listed slot's start.")
class BookInput:
    staff_id: strawberry.ID
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required when the staff member has several locations."
    )
    start: datetime = strawberry.field(description="A bookableSlots start, with its offset.")
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for a representative of more than one client."
    )


@strawberry.input
class RequestIdInput:
    id: strawberry.ID = strawberry.field(description="The appointment request.")


@strawberry.input
class DenyAppointmentRequestInput:
    id: strawberry.ID = strawberry.field(description="The appointment request.")
    reason: str | None = strawberry.field(
        default=None, description="Shown to the client; at most 1,000 characters."
    )


@strawberry.input(description="An appointment made by staff.")
class CreateAppointmentInput:
    client_id: strawberry.ID
    staff_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Whom with; default the caller. Others need MANAGE_ALL_APPOINTMENTS.",
    )
    location_id: strawberry.ID = strawberry.field(description="One of the staff's locations.")
    start: datetime = strawberry.field(description="With offset; any time, windows aside.")
    minutes: int | None = strawberry.field(
        default=None,
        description="Length, 5 to 480 minutes; default the staff member's appointment length.",
    )


@strawberry.input
class CancelAppointmentInput:
    appointment_id: strawberry.ID


@strawberry.type
class StaffAvailabilityPayload:
    availability: StaffAvailability | None = strawberry.field(description="Null on errors.")
    errors: list[UserError]


@strawberry.type
class AppointmentPayload:
    appointment: Appointment | None = strawberry.field(description="Null on errors.")
    errors: list[UserError]


@strawberry.type
class AppointmentRequestPayload:
    request: AppointmentRequest | None = strawberry.field(description="Null on errors.")
    errors: list[UserError]


def _appointment_payload(
    row: rows.Appointment | None, errors: list[UserError]
) -> AppointmentPayload:
    return AppointmentPayload(appointment=to_appointment(row) if row else None, errors=errors)


def _request_payload(
    row: rows.AppointmentRequest | None, errors: list[UserError]
) -> AppointmentRequestPayload:
    return AppointmentRequestPayload(request=to_request(row) if row else None, errors=errors)


_PORTAL: list[type[BasePermission]] = [SignedIn]
_STAFF: list[type[BasePermission]] = [IsStaff]


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=_STAFF,
        description="A staff member's availability: the staff member themselves or "
        "MANAGE_STAFF. Errors (BAD_USER_INPUT): NOT_FOUND.",
    )
    async def staff_availability(self, info: Info, staff_id: strawberry.ID) -> StaffAvailability:
        view = await availability_logic.staff_availability(info.context.caller, staff_id)
        return to_availability(view)

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users: the slots of a care-team staff member who offers portal "
        "availability (none if they do not), in order; mode MAKE or REQUEST. Refused as "
        "BAD_USER_INPUT with a message for VIEW_ONLY (MODE_FORBIDS), over 93 days "
        "(RANGE_TOO_LONG), a missing locationId or clientId (REQUIRED) or a location the staff "
        "member does not work at; FORBIDDEN for staff not on the care team.",
    )
    async def bookable_slots(self, info: Info, input: BookableSlotsInput) -> list[Slot]:
        found = await logic.bookable(
            info.context.caller,
            input.staff_id,
            input.location_id,
            input.from_,
            input.to,
            input.client_id,
        )
        return [
            Slot(
                start=s.start,
                end=s.end,
                staff_id=gid(s.staff_id),
                location_id=gid(s.location_id),
            )
            for s in found
        ]

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users: the client's appointments, any status. FUTURE soonest "
        "first, PAST latest first; at most 200.",
    )
    async def my_appointments(
        self, info: Info, when: logic.When, client_id: ClientIdArg = None
    ) -> list[Appointment]:
        found = await logic.my_appointments(info.context.caller, when, client_id)
        return [to_appointment(r) for r in found]

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users: the client's appointment requests with their decision and "
        "reason, newest first; at most 200. Null status means all.",
    )
    async def my_appointment_requests(
        self,
        info: Info,
        status: rows.RequestStatus | None = None,
        client_id: ClientIdArg = None,
    ) -> list[AppointmentRequest]:
        found = await logic.my_requests(info.context.caller, status, client_id)
        return [to_request(r) for r in found]

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users: the appointment settings their pages need.",
    )
    async def portal_scheduling(
        self, info: Info, client_id: ClientIdArg = None
    ) -> PortalScheduling:
        view = await logic.portal_scheduling(info.context.caller, client_id)
        return PortalScheduling(
            client_id=gid(view.client_id),
            mode=view.mode,
            allow_client_cancel=view.allow_client_cancel,
            cancellation_message=view.cancellation_message,
            max_days_in_future=view.max_days_in_future,
            min_notice_hours=view.min_notice_hours,
            late_cancel_hours=view.late_cancel_hours,
        )

    @strawberry.field(
        permission_classes=_STAFF,
        description="Staff: requests they may decide (their own as clinician; all for the "
        "designated staff member and MANAGE_ALL_APPOINTMENTS), soonest first, at most 200. "
        "Null status means all.",
    )
    async def appointment_requests(
        self, info: Info, status: rows.RequestStatus | None = rows.RequestStatus.PENDING
    ) -> list[AppointmentRequest]:
        found = await logic.appointment_requests(info.context.caller, status)
        return [to_request(r) for r in found]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Replaces a staff member's availability: the staff member or MANAGE_STAFF.",
    )
    async def set_staff_availability(
        self, info: Info, input: SetStaffAvailabilityInput
    ) -> StaffAvailabilityPayload:
        windows = [
            availability_logic.WindowInput(str(w.location_id), w.weekday.value, w.start, w.end)
            for w in input.windows
        ]
        work = availability_logic.set_staff_availability(
            info.context.caller,
            input.staff_id,
            windows,
            input.dates_off,
            changes(input, "staff_id", "windows", "dates_off"),
        )
        view, errors = await attempt(work)
        return StaffAvailabilityPayload(
            availability=to_availability(view) if view else None, errors=errors
        )

    @strawberry.mutation(
        permission_classes=_PORTAL,
        description="Portal users, mode MAKE: books a listed slot (SCHEDULED). Errors: "
        "MODE_FORBIDS, SLOT_UNAVAILABLE (not a bookable slot now), SLOT_TAKEN, REQUIRED, "
        "NOT_STAFF_LOCATION; FORBIDDEN for staff not on the care team.",
    )
    async def book_appointment(self, info: Info, input: BookInput) -> AppointmentPayload:
        work = logic.book_appointment(
            info.context.caller,
            input.staff_id,
            input.location_id,
            input.start,
            input.client_id,
            info.context.settings.public_base_url,
        )
        return _appointment_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_PORTAL,
        description="Portal users, mode REQUEST: requests a listed slot (PENDING, holding the "
        "slot until decided or expired). Errors as bookAppointment.",
    )
    async def request_appointment(self, info: Info, input: BookInput) -> AppointmentRequestPayload:
        work = logic.request_appointment(
            info.context.caller,
            input.staff_id,
            input.location_id,
            input.start,
            input.client_id,
            info.context.settings.public_base_url,
        )
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_PORTAL,
        description="Portal users: withdraws a pending request of their client "
        "(REQUEST_DECIDED if no longer pending).",
    )
    async def cancel_appointment_request(
        self, info: Info, input: RequestIdInput
    ) -> AppointmentRequestPayload:
        base = info.context.settings.public_base_url
        work = logic.cancel_request(info.context.caller, input.id, base)
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff (the clinician, the designated staff member, or "
        "MANAGE_ALL_APPOINTMENTS): approves a pending request, making its appointment; the "
        "client is e-mailed that there is an update. Errors: REQUEST_DECIDED, SLOT_UNAVAILABLE "
        "(its time has passed).",
    )
    async def approve_appointment_request(
        self, info: Info, input: RequestIdInput
    ) -> AppointmentRequestPayload:
        base = info.context.settings.public_base_url
        work = logic.approve_request(info.context.caller, input.id, base)
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff (as approveAppointmentRequest): denies a pending request with an "
        "optional reason the client sees; the slot is released and the client e-mailed that "
        "there is an update. Errors: REQUEST_DECIDED, TOO_LONG.",
    )
    async def deny_appointment_request(
        self, info: Info, input: DenyAppointmentRequestInput
    ) -> AppointmentRequestPayload:
        base = info.context.settings.public_base_url
        work = logic.deny_request(info.context.caller, input.id, input.reason, base)
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff: an appointment for a client of their care team with themselves; "
        "MANAGE_ALL_APPOINTMENTS for anyone. Errors: SLOT_TAKEN (overlaps another appointment "
        "or pending request of that staff member, break included), NOT_STAFF_LOCATION, "
        "OUT_OF_RANGE.",
    )
    async def create_appointment(
        self, info: Info, input: CreateAppointmentInput
    ) -> AppointmentPayload:
        work = logic.create_appointment(
            info.context.caller,
            input.client_id,
            input.staff_id,
            input.location_id,
            input.start,
            input.minutes,
            info.context.settings.public_base_url,
        )
        return _appointment_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_PORTAL,
        description="Staff (the clinician or MANAGE_ALL_APPOINTMENTS): CANCELLED. Portal users, "
        "when the agency allows client cancellation, for a future appointment of their client: "
        "LATE_CANCELLED inside the late-cancellation hours, otherwise CANCELLED. Errors: "
        "NOT_CANCELLABLE.",
    )
    async def cancel_appointment(
        self, info: Info, input: CancelAppointmentInput
    ) -> AppointmentPayload:
        base = info.context.settings.public_base_url
        work = logic.cancel_appointment(info.context.caller, input.appointment_id, base)
        return _appointment_payload(*await attempt(work))
