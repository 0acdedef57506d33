"""Scheduling: bookable slots, portal bookings and requests, the staff side, cancellation.

Who acts for whom
- A portal user acts for one client: a client account for its client, a representative for a
  client they represent. A representative of several clients names the client (`client_id`);
  without it the call is refused (REQUIRED, field clientId). Naming a client they do not
  represent is FORBIDDEN, like any object the viewer may not see.
- Portal slots and bookings: only staff on that client's care team, active, whose availability
  is shown in the portal, at one of their locations (`location_id` required when they have more
  than one).
- Staff: the clinician of an appointment or request; for requests also the agency's designated
  staff member (PortalSettings.notified_staff); MANAGE_ALL_APPOINTMENTS for everything.
  `createAppointment`: a clinician for clients whose care team they are in, for themselves;
  MANAGE_ALL_APPOINTMENTS for any client and staff member.

No double booking: every active appointment and pending request holds [start, end + break) in
slot_hold (resolvers/slots.hold_of). A booking re-runs the slot function inside its transaction
for exactly the requested start; on PostgreSQL the exclusion constraint decides races
(SLOT_TAKEN), on SQLite the write transaction is serialized, so the re-check decides.

Events (resolvers/events.publish, after commit, ids only)
- Channels: `agency:<agency id>:appointments` (staff dashboards) and
  `client:<client id>:appointments` (that client's portal users). Every change goes to both.
- Payload: {"kind": <kind>, "agency_id", "client_id", "staff_id", "request_id" (or null),
  "appointment_id" (or null)}, all strings. A subscriber re-checks what its viewer may see.
- Kinds: REQUEST_CREATED, REQUEST_CANCELLED, REQUEST_APPROVED, REQUEST_DENIED, REQUEST_EXPIRED,
  APPOINTMENT_BOOKED (portal MAKE or staff createAppointment; an approval publishes
  REQUEST_APPROVED with the new appointment_id), APPOINTMENT_CANCELLED.

Mail: a decision (approve, deny) e-mails the client and each representative with an account a
fixed, PHI-free notice that there is an update in the portal (MailKind.APPOINTMENT_UPDATE).
Staff notifications are not sent here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, RenderedMail, render_default
from models.accounts import PortalAccount
from models.agency import Agency, Location
from models.clients import CareTeamMember, Client, Representative
from models.enums import AppointmentMode, DescribedEnum, Permission
from models.scheduling import (
    Appointment,
    AppointmentRequest,
    AppointmentSource,
    AppointmentStatus,
    AvailabilityWindow,
    DateOff,
    RequestStatus,
    SlotHold,
    StaffSchedule,
)
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers import access, audit, events, jobs, notifications
from resolvers.availability import StaffAtLocation, build_rules, slot_rules
from resolvers.branding import portal_url
from resolvers.clock import now
from resolvers.errors import ErrorCode, UserError, UserErrors
from resolvers.notifications import Change, Notices
from resolvers.outbox import queue_mail
from resolvers.principal import Caller, Principal
from resolvers.slots import Interval, bookable_slots, hold_of, is_bookable
from resolvers.tenancy import get_scoped, parse_id, scoped

MAX_RANGE_DAYS = 93
LIST_CAP = 200
REASON_MAX = 1000
GENERIC_CANCELLATION_MESSAGE = "Are you sure you want to cancel this appointment?"
EXCLUSION_VIOLATION = "23P01"
ACTIVE = (AppointmentStatus.SCHEDULED,)

T = TypeVar("T")


class When(DescribedEnum):
    PAST = "PAST", "Appointments that started before now, the latest first."
    FUTURE = "FUTURE", "Appointments that start now or later, the soonest first."


class EventKind(StrEnum):
    REQUEST_CREATED = "REQUEST_CREATED"
    REQUEST_CANCELLED = "REQUEST_CANCELLED"
    REQUEST_APPROVED = "REQUEST_APPROVED"
    REQUEST_DENIED = "REQUEST_DENIED"
    REQUEST_EXPIRED = "REQUEST_EXPIRED"
    APPOINTMENT_BOOKED = "APPOINTMENT_BOOKED"
    APPOINTMENT_CANCELLED = "APPOINTMENT_CANCELLED"


def agency_channel(agency_id: UUID) -> str:
    return f"agency:{agency_id}:appointments"


def client_channel(client_id: UUID) -> str:
    return f"client:{client_id}:appointments"


async def _announce(
    kind: EventKind,
    row: Appointment | AppointmentRequest,
    *,
    appointment_id: UUID | None = None,
) -> None:
    is_request = isinstance(row, AppointmentRequest)
    data = {
        "kind": kind.value,
        "agency_id": str(row.agency_id),
        "client_id": str(row.client_id),
        "staff_id": str(row.staff_id),
        "request_id": str(row.id) if is_request else None,
        "appointment_id": str(appointment_id or (None if is_request else row.id) or "") or None,
    }
    await events.publish(agency_channel(row.agency_id), **data)
    await events.publish(client_channel(row.client_id), **data)


def _error(code: ErrorCode, message: str, field: str | None = None) -> UserErrors:
    return UserErrors([UserError(code, message, field)])


# --- who is acting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalViewer:
    principal: Principal
    client_id: UUID
    settings: PortalSettings


async def portal_viewer(caller: Caller, client_id: str | None, action: str) -> PortalViewer:
    """The portal user and the one client they act for (see the module docstring)."""
    principal = access.signed_in(caller)
    if principal.is_staff or not principal.client_ids:
        raise await access.refuse(caller, action)
    if client_id is None:
        if len(principal.client_ids) > 1:
            raise _error(ErrorCode.REQUIRED, "Choose the client you act for.", "clientId")
        chosen = next(iter(principal.client_ids))
    else:
        parsed = parse_id(client_id)
        if parsed is None or parsed not in principal.client_ids:
            raise await access.refuse(caller, action)
        chosen = parsed
    settings = await PortalSettings.get(agency_id=principal.agency_id)
    return PortalViewer(principal, chosen, settings)


async def _bookable_staff(
    caller: Caller, viewer: PortalViewer, staff_id: str, location_id: str | None, action: str
) -> tuple[Staff, Location]:
    """A care-team staff member offering portal availability, and the location asked for."""
    agency_id = viewer.principal.agency_id
    staff = await get_scoped(Staff, agency_id, staff_id)
    on_team = staff is not None and await CareTeamMember.exists(
        client_id=viewer.client_id, staff_id=staff.id
    )
    if staff is None or not on_team or not staff.is_active:
        raise await access.refuse(caller, action)
    links = await StaffLocation.filter(staff_id=staff.id).select_related("location")
    if location_id is None:
        if len(links) != 1:
            raise _error(
                ErrorCode.REQUIRED, "Choose one of the staff member's locations.", "locationId"
            )
        return staff, links[0].location
    wanted = parse_id(location_id)
    for link in links:
        if link.location_id == wanted:
            return staff, link.location
    raise _error(
        ErrorCode.NOT_STAFF_LOCATION, "Not one of this staff member's locations.", "locationId"
    )


# --- slots -------------------------------------------------------------------------------------


async def _held(staff_id: UUID, start: datetime, end: datetime) -> list[Interval]:
    """Held ranges of one staff member touching [start, end): one query."""
    rows = await SlotHold.filter(
        staff_id=staff_id, starts_at__lt=end, ends_at__gt=start
    ).values_list("starts_at", "ends_at")
    return [Interval(s, e) for s, e in rows]


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC bounds safely covering local days first..last in any zone."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    end = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    return start, end


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    staff_id: UUID
    location_id: UUID


async def bookable(
    caller: Caller,
    staff_id: str | None,
    location_id: str | None,
    first: date,
    last: date,
    client_id: str | None,
) -> list[Slot]:
    """One staff member's slots, or (staff_id None) those of the care team at a location."""
    viewer = await portal_viewer(caller, client_id, "bookableSlots")
    if viewer.settings.appointment_mode == AppointmentMode.VIEW_ONLY:
        raise _error(ErrorCode.MODE_FORBIDS, "This agency's clients only view appointments.")
    if last < first:
        raise _error(ErrorCode.INVALID, "`to` is before `from`.", "to")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise _error(ErrorCode.RANGE_TOO_LONG, f"At most {MAX_RANGE_DAYS} days per call.", "to")
    if staff_id is None:
        return await _bookable_at_location(viewer, location_id, first, last)
    staff, location = await _bookable_staff(caller, viewer, staff_id, location_id, "bookableSlots")
    at = await slot_rules(staff, location, viewer.settings)
    if not at.schedule.shown_in_portal:
        return []
    held = await _held(staff.id, *_day_bounds(first, last))
    found = bookable_slots(at.rules, held, now(), first, last)
    return [Slot(s.start, s.end, staff.id, location.id) for s in found]


async def _team_at(viewer: PortalViewer, location_id: str | None) -> tuple[Location, list[UUID]]:
    """The location asked for and the active care-team staff working there: two queries."""
    if location_id is None:
        raise _error(ErrorCode.REQUIRED, "Choose a location or a staff member.", "locationId")
    location = await get_scoped(Location, viewer.principal.agency_id, location_id)
    if location is None:
        raise _error(ErrorCode.NOT_FOUND, "No such location.", "locationId")
    team = CareTeamMember.filter(client_id=viewer.client_id).values("staff_id")
    staff_ids = await StaffLocation.filter(
        location_id=location.id, staff__is_active=True, staff_id__in=Subquery(team)
    ).values_list("staff_id", flat=True)
    return location, list(staff_ids)  # type: ignore[arg-type]


async def _bookable_at_location(
    viewer: PortalViewer, location_id: str | None, first: date, last: date
) -> list[Slot]:
    """The slots of every care-team member at the location who shows portal availability,
    by start then staff id. One query per table for all of them, whatever their number or the
    range: team, schedules, windows, dates off, holds (after the viewer and the location)."""
    location, staff_ids = await _team_at(viewer, location_id)
    schedules = await StaffSchedule.filter(staff_id__in=staff_ids, shown_in_portal=True)
    if not schedules:
        return []
    shown = [s.staff_id for s in schedules]
    windows: dict[UUID, list[AvailabilityWindow]] = defaultdict(list)
    for w in await AvailabilityWindow.filter(staff_id__in=shown, location_id=location.id):
        windows[w.staff_id].append(w)
    days_off: dict[UUID, list[date]] = defaultdict(list)
    off_rows = await DateOff.filter(staff_id__in=shown, day__gte=first, day__lte=last).values_list(
        "staff_id", "day"
    )
    for staff, day in off_rows:
        days_off[staff].append(day)
    start, end = _day_bounds(first, last)
    held: dict[UUID, list[Interval]] = defaultdict(list)
    hold_rows = await SlotHold.filter(
        staff_id__in=shown, starts_at__lt=end, ends_at__gt=start
    ).values_list("staff_id", "starts_at", "ends_at")
    for staff, held_start, held_end in hold_rows:
        held[staff].append(Interval(held_start, held_end))
    current = now()
    found = [
        Slot(s.start, s.end, schedule.staff_id, location.id)
        for schedule in schedules
        for s in bookable_slots(
            build_rules(
                location,
                viewer.settings,
                schedule,
                windows[schedule.staff_id],
                days_off[schedule.staff_id],
            ),
            held[schedule.staff_id],
            current,
            first,
            last,
        )
    ]
    return sorted(found, key=lambda s: (s.start.astimezone(UTC), str(s.staff_id)))


# --- booking and requests (portal) -------------------------------------------------------------


def _is_exclusion(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == EXCLUSION_VIOLATION


async def _hold_or_taken(work: Callable[[], Awaitable[T]]) -> T:
    """Runs a transaction that inserts a slot hold; the exclusion constraint means SLOT_TAKEN."""
    try:
        return await work()
    except IntegrityError as exc:
        if _is_exclusion(exc):
            raise _error(
                ErrorCode.SLOT_TAKEN, "Someone else has just taken this time.", "start"
            ) from exc
        raise


async def _recheck(at: StaffAtLocation, start: datetime) -> Interval:
    """Inside the transaction: the slot at exactly `start` must be bookable now."""
    if not at.schedule.shown_in_portal:
        raise _error(
            ErrorCode.SLOT_UNAVAILABLE, "This staff member takes no portal bookings.", "start"
        )
    current = now()
    if is_bookable(at.rules, [], current, start) is None:
        raise _error(ErrorCode.SLOT_UNAVAILABLE, "This time is not a bookable slot.", "start")
    day = start.astimezone(at.rules.zone).date()
    held = await _held(at.staff.id, *_day_bounds(day, day))
    slot = is_bookable(at.rules, held, current, start)
    if slot is None:
        raise _error(ErrorCode.SLOT_TAKEN, "Someone else has just taken this time.", "start")
    return slot


async def _portal_booking(
    caller: Caller,
    mode: AppointmentMode,
    action: str,
    staff_id: str,
    location_id: str | None,
    start: datetime,
    client_id: str | None,
) -> tuple[PortalViewer, StaffAtLocation]:
    viewer = await portal_viewer(caller, client_id, action)
    if viewer.settings.appointment_mode != mode:
        raise _error(ErrorCode.MODE_FORBIDS, f"This agency's portal does not allow {action}.")
    if start.tzinfo is None:
        raise _error(ErrorCode.INVALID, "Give the time with its offset.", "start")
    staff, location = await _bookable_staff(caller, viewer, staff_id, location_id, action)
    return viewer, await slot_rules(staff, location, viewer.settings)


async def book_appointment(
    caller: Caller,
    staff_id: str,
    location_id: str | None,
    start: datetime,
    client_id: str | None,
    base_url: str,
) -> Appointment:
    viewer, at = await _portal_booking(
        caller, AppointmentMode.MAKE, "bookAppointment", staff_id, location_id, start, client_id
    )

    async def work() -> tuple[Appointment, Notices]:
        async with in_transaction():
            slot = await _recheck(at, start)
            row = await Appointment.create(
                agency_id=viewer.principal.agency_id,
                client_id=viewer.client_id,
                staff_id=at.staff.id,
                location_id=at.location.id,
                starts_at=slot.start,
                ends_at=slot.end,
                source=AppointmentSource.PORTAL,
                created_by_account_id=viewer.principal.account_id,
            )
            hold = hold_of(slot.start, slot.end, at.rules.break_minutes)
            await SlotHold.create(
                staff_id=at.staff.id, starts_at=hold.start, ends_at=hold.end, appointment_id=row.id
            )
            await audit.record(caller, "appointment.book", "Appointment", row.id)
            return row, await notifications.portal_appointment_booked(row, base_url)

    row, notices = await _hold_or_taken(work)
    await notices.send()
    await _announce(EventKind.APPOINTMENT_BOOKED, row)
    return row


async def request_appointment(
    caller: Caller,
    staff_id: str,
    location_id: str | None,
    start: datetime,
    client_id: str | None,
    base_url: str,
) -> AppointmentRequest:
    viewer, at = await _portal_booking(
        caller,
        AppointmentMode.REQUEST,
        "requestAppointment",
        staff_id,
        location_id,
        start,
        client_id,
    )

    async def work() -> tuple[AppointmentRequest, Notices]:
        async with in_transaction():
            slot = await _recheck(at, start)
            row = await AppointmentRequest.create(
                agency_id=viewer.principal.agency_id,
                client_id=viewer.client_id,
                staff_id=at.staff.id,
                location_id=at.location.id,
                starts_at=slot.start,
                ends_at=slot.end,
                requested_by_account_id=viewer.principal.account_id,
            )
            hold = hold_of(slot.start, slot.end, at.rules.break_minutes)
            await SlotHold.create(
                staff_id=at.staff.id, starts_at=hold.start, ends_at=hold.end, request_id=row.id
            )
            await audit.record(caller, "appointment_request.create", "AppointmentRequest", row.id)
            return row, await notifications.portal_appointment_requested(row, base_url)

    row, notices = await _hold_or_taken(work)
    await notices.send()
    await _announce(EventKind.REQUEST_CREATED, row)
    return row


async def cancel_request(caller: Caller, request_id: str, base_url: str) -> AppointmentRequest:
    """The portal user withdraws a pending request of their client."""
    principal = access.signed_in(caller)
    row = await get_scoped(AppointmentRequest, principal.agency_id, request_id)
    if principal.is_staff or row is None or row.client_id not in principal.client_ids:
        raise await access.refuse(caller, "cancelAppointmentRequest")
    async with in_transaction():
        locked = await AppointmentRequest.select_for_update().get(id=row.id)
        if locked.status != RequestStatus.PENDING:
            raise _error(ErrorCode.REQUEST_DECIDED, "This request is no longer pending.", "id")
        locked.status = RequestStatus.CANCELLED
        locked.decided_at = now()
        await locked.save(update_fields=["status", "decided_at"])
        await SlotHold.filter(request_id=locked.id).delete()
        await audit.record(caller, "appointment_request.cancel", "AppointmentRequest", locked.id)
        notices = await notifications.appointment_changed(locked, Change.WITHDRAWN, base_url)
    await notices.send()
    await _announce(EventKind.REQUEST_CANCELLED, locked)
    return locked


# --- the staff side ----------------------------------------------------------------------------


def _sees_all(principal: Principal) -> bool:
    return principal.has(Permission.MANAGE_ALL_APPOINTMENTS)


async def _is_designated(principal: Principal) -> bool:
    settings = await PortalSettings.get(agency_id=principal.agency_id)
    return (
        settings.notified_staff_id is not None and settings.notified_staff_id == principal.staff_id
    )


async def appointment_requests(
    caller: Caller, status: RequestStatus | None
) -> list[AppointmentRequest]:
    """Requests this staff member may decide, soonest first, at most LIST_CAP."""
    principal = await access.staff_member(caller, "appointmentRequests")
    query = scoped(AppointmentRequest, principal.agency_id)
    if not (_sees_all(principal) or await _is_designated(principal)):
        query = query.filter(staff_id=principal.staff_id)
    if status is not None:
        query = query.filter(status=status)
    return await query.order_by("starts_at", "id").limit(LIST_CAP)


async def _decidable(caller: Caller, request_id: str, action: str) -> AppointmentRequest:
    principal = await access.staff_member(caller, action)
    row = await get_scoped(AppointmentRequest, principal.agency_id, request_id)
    allowed = row is not None and (
        _sees_all(principal)
        or row.staff_id == principal.staff_id
        or await _is_designated(principal)
    )
    if row is None or not allowed:
        raise await access.refuse(caller, action)
    return row


async def _locked_pending(row: AppointmentRequest) -> AppointmentRequest:
    locked = await AppointmentRequest.select_for_update().get(id=row.id)
    if locked.status != RequestStatus.PENDING:
        raise _error(ErrorCode.REQUEST_DECIDED, "This request was already decided.", "id")
    return locked


async def approve_request(caller: Caller, request_id: str, base_url: str) -> AppointmentRequest:
    """Re-checks the slot (not yet started, still held by this request alone), creates the
    appointment and moves the request's hold to it. Availability changes since the request
    do not block an approval: staff may book outside their windows."""
    principal = caller.principal
    row = await _decidable(caller, request_id, "approveAppointmentRequest")
    assert principal is not None
    async with in_transaction():
        locked = await _locked_pending(row)
        if locked.starts_at <= now():
            raise _error(ErrorCode.SLOT_UNAVAILABLE, "This request's time has passed.", "id")
        appointment = await Appointment.create(
            agency_id=locked.agency_id,
            client_id=locked.client_id,
            staff_id=locked.staff_id,
            location_id=locked.location_id,
            starts_at=locked.starts_at,
            ends_at=locked.ends_at,
            source=AppointmentSource.PORTAL,
            created_by_account_id=locked.requested_by_account_id,
        )
        moved = await SlotHold.filter(request_id=locked.id).update(
            appointment_id=appointment.id, request_id=None
        )
        if not moved:  # a hold lost (should not happen): hold the time again, or refuse
            await SlotHold.create(
                staff_id=locked.staff_id,
                starts_at=locked.starts_at,
                ends_at=locked.ends_at,
                appointment_id=appointment.id,
            )
        locked.status = RequestStatus.APPROVED
        locked.decided_at = now()
        locked.decided_by_staff_id = principal.staff_id
        locked.appointment_id = appointment.id
        await locked.save(
            update_fields=["status", "decided_at", "decided_by_staff_id", "appointment_id"]
        )
        mail_ids = await _mail_client_update(locked, base_url)
        await audit.record(caller, "appointment_request.approve", "AppointmentRequest", locked.id)
        notices = await notifications.appointment_changed(
            locked, Change.APPROVED, base_url, principal.staff_id
        )
    await _after_decision(mail_ids)
    await notices.send()
    await _announce(EventKind.REQUEST_APPROVED, locked, appointment_id=appointment.id)
    return locked


async def deny_request(
    caller: Caller, request_id: str, reason: str | None, base_url: str
) -> AppointmentRequest:
    principal = caller.principal
    text = (reason or "").strip()
    if len(text) > REASON_MAX:
        raise _error(ErrorCode.TOO_LONG, f"At most {REASON_MAX} characters.", "reason")
    row = await _decidable(caller, request_id, "denyAppointmentRequest")
    assert principal is not None
    async with in_transaction():
        locked = await _locked_pending(row)
        locked.status = RequestStatus.DENIED
        locked.reason = text
        locked.decided_at = now()
        locked.decided_by_staff_id = principal.staff_id
        await locked.save(update_fields=["status", "reason", "decided_at", "decided_by_staff_id"])
        await SlotHold.filter(request_id=locked.id).delete()
        mail_ids = await _mail_client_update(locked, base_url)
        await audit.record(caller, "appointment_request.deny", "AppointmentRequest", locked.id)
        notices = await notifications.appointment_changed(
            locked, Change.DENIED, base_url, principal.staff_id
        )
    await _after_decision(mail_ids)
    await notices.send()
    await _announce(EventKind.REQUEST_DENIED, locked)
    return locked


async def _mail_client_update(row: AppointmentRequest, base_url: str) -> list[UUID]:
    """Inside the decision's transaction: one PHI-free notice to the client's account and to each
    representative's account (agency name and portal link only)."""
    agency = await Agency.get(id=row.agency_id)
    context = MailContext(agency_name=agency.name, link=portal_url(base_url, agency.slug))
    mail = render_default(context, MailKind.APPOINTMENT_UPDATE)
    addresses = await client_side_addresses(row.client_id)
    return [await _queue(row.agency_id, address, mail) for address in addresses]


async def client_side_addresses(client_id: UUID) -> list[str]:
    """The e-mail addresses of the client's active portal account and of each representative's
    active account, each once (compared ignoring case)."""
    client_mail = await PortalAccount.filter(client_id=client_id, is_active=True).values_list(
        "email", flat=True
    )
    rep_accounts = await Representative.filter(
        client_id=client_id, account_id__isnull=False
    ).values_list("account_id", flat=True)
    rep_mail = await PortalAccount.filter(id__in=list(rep_accounts), is_active=True).values_list(
        "email", flat=True
    )
    return list(dict.fromkeys(str(a).lower() for a in [*client_mail, *rep_mail]))


async def _queue(agency_id: UUID, address: str, mail: RenderedMail) -> UUID:
    return await queue_mail(agency_id, MailKind.APPOINTMENT_UPDATE.value, address, mail)


async def _after_decision(mail_ids: list[UUID]) -> None:
    for message_id in mail_ids:
        await jobs.enqueue("deliver_email", str(message_id))


async def _staff_may_book(principal: Principal, client: Client, staff: Staff) -> bool:
    if _sees_all(principal):
        return True
    if staff.id != principal.staff_id:
        return False
    return await CareTeamMember.exists(client_id=client.id, staff_id=staff.id)


async def create_appointment(
    caller: Caller,
    client_id: str,
    staff_id: str | None,
    location_id: str,
    start: datetime,
    minutes: int | None,
    base_url: str,
) -> Appointment:
    """The staff side of the calendar: any time (windows do not bind staff), never overlapping
    another appointment or pending request of that staff member, break included."""
    principal = await access.staff_member(caller, "createAppointment")
    assert principal.staff_id is not None
    client = await get_scoped(Client, principal.agency_id, client_id)
    staff = await get_scoped(Staff, principal.agency_id, staff_id or str(principal.staff_id))
    if (
        client is None
        or staff is None
        or not staff.is_active
        or not await _staff_may_book(principal, client, staff)
    ):
        raise await access.refuse(caller, "createAppointment")
    if start.tzinfo is None:
        raise _error(ErrorCode.INVALID, "Give the time with its offset.", "start")
    location = await get_scoped(Location, principal.agency_id, location_id)
    works_there = location is not None and await StaffLocation.exists(
        staff_id=staff.id, location_id=location.id
    )
    if location is None or not works_there:
        raise _error(
            ErrorCode.NOT_STAFF_LOCATION, "Not one of this staff member's locations.", "locationId"
        )
    settings = await PortalSettings.get(agency_id=principal.agency_id)
    at = await slot_rules(staff, location, settings)
    length = minutes if minutes is not None else at.rules.length_minutes
    if not 5 <= length <= 480:
        raise _error(ErrorCode.OUT_OF_RANGE, "Between 5 and 480 minutes.", "minutes")
    begin = start.astimezone(UTC)
    end = begin + timedelta(minutes=length)
    hold = hold_of(begin, end, at.rules.break_minutes)

    async def work() -> tuple[Appointment, Notices]:
        async with in_transaction():
            # The break before this appointment: no hold may end within it.
            reach = hold.start - timedelta(minutes=at.rules.break_minutes)
            if await SlotHold.filter(
                staff_id=staff.id, starts_at__lt=hold.end, ends_at__gt=reach
            ).exists():
                raise _error(ErrorCode.SLOT_TAKEN, "This staff member is busy then.", "start")
            row = await Appointment.create(
                agency_id=principal.agency_id,
                client_id=client.id,
                staff_id=staff.id,
                location_id=location.id,
                starts_at=begin,
                ends_at=end,
                source=AppointmentSource.STAFF,
                created_by_staff_id=principal.staff_id,
            )
            await SlotHold.create(
                staff_id=staff.id, starts_at=hold.start, ends_at=hold.end, appointment_id=row.id
            )
            await audit.record(caller, "appointment.create", "Appointment", row.id)
            notices = await notifications.appointment_changed(
                row, Change.CREATED, base_url, principal.staff_id
            )
            return row, notices

    row, notices = await _hold_or_taken(work)
    await notices.send()
    await _announce(EventKind.APPOINTMENT_BOOKED, row)
    return row


# --- cancellation (both sides) -----------------------------------------------------------------


async def cancel_appointment(caller: Caller, appointment_id: str, base_url: str) -> Appointment:
    """Staff (the clinician or MANAGE_ALL_APPOINTMENTS): CANCELLED. A portal user, when the
    agency allows client cancellation, for a future appointment of their client: LATE_CANCELLED
    inside the late-cancellation window (hours before the start), otherwise CANCELLED."""
    principal = access.signed_in(caller)
    row = await get_scoped(Appointment, principal.agency_id, appointment_id)
    if principal.is_staff:
        allowed = row is not None and (_sees_all(principal) or row.staff_id == principal.staff_id)
    else:
        allowed = row is not None and row.client_id in principal.client_ids
    if row is None or not allowed:
        raise await access.refuse(caller, "cancelAppointment")
    settings = await PortalSettings.get(agency_id=principal.agency_id)
    async with in_transaction():
        locked = await Appointment.select_for_update().get(id=row.id)
        current = now()
        status = _cancellation(principal, settings, locked, current)
        locked.status = status
        locked.cancelled_at = current
        locked.cancelled_by_staff_id = principal.staff_id
        locked.cancelled_by_account_id = principal.account_id
        await locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by_staff_id",
                "cancelled_by_account_id",
            ]
        )
        await SlotHold.filter(appointment_id=locked.id).delete()
        await audit.record(caller, "appointment.cancel", "Appointment", locked.id)
        notices = await notifications.appointment_changed(
            locked, Change.CANCELLED, base_url, principal.staff_id
        )
    await notices.send()
    await _announce(EventKind.APPOINTMENT_CANCELLED, locked)
    return locked


def _cancellation(
    principal: Principal, settings: PortalSettings, row: Appointment, current: datetime
) -> AppointmentStatus:
    if row.status != AppointmentStatus.SCHEDULED:
        raise _error(
            ErrorCode.NOT_CANCELLABLE, "This appointment is not scheduled.", "appointmentId"
        )
    if principal.is_staff:
        return AppointmentStatus.CANCELLED
    if not settings.allow_client_cancel:
        raise _error(
            ErrorCode.NOT_CANCELLABLE, "Please contact the agency to cancel.", "appointmentId"
        )
    if row.starts_at <= current:
        raise _error(ErrorCode.NOT_CANCELLABLE, "Only a future appointment.", "appointmentId")
    if row.starts_at - current < timedelta(hours=settings.late_cancel_hours):
        return AppointmentStatus.LATE_CANCELLED
    return AppointmentStatus.CANCELLED


# --- the portal's reads ------------------------------------------------------------------------


async def my_appointments(caller: Caller, when: When, client_id: str | None) -> list[Appointment]:
    viewer = await portal_viewer(caller, client_id, "myAppointments")
    query = scoped(Appointment, viewer.principal.agency_id, client_id=viewer.client_id)
    current = now()
    if when == When.FUTURE:
        rows = query.filter(starts_at__gte=current).order_by("starts_at", "id")
    else:
        rows = query.filter(starts_at__lt=current).order_by("-starts_at", "-id")
    return await rows.limit(LIST_CAP)


async def my_requests(
    caller: Caller, status: RequestStatus | None, client_id: str | None
) -> list[AppointmentRequest]:
    viewer = await portal_viewer(caller, client_id, "myAppointmentRequests")
    query: QuerySet[AppointmentRequest] = scoped(
        AppointmentRequest, viewer.principal.agency_id, client_id=viewer.client_id
    )
    if status is not None:
        query = query.filter(status=status)
    return await query.order_by("-created_at", "-id").limit(LIST_CAP)


@dataclass(frozen=True)
class PortalScheduling:
    client_id: UUID
    mode: AppointmentMode
    allow_client_cancel: bool
    cancellation_message: str
    max_days_in_future: int
    min_notice_hours: int
    late_cancel_hours: int


async def portal_scheduling(caller: Caller, client_id: str | None) -> PortalScheduling:
    viewer = await portal_viewer(caller, client_id, "portalScheduling")
    s = viewer.settings
    return PortalScheduling(
        client_id=viewer.client_id,
        mode=s.appointment_mode,
        allow_client_cancel=s.allow_client_cancel,
        cancellation_message=s.cancellation_message.strip() or GENERIC_CANCELLATION_MESSAGE,
        max_days_in_future=s.max_days_in_future,
        min_notice_hours=s.min_notice_hours,
        late_cancel_hours=s.late_cancel_hours,
    )


# --- expiry (cron) -----------------------------------------------------------------------------


async def expire_requests(base_url: str, limit: int = 10_000) -> int:
    """Pending requests whose time has come become EXPIRED and release their holds: set-based,
    one batch per run; an event per expired request after commit. Their clinicians are
    notified (staff notices, written in the same transaction)."""
    at = now()
    notices = Notices()
    async with in_transaction():
        ids = (
            await AppointmentRequest.filter(status=RequestStatus.PENDING, starts_at__lte=at)
            .limit(limit)
            .values_list("id", flat=True)
        )
        if ids:
            await AppointmentRequest.filter(id__in=ids, status=RequestStatus.PENDING).update(
                status=RequestStatus.EXPIRED, decided_at=at
            )
            await SlotHold.filter(request_id__in=ids).delete()
            for expired in await AppointmentRequest.filter(id__in=ids):
                notices.add(
                    await notifications.appointment_changed(expired, Change.EXPIRED, base_url)
                )
    await notices.send()
    if ids:
        for row in await AppointmentRequest.filter(id__in=ids):
            await _announce(EventKind.REQUEST_EXPIRED, row)
    return len(ids)
