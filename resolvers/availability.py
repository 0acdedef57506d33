"""Staff availability: weekly windows per location, dates off, shown in the portal or not, and
the staff member's own appointment and break length (null falls back to the agency defaults).

The staff member themselves or MANAGE_STAFF may read and replace it. Also loads what the slot
function needs for one staff member at one location (`slot_rules`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from models.agency import Location
from models.enums import Permission
from models.scheduling import AvailabilityWindow, DateOff, StaffSchedule
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers import access, audit
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.principal import Caller, Principal
from resolvers.slots import MINUTES_PER_DAY, Rules, Window
from resolvers.tenancy import get_scoped, parse_id

# Same bounds as the agency defaults (resolvers/settings.update_appointments).
APPOINTMENT_MINUTES = (5, 480)
BREAK_MINUTES = (0, 240)
MAX_WINDOWS = 100
MAX_DATES_OFF = 400
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")


@dataclass(frozen=True)
class WindowInput:
    location_id: str
    weekday: int
    start: str
    end: str


@dataclass(frozen=True)
class AvailabilityView:
    staff_id: UUID
    shown_in_portal: bool
    appointment_minutes: int | None
    break_minutes: int | None
    default_appointment_minutes: int
    default_break_minutes: int
    windows: list[tuple[AvailabilityWindow, Location]]
    dates_off: list[date]

    @property
    def effective_appointment_minutes(self) -> int:
        return self.appointment_minutes or self.default_appointment_minutes

    @property
    def effective_break_minutes(self) -> int:
        if self.break_minutes is None:
            return self.default_break_minutes
        return self.break_minutes


def clock_minutes(text: str) -> int | None:
    """'09:30' -> 570; '24:00' (a window's end at midnight) -> 1440; anything else None."""
    if not _CLOCK.fullmatch(text.strip()):
        return None
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def _self_or_manager(caller: Caller, staff_id: str, action: str) -> tuple[Principal, Staff]:
    """Refuses before looking the row up, so a refusal says nothing about whether it exists."""
    principal = await access.staff_member(caller, action)
    if not principal.has(Permission.MANAGE_STAFF) and parse_id(staff_id) != principal.staff_id:
        raise await access.refuse(caller, action)
    staff = await get_scoped(Staff, principal.agency_id, staff_id)
    if staff is None:
        raise UserErrors([UserError(ErrorCode.NOT_FOUND, "No such staff member.", "staffId")])
    return principal, staff


async def schedule_of(staff: Staff) -> StaffSchedule:
    row = await StaffSchedule.get_or_none(staff_id=staff.id)
    return row or StaffSchedule(agency_id=staff.agency_id, staff_id=staff.id)


async def _view(staff: Staff) -> AvailabilityView:
    schedule = await schedule_of(staff)
    settings = await PortalSettings.get(agency_id=staff.agency_id)
    windows = await AvailabilityWindow.filter(staff_id=staff.id).select_related("location")
    days = await DateOff.filter(staff_id=staff.id).values_list("day", flat=True)
    return AvailabilityView(
        staff_id=staff.id,
        shown_in_portal=schedule.shown_in_portal,
        appointment_minutes=schedule.appointment_minutes,
        break_minutes=schedule.break_minutes,
        default_appointment_minutes=settings.default_appointment_minutes,
        default_break_minutes=settings.default_break_minutes,
        windows=[(w, w.location) for w in windows],
        dates_off=sorted(days),  # type: ignore[arg-type]
    )


async def staff_availability(caller: Caller, staff_id: str) -> AvailabilityView:
    _, staff = await _self_or_manager(caller, staff_id, "staffAvailability")
    return await _view(staff)


def _check_lengths(c: Collector, changes: dict[str, Any]) -> None:
    for key, field_name, (low, high) in (
        ("appointment_minutes", "appointmentMinutes", APPOINTMENT_MINUTES),
        ("break_minutes", "breakMinutes", BREAK_MINUTES),
    ):
        value = changes.get(key)
        if value is not None and not low <= value <= high:
            c.add(ErrorCode.OUT_OF_RANGE, field_name, f"Must be between {low} and {high} minutes.")


async def _parse_windows(
    c: Collector, staff: Staff, windows: list[WindowInput]
) -> list[tuple[UUID, Window]]:
    if len(windows) > MAX_WINDOWS:
        c.add(ErrorCode.OUT_OF_RANGE, "windows", f"At most {MAX_WINDOWS} windows.")
        return []
    ids = await StaffLocation.filter(staff_id=staff.id).values_list("location_id", flat=True)
    works_at = {UUID(str(i)) for i in ids}
    parsed: list[tuple[UUID, Window]] = []
    for index, item in enumerate(windows):
        where = f"windows.{index}"
        location_id = parse_id(item.location_id)
        start, end = clock_minutes(item.start), clock_minutes(item.end)
        if location_id is None or location_id not in works_at:
            c.add(
                ErrorCode.NOT_STAFF_LOCATION,
                f"{where}.locationId",
                "Not one of this staff member's locations (setStaffLocations).",
            )
        elif not 0 <= item.weekday <= 6:
            c.add(ErrorCode.OUT_OF_RANGE, f"{where}.weekday", "A weekday is 0 to 6.")
        elif start is None or end is None or start >= end or start >= MINUTES_PER_DAY:
            # The field at fault: an unreadable start (or 24:00 as a start), else the end.
            at_fault = "start" if start is None or start >= MINUTES_PER_DAY else "end"
            c.add(
                ErrorCode.INVALID_TIME_RANGE,
                f"{where}.{at_fault}",
                "Times are HH:MM (24:00 for midnight at the end) and the end is after the start.",
            )
        else:
            parsed.append((location_id, Window(item.weekday, start, end)))
    _overlaps(c, parsed)
    return parsed


def _overlaps(c: Collector, parsed: list[tuple[UUID, Window]]) -> None:
    """A staff member is in one place at a time: no two windows of a weekday overlap."""
    ordered = sorted(parsed, key=lambda p: (p[1].weekday, p[1].start_minute))
    for (_, a), (_, b) in itertools.pairwise(ordered):
        if a.weekday == b.weekday and b.start_minute < a.end_minute:
            c.add(
                ErrorCode.OVERLAPPING_WINDOWS,
                "windows",
                f"Two windows overlap on weekday {a.weekday} at {clock_text(b.start_minute)}.",
            )
            return


async def set_staff_availability(
    caller: Caller,
    staff_id: str,
    windows: list[WindowInput],
    dates_off: list[date],
    changes: dict[str, Any],
) -> AvailabilityView:
    """Replaces the windows and dates off; `changes` holds shown_in_portal and the lengths
    (a length of null falls back to the agency default)."""
    _, staff = await _self_or_manager(caller, staff_id, "setStaffAvailability")
    if "shown_in_portal" in changes and changes["shown_in_portal"] is None:
        del changes["shown_in_portal"]  # null keeps it, like omitting it
    c = Collector()
    _check_lengths(c, changes)
    parsed = await _parse_windows(c, staff, windows)
    days = sorted(set(dates_off))
    if len(days) > MAX_DATES_OFF:
        c.add(ErrorCode.OUT_OF_RANGE, "datesOff", f"At most {MAX_DATES_OFF} dates off.")
    c.raise_if_any()
    async with in_transaction():
        # Lock the staff row so two concurrent replacements run one after the other.
        await Staff.select_for_update().filter(id=staff.id).first()
        schedule = await schedule_of(staff)
        schedule.update_from_dict(changes)
        await schedule.save()
        await AvailabilityWindow.filter(staff_id=staff.id).delete()
        await AvailabilityWindow.bulk_create(
            [
                AvailabilityWindow(
                    agency_id=staff.agency_id,
                    staff_id=staff.id,
                    location_id=location_id,
                    weekday=w.weekday,
                    start_minute=w.start_minute,
                    end_minute=w.end_minute,
                )
                for location_id, w in parsed
            ]
        )
        await DateOff.filter(staff_id=staff.id).delete()
        await DateOff.bulk_create(
            [DateOff(agency_id=staff.agency_id, staff_id=staff.id, day=d) for d in days]
        )
        await audit.record(caller, "staff.availability.set", "Staff", staff.id)
    return await _view(staff)


@dataclass(frozen=True)
class StaffAtLocation:
    """What the slot function needs about one staff member at one location."""

    staff: Staff
    location: Location
    schedule: StaffSchedule
    rules: Rules


def build_rules(
    location: Location,
    settings: PortalSettings,
    schedule: StaffSchedule,
    windows: Iterable[AvailabilityWindow],
    days: Iterable[date],
) -> Rules:
    """The slot rules of one staff member at one location, from rows already loaded."""
    length = schedule.appointment_minutes or settings.default_appointment_minutes
    brk = schedule.break_minutes
    return Rules(
        zone=ZoneInfo(location.time_zone),
        windows=[Window(w.weekday, w.start_minute, w.end_minute) for w in windows],
        dates_off=frozenset(days),
        length_minutes=length,
        break_minutes=settings.default_break_minutes if brk is None else brk,
        notice_hours=settings.min_notice_hours,
        horizon_days=settings.max_days_in_future,
    )


async def slot_rules(staff: Staff, location: Location, settings: PortalSettings) -> StaffAtLocation:
    schedule = await schedule_of(staff)
    windows = await AvailabilityWindow.filter(staff_id=staff.id, location_id=location.id)
    days = await DateOff.filter(staff_id=staff.id).values_list("day", flat=True)
    rules = build_rules(location, settings, schedule, windows, days)  # type: ignore[arg-type]
    return StaffAtLocation(staff, location, schedule, rules)
