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
from schema.common import UserError, attempt, changes, expose, gid
from schema.compiled import SAFE_TO_REPEAT
from schema.permissions import IsStaff, SignedIn
from schema.staff import Location, to_location

expose(
    rows.AppointmentStatus,
    "Where an appointment stands. Only SCHEDULED keeps its time (and the staff member's break "
    "after it) from other bookings; cancelAppointment moves it to CANCELLED or LATE_CANCELLED.",
)
expose(rows.AppointmentSource, "Who made an appointment: the portal or staff.")
expose(
    rows.RequestStatus,
    "Where an appointment request stands. Only PENDING keeps its time from other bookings; "
    "every other status is final.",
)
expose(logic.When, "Which of a client's appointments to list: by start time, against now.")


@strawberry.enum(
    description="A day of the week, in the location's calendar (windows are local times)."
)
class Weekday(Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


# Plain int values (Python's date.weekday(), as stored) keep `.value` an int; a day's name says
# all a description could, so each value's description is its name.
for _day in Weekday.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _day.description = _day.name.title() + "."


ClientIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The client the portal user acts for: required for a representative of "
        "more than one client, otherwise optional. A client the viewer does not act for is "
        "FORBIDDEN."
    ),
]


@strawberry.type(
    description="A weekly window of availability at one location: on its weekday, portal "
    "slots run from start to end, local time, one after another (appointment length plus "
    "break apart)."
)
class AvailabilityWindow:
    location: Location = strawberry.field(
        description="Where the staff member is available; its timeZone (IANA) is the zone of "
        "start and end."
    )
    weekday: Weekday = strawberry.field(description="The local day of the week it repeats on.")
    start: str = strawberry.field(
        description="Local time HH:MM in the location's IANA time zone: the first slot starts "
        "here. It stays at this wall-clock time across daylight-saving changes."
    )
    end: str = strawberry.field(
        description="Local time HH:MM, after start; 24:00 is midnight. A slot ends by it."
    )


@strawberry.type(
    description="When a staff member can be booked in the portal. Staff themselves "
    "(createAppointment) may book any time, windows aside."
)
class StaffAvailability:
    staff_id: strawberry.ID = strawberry.field(description="The staff member (Staff.id).")
    shown_in_portal: bool = strawberry.field(
        description="Whether clients on their care team see this availability in the portal; "
        "false (the default) means bookableSlots lists none of their slots and bookings are "
        "refused (SLOT_UNAVAILABLE)."
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
    windows: list[AvailabilityWindow] = strawberry.field(
        description="Every weekly window, at any of their locations, by weekday (Monday first) "
        "then start; no two windows of a weekday overlap. Empty: no portal slots."
    )
    dates_off: list[date] = strawberry.field(
        description="Days (each location's calendar) with no portal slots, ascending."
    )


@strawberry.type(
    description="A bookable time: book or request it with exactly this start. It was free when "
    "listed; someone may take it before you book (SLOT_TAKEN)."
)
class Slot:
    start: datetime = strawberry.field(
        description="In the location's time zone, with the UTC offset in force then (such as "
        "2030-03-11T09:00:00-04:00). Compare or subtract slots in UTC: the offset changes "
        "across daylight saving."
    )
    end: datetime = strawberry.field(
        description="start + the staff member's appointment length in minutes (the break "
        "after it not included), with the offset in force then."
    )
    staff_id: strawberry.ID = strawberry.field(description="The staff member it is with.")
    location_id: strawberry.ID = strawberry.field(description="The location it is at.")


@strawberry.type(description="An appointment of a client with a staff member at a location.")
class Appointment:
    id: strawberry.ID = strawberry.field(
        description="The appointment's id (cancelAppointment's appointmentId)."
    )
    client_id: strawberry.ID = strawberry.field(description="The client it is for (Client.id).")
    staff_id: strawberry.ID = strawberry.field(
        description="The staff member it is with (Staff.id)."
    )
    location_id: strawberry.ID = strawberry.field(
        description="Where it takes place (Location.id); that location's timeZone gives the "
        "local time to show."
    )
    start: datetime = strawberry.field(description="UTC (offset +00:00).")
    end: datetime = strawberry.field(
        description="UTC: start + its length in minutes (the staff member's break after it "
        "not included)."
    )
    status: rows.AppointmentStatus = strawberry.field(
        description="SCHEDULED until cancelled (see AppointmentStatus)."
    )
    source: rows.AppointmentSource = strawberry.field(
        description="Made in the portal (booked, or an approved request) or by staff."
    )
    cancelled_at: datetime | None = strawberry.field(
        description="When it was cancelled, UTC; null unless CANCELLED or LATE_CANCELLED."
    )


@strawberry.type(
    description="A client's request for a time (mode REQUEST), for staff to approve or deny."
)
class AppointmentRequest:
    id: strawberry.ID = strawberry.field(
        description="The request's id (the id of cancelAppointmentRequest, "
        "approveAppointmentRequest and denyAppointmentRequest)."
    )
    client_id: strawberry.ID = strawberry.field(description="The client it is for (Client.id).")
    staff_id: strawberry.ID = strawberry.field(description="The staff member asked for (Staff.id).")
    location_id: strawberry.ID = strawberry.field(
        description="Where (Location.id); that location's timeZone gives the local time to show."
    )
    start: datetime = strawberry.field(description="UTC (offset +00:00): the slot asked for.")
    end: datetime = strawberry.field(
        description="UTC: start + the appointment length in minutes at the time of asking."
    )
    status: rows.RequestStatus = strawberry.field(
        description="PENDING until decided, withdrawn or expired (see RequestStatus)."
    )
    reason: str = strawberry.field(
        description="Why it was denied, as staff wrote it; empty when none was given or it "
        "was not denied."
    )
    decided_at: datetime | None = strawberry.field(
        description="When (UTC) it was approved, denied, cancelled or expired; null while pending."
    )
    appointment_id: strawberry.ID | None = strawberry.field(
        description="The appointment an approval made; null otherwise."
    )


@strawberry.type(description="What the portal's appointment pages need from the settings.")
class PortalScheduling:
    client_id: strawberry.ID = strawberry.field(description="The client acted for.")
    mode: AppointmentMode = strawberry.field(description="Clients can: view, make or request.")
    allow_client_cancel: bool = strawberry.field(
        description="Whether the client may cancel their future appointments "
        "(cancelAppointment); when false that is NOT_CANCELLABLE and the page should say to "
        "contact the agency."
    )
    cancellation_message: str = strawberry.field(
        description="What to show before a cancellation: the agency's message, or "
        f'"{logic.GENERIC_CANCELLATION_MESSAGE}" when none is set.'
    )
    max_days_in_future: int = strawberry.field(
        description="Days after today (location calendar) slots are offered up to; later "
        "days of a bookableSlots range list none."
    )
    min_notice_hours: int = strawberry.field(
        description="Hours from now before which no slot starts."
    )
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


@strawberry.input(description="One weekly window, in local time of its location.")
class AvailabilityWindowInput:
    location_id: strawberry.ID = strawberry.field(
        description="One of the staff member's locations (setStaffLocations), else "
        "NOT_STAFF_LOCATION."
    )
    weekday: Weekday = strawberry.field(description="The local day of the week it repeats on.")
    start: str = strawberry.field(
        description="Local HH:MM (00:00 to 23:59) in the location's IANA time zone, else "
        "INVALID_TIME_RANGE."
    )
    end: str = strawberry.field(
        description="Local HH:MM after start (24:00 for midnight), else INVALID_TIME_RANGE."
    )


@strawberry.input(
    description="Replaces a staff member's availability. Errors: NOT_FOUND (staff), "
    "NOT_STAFF_LOCATION, INVALID_TIME_RANGE, OVERLAPPING_WINDOWS (two windows of a weekday "
    "overlap, across locations), OUT_OF_RANGE (lengths, over 100 windows or 400 dates off)."
)
class SetStaffAvailabilityInput:
    staff_id: strawberry.ID = strawberry.field(
        description="Whose availability (Staff.id): the caller's own, or anyone's in the agency "
        "with MANAGE_STAFF (else FORBIDDEN)."
    )
    windows: list[AvailabilityWindowInput] = strawberry.field(
        description="Every weekly window; replaces the current ones."
    )
    dates_off: list[date] = strawberry.field(
        default_factory=list, description="Every date off; replaces the current ones."
    )
    shown_in_portal: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Offer this availability to clients of their care team in the portal; null "
        "or omitted keeps the current value (false until first set).",
    )
    appointment_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="5 to 480 minutes; null falls back to the agency default; omitted keeps it.",
    )
    break_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="0 to 240 minutes; null falls back to the agency default; omitted keeps it.",
    )


@strawberry.input(
    description="Which slots to list: one staff member's or a whole care team's at a "
    "location, which days."
)
class BookableSlotsInput:
    staff_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An active staff member on the client's care team, else FORBIDDEN. Null "
        "(or omitted) lists the whole care team at locationId: the slots of every active "
        "care-team staff member who works there and shows availability in the portal, in one "
        "call (staff not on the team, elsewhere or hidden are left out, not refused).",
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="With staffId: one of the staff member's locations (else "
        "NOT_STAFF_LOCATION); null is their only one, and REQUIRED when they have several. "
        "Without staffId: REQUIRED, one of the agency's locations (else NOT_FOUND).",
    )
    from_: date = strawberry.field(
        name="from",
        description="First day, location calendar; days before today list nothing.",
    )
    to: date = strawberry.field(
        description="Last day (inclusive), not before from (else INVALID); from..to is at most "
        "93 days (else RANGE_TOO_LONG). Days past the horizon (maxDaysInFuture) list nothing."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for a representative of more than one client."
    )


@strawberry.input(description="A slot to book or request: exactly a listed slot's start.")
class BookInput:
    staff_id: strawberry.ID = strawberry.field(
        description="An active staff member on the client's care team (else FORBIDDEN) who "
        "offers portal availability (else SLOT_UNAVAILABLE)."
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of the staff member's locations (else NOT_STAFF_LOCATION); null is "
        "their only one, and REQUIRED when they have several.",
    )
    start: datetime = strawberry.field(
        description="A bookableSlots start, with an offset (without one: INVALID); any offset "
        "naming the same instant will do. Not a bookable slot now: SLOT_UNAVAILABLE."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for a representative of more than one client."
    )


@strawberry.input(description="Names one appointment request.")
class RequestIdInput:
    id: strawberry.ID = strawberry.field(
        description="AppointmentRequest.id; one the caller may not act on, or none, is FORBIDDEN."
    )


@strawberry.input(description="Which request to deny, and why.")
class DenyAppointmentRequestInput:
    id: strawberry.ID = strawberry.field(
        description="AppointmentRequest.id; one the caller may not act on, or none, is FORBIDDEN."
    )
    reason: str | None = strawberry.field(
        default=None,
        description="Shown to the client, blanks around it trimmed; at most 1,000 characters "
        "(else TOO_LONG). Null or empty gives no reason.",
    )


@strawberry.input(description="An appointment made by staff.")
class CreateAppointmentInput:
    client_id: strawberry.ID = strawberry.field(
        description="The client (Client.id): one whose care team the caller is in, or any with "
        "MANAGE_ALL_APPOINTMENTS; else FORBIDDEN."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Whom with; default the caller. Others need MANAGE_ALL_APPOINTMENTS.",
    )
    location_id: strawberry.ID = strawberry.field(
        description="One of the staff member's locations, else NOT_STAFF_LOCATION."
    )
    start: datetime = strawberry.field(
        description="With an offset (without one: INVALID); stored UTC. Any time: availability "
        "windows, dates off, notice and horizon do not bind staff."
    )
    minutes: int | None = strawberry.field(
        default=None,
        description="Length, 5 to 480 minutes (else OUT_OF_RANGE); null is the staff member's "
        "appointment length (their own, or the agency default).",
    )


@strawberry.input(description="Names one appointment to cancel.")
class CancelAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(
        description="Appointment.id; one the caller may not act on, or none, is FORBIDDEN."
    )


@strawberry.type(
    description="What setStaffAvailability returns: the availability as saved, or why nothing "
    "was saved."
)
class StaffAvailabilityPayload:
    availability: StaffAvailability | None = strawberry.field(
        description="The availability as saved; null on errors."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused (NOT_FOUND, NOT_STAFF_LOCATION, INVALID_TIME_RANGE, "
        "OVERLAPPING_WINDOWS, OUT_OF_RANGE), one entry per field at fault, such as "
        "windows.0.end; empty on success."
    )


@strawberry.type(
    description="What bookAppointment, createAppointment and cancelAppointment return: the "
    "appointment as saved, or why nothing changed."
)
class AppointmentPayload:
    appointment: Appointment | None = strawberry.field(
        description="The appointment as saved; null on errors."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused; empty on success. See the mutation for its codes."
    )


@strawberry.type(
    description="What requestAppointment and the mutations deciding or withdrawing a request "
    "return: the request as saved, or why nothing changed."
)
class AppointmentRequestPayload:
    request: AppointmentRequest | None = strawberry.field(
        description="The request as saved; null on errors."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused; empty on success. See the mutation for its codes."
    )


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
        description="Staff: a staff member's availability, for the staff member themselves or "
        "with MANAGE_STAFF; others (and portal users) FORBIDDEN. An unknown staff member is "
        "refused as BAD_USER_INPUT (NOT_FOUND).",
    )
    async def staff_availability(
        self,
        info: Info,
        staff_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Staff.id: the caller's own, or anyone's with MANAGE_STAFF."
            ),
        ],
    ) -> StaffAvailability:
        view = await availability_logic.staff_availability(info.context.caller, staff_id)
        return to_availability(view)

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users (clients, representatives; staff are FORBIDDEN): the free "
        "slots of a care-team staff member who offers portal availability (none if they do "
        "not), soonest first, in the location's time zone; mode MAKE or REQUEST. Only days "
        "from today to the horizon (maxDaysInFuture), none within the minimum notice "
        "(minNoticeHours), none overlapping a held appointment or pending request. Refused as "
        "BAD_USER_INPUT with a message for VIEW_ONLY (MODE_FORBIDS), over 93 days "
        "(RANGE_TOO_LONG), to before from (INVALID), a missing locationId or clientId "
        "(REQUIRED) or a location the staff member does not work at (NOT_STAFF_LOCATION); "
        "FORBIDDEN for staff not on the care team or inactive. Without staffId: every "
        "care-team staff member at locationId who shows portal availability, ordered by start "
        "then staffId (each slot names its staffId); an unknown locationId is NOT_FOUND.",
        metadata=SAFE_TO_REPEAT,
    )
    async def bookable_slots(
        self,
        info: Info,
        input: Annotated[
            BookableSlotsInput,
            strawberry.argument(description="Whose slots, where, and which days."),
        ],
    ) -> list[Slot]:
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
        description="Portal users (staff are FORBIDDEN): the client's appointments, any status "
        "(cancelled ones too). FUTURE soonest first, PAST latest first; at most 200.",
    )
    async def my_appointments(
        self,
        info: Info,
        when: Annotated[
            logic.When,
            strawberry.argument(
                description="FUTURE: starting now or later; PAST: started before now."
            ),
        ],
        client_id: ClientIdArg = None,
    ) -> list[Appointment]:
        found = await logic.my_appointments(info.context.caller, when, client_id)
        return [to_appointment(r) for r in found]

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users (staff are FORBIDDEN): the client's appointment requests "
        "with their decision and reason, the most recently made first; at most 200.",
    )
    async def my_appointment_requests(
        self,
        info: Info,
        status: Annotated[
            rows.RequestStatus | None,
            strawberry.argument(
                description="Only requests with this status; null (the default) lists all."
            ),
        ] = None,
        client_id: ClientIdArg = None,
    ) -> list[AppointmentRequest]:
        found = await logic.my_requests(info.context.caller, status, client_id)
        return [to_request(r) for r in found]

    @strawberry.field(
        permission_classes=_PORTAL,
        description="Portal users (staff are FORBIDDEN): the appointment settings their pages "
        "need, for the client acted for.",
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
        description="Staff (portal users FORBIDDEN): requests they may decide (their own as "
        "clinician; all the agency's for the designated staff member "
        "(AppointmentSettings.notifiedStaffId) and for MANAGE_ALL_APPOINTMENTS), by start "
        "soonest first, at most 200.",
        metadata=SAFE_TO_REPEAT,
    )
    async def appointment_requests(
        self,
        info: Info,
        status: Annotated[
            rows.RequestStatus | None,
            strawberry.argument(
                description="Only requests with this status; PENDING by default; null lists all."
            ),
        ] = rows.RequestStatus.PENDING,
    ) -> list[AppointmentRequest]:
        found = await logic.appointment_requests(info.context.caller, status)
        return [to_request(r) for r in found]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff: replaces a staff member's availability (windows, dates off, portal "
        "offer, lengths) as a whole, for the staff member themselves or with MANAGE_STAFF; "
        "others (and portal users) FORBIDDEN. Existing appointments and requests stay. "
        "Errors: see SetStaffAvailabilityInput.",
    )
    async def set_staff_availability(
        self,
        info: Info,
        input: Annotated[
            SetStaffAvailabilityInput,
            strawberry.argument(description="Whose availability, and all of it."),
        ],
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
        description="Portal users, mode MAKE: books a listed slot for the client (SCHEDULED, "
        "source PORTAL), holding its time and the break after it. Errors: MODE_FORBIDS, "
        "SLOT_UNAVAILABLE (not a bookable slot now), SLOT_TAKEN (someone else holds it), "
        "REQUIRED, NOT_STAFF_LOCATION, INVALID (start without offset); FORBIDDEN for staff "
        "callers and for staff members not on the care team.",
    )
    async def book_appointment(
        self,
        info: Info,
        input: Annotated[BookInput, strawberry.argument(description="The slot to book.")],
    ) -> AppointmentPayload:
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
    async def request_appointment(
        self,
        info: Info,
        input: Annotated[BookInput, strawberry.argument(description="The slot to request.")],
    ) -> AppointmentRequestPayload:
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
        description="Portal users: withdraws a pending request of their client (CANCELLED), "
        "freeing its time. Errors: REQUEST_DECIDED (no longer pending); FORBIDDEN for staff "
        "and for another client's request.",
    )
    async def cancel_appointment_request(
        self,
        info: Info,
        input: Annotated[
            RequestIdInput, strawberry.argument(description="The request to withdraw.")
        ],
    ) -> AppointmentRequestPayload:
        base = info.context.settings.public_base_url
        work = logic.cancel_request(info.context.caller, input.id, base)
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff (the clinician, the designated staff member, or "
        "MANAGE_ALL_APPOINTMENTS): approves a pending request, making its appointment; the "
        "client is e-mailed that there is an update. Availability changed since the request "
        "does not block it. Errors: REQUEST_DECIDED, SLOT_UNAVAILABLE (its time has passed); "
        "FORBIDDEN for other staff and portal users.",
    )
    async def approve_appointment_request(
        self,
        info: Info,
        input: Annotated[
            RequestIdInput, strawberry.argument(description="The request to approve.")
        ],
    ) -> AppointmentRequestPayload:
        base = info.context.settings.public_base_url
        work = logic.approve_request(info.context.caller, input.id, base)
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff (as approveAppointmentRequest): denies a pending request with an "
        "optional reason the client sees; the slot is released and the client e-mailed that "
        "there is an update. Errors: REQUEST_DECIDED, TOO_LONG; FORBIDDEN for other staff and "
        "portal users.",
    )
    async def deny_appointment_request(
        self,
        info: Info,
        input: Annotated[
            DenyAppointmentRequestInput,
            strawberry.argument(description="The request to deny, and why."),
        ],
    ) -> AppointmentRequestPayload:
        base = info.context.settings.public_base_url
        work = logic.deny_request(info.context.caller, input.id, input.reason, base)
        return _request_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_STAFF,
        description="Staff: an appointment (SCHEDULED, source STAFF) for a client of their care "
        "team with themselves; MANAGE_ALL_APPOINTMENTS for any client and staff member; "
        "others and portal users FORBIDDEN. Any time, windows aside. Errors: SLOT_TAKEN "
        "(overlaps, or comes within the staff member's break of, another appointment or "
        "pending request of theirs, on either side), NOT_STAFF_LOCATION, OUT_OF_RANGE, "
        "INVALID (start without offset).",
    )
    async def create_appointment(
        self,
        info: Info,
        input: Annotated[
            CreateAppointmentInput, strawberry.argument(description="The appointment.")
        ],
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
        "LATE_CANCELLED inside the late-cancellation hours, otherwise CANCELLED. Either way "
        "its time is freed. Errors: NOT_CANCELLABLE (not SCHEDULED; for portal users also "
        "cancellation turned off or the appointment started); FORBIDDEN for an appointment "
        "the caller may not act on.",
    )
    async def cancel_appointment(
        self,
        info: Info,
        input: Annotated[
            CancelAppointmentInput, strawberry.argument(description="The appointment.")
        ],
    ) -> AppointmentPayload:
        base = info.context.settings.public_base_url
        work = logic.cancel_appointment(info.context.caller, input.appointment_id, base)
        return _appointment_payload(*await attempt(work))
