"""The Staff module: staff members, their e-mail addresses, locations and appointment e-mail.

MANAGE_STAFF may act on anyone in the agency; any other staff member only on themselves, and
never on their own permissions or active state (those need MANAGE_STAFF).

MANAGE_STAFF does not lift its holder above what they were given (resolvers/access.holds_all):
- nobody grants or removes a permission they do not hold themselves (createStaff, updateStaff);
- nobody changes the sign-in e-mail, the permissions or the active state of, nor sends a
  password link to, a staff member who holds a permission they lack (a "more privileged" one).
  Names, the second e-mail, locations and appointment e-mail stay open to any manager.
Refusals are FORBIDDEN GraphQL errors (audited as DENIED), like a missing MANAGE_STAFF.

When a sign-in e-mail changes, whoever changed it, a notice goes to the old address (through the
outbox, in the same transaction): a take-over of the account cannot go unnoticed there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, render_default
from models.agency import Agency, Location
from models.enums import AppointmentNotification, Permission
from models.staff import Staff, StaffLocation
from resolvers import access, audit, jobs, notifications, staff_passwords
from resolvers import validation as check
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.outbox import queue_mail
from resolvers.pagination import Page, paginate
from resolvers.principal import Caller, Principal
from resolvers.sessions import ACCESS_CHANGED, ENDED, announce, revoke_all
from resolvers.tenancy import get_scoped, parse_id, scoped


@dataclass(frozen=True)
class StaffLocationView:
    location: Location
    is_default: bool


@dataclass(frozen=True)
class StaffView:
    """A staff member with their locations, the default first."""

    staff: Staff
    locations: list[StaffLocationView]


def _not_found(field_name: str) -> UserErrors:
    return UserErrors([UserError(ErrorCode.NOT_FOUND, "No such staff member.", field_name)])


def _duplicate_email() -> UserErrors:
    message = "Another staff member of this agency uses this e-mail address."
    return UserErrors([UserError(ErrorCode.DUPLICATE, message, "email")])


async def _locations_of(
    agency_id: UUID, staff_ids: list[UUID]
) -> dict[UUID, list[StaffLocationView]]:
    """Every listed staff member's locations in one query, so a page costs the same at any size."""
    if not staff_ids:
        return {}
    links = await StaffLocation.filter(
        staff_id__in=staff_ids, location__agency_id=agency_id
    ).select_related("location")
    links.sort(key=lambda link: (not link.is_default, link.location.name, str(link.location_id)))
    by_staff: dict[UUID, list[StaffLocationView]] = defaultdict(list)
    for link in links:
        by_staff[link.staff_id].append(StaffLocationView(link.location, link.is_default))
    return by_staff


async def _view(agency_id: UUID, staff: Staff) -> StaffView:
    links = await _locations_of(agency_id, [staff.id])
    return StaffView(staff, links.get(staff.id, []))


async def staff_view(staff: Staff) -> StaffView:
    """A staff member row with their locations."""
    return await _view(staff.agency_id, staff)


async def staff_members(agency_id: UUID, first: int | None, after: str | None) -> Page[StaffView]:
    page = await paginate(scoped(Staff, agency_id), first, after)
    links = await _locations_of(agency_id, [s.id for s in page.items])
    return Page([StaffView(s, links.get(s.id, [])) for s in page.items], page.next_cursor)


async def _self_or_manager(caller: Caller, staff_id: str, action: str) -> Principal:
    """Refuses without looking the row up, so a refusal says nothing about whether it exists."""
    principal = await access.staff_member(caller, action)
    if not principal.has(Permission.MANAGE_STAFF) and parse_id(staff_id) != principal.staff_id:
        raise await access.refuse(caller, action)
    return principal


async def staff_member(caller: Caller, staff_id: str) -> StaffView | None:
    principal = await _self_or_manager(caller, staff_id, "staff")
    staff = await get_scoped(Staff, principal.agency_id, staff_id)
    return await _view(principal.agency_id, staff) if staff else None


async def _editable(caller: Caller, staff_id: str, action: str) -> tuple[Principal, Staff]:
    principal = await _self_or_manager(caller, staff_id, action)
    staff = await get_scoped(Staff, principal.agency_id, staff_id)
    if staff is None:
        raise _not_found("staffId")
    return principal, staff


def _ordered(permissions: list[Permission]) -> list[str]:
    chosen = set(permissions)
    return [p.value for p in Permission if p in chosen]


def _check_names(c: Collector, changes: dict[str, Any]) -> None:
    for key in ("first_name", "last_name"):
        check.text(c, changes, key, check.NAME_MAX, required=True)
        if isinstance(changes.get(key), str):
            changes[key] = changes[key].strip()


def _check_emails(c: Collector, changes: dict[str, Any]) -> None:
    check.email(c, changes, "email", required=True)
    check.email(c, changes, "second_email", required=False)


async def _unique_email(
    c: Collector, agency_id: UUID, changes: dict[str, Any], staff_id: UUID | None
) -> None:
    value = changes.get("email")
    if value is None or any(e.field == "email" for e in c.errors):
        return
    others = scoped(Staff, agency_id, email__iexact=value)
    if staff_id is not None:
        others = others.exclude(id=staff_id)
    if await others.exists():
        c.errors.extend(_duplicate_email().errors)


def _second_email_still_needed(c: Collector, staff: Staff, changes: dict[str, Any]) -> None:
    clears = "second_email" in changes and changes["second_email"] is None
    if clears and staff.appointment_notification == AppointmentNotification.SECOND_EMAIL:
        c.add(
            ErrorCode.SECOND_EMAIL_REQUIRED,
            "secondEmail",
            "Appointment e-mail goes to this address; choose another notification first.",
        )


def _own_access(c: Collector, principal: Principal, staff: Staff, changes: dict[str, Any]) -> None:
    """A manager cannot lock themselves (and perhaps the agency) out of the Staff module."""
    if staff.id != principal.staff_id:
        return
    if changes.get("is_active") is False:
        c.add(ErrorCode.OWN_ACCESS, "isActive", "You cannot deactivate yourself.")
    permissions = changes.get("permissions")
    if permissions is not None and Permission.MANAGE_STAFF not in permissions:
        c.add(ErrorCode.OWN_ACCESS, "permissions", "You cannot remove your own MANAGE_STAFF.")


def _email_changes(staff: Staff, changes: dict[str, Any]) -> bool:
    return "email" in changes and changes["email"] != staff.email


def _permissions_change(staff: Staff, changes: dict[str, Any]) -> set[str]:
    """The permissions granted or removed (none when `permissions` is not being set)."""
    if changes.get("permissions") is None:
        return set()
    return {str(p) for p in changes["permissions"]} ^ set(staff.permissions)


async def _may_change(caller: Caller, staff: Staff, changes: dict[str, Any], action: str) -> None:
    """Refuses (FORBIDDEN) a change of sign-in e-mail, permissions or active state of someone
    more privileged than the caller, and the grant or removal of a permission the caller lacks."""
    moved = _permissions_change(staff, changes)
    active = "is_active" in changes and changes["is_active"] != staff.is_active
    if _email_changes(staff, changes) or moved or active:
        await access.holds_all(caller, staff.permissions, action)
    await access.holds_all(caller, moved, action)


async def _notify_old_address(staff: Staff, old_email: str) -> UUID:
    """Call inside the transaction that changed the e-mail; enqueue the message after commit.
    Fixed wording, the agency's name only: no link to follow, nothing about anyone."""
    agency = await Agency.get(id=staff.agency_id)
    kind = MailKind.STAFF_EMAIL_CHANGED
    mail = render_default(MailContext(agency.name, link=""), kind)
    return await queue_mail(staff.agency_id, kind.value, old_email, mail)


async def _save(caller: Caller, staff: Staff, changes: dict[str, Any], action: str) -> Staff:
    permissions_changed = "permissions" in changes and changes["permissions"] != staff.permissions
    active_changed = "is_active" in changes and changes["is_active"] != staff.is_active
    old_email = staff.email if _email_changes(staff, changes) else None
    notice_id = None
    try:
        async with in_transaction():
            staff.update_from_dict(changes)
            await staff.save(update_fields=list(changes) or None)
            await audit.record(caller, action, "Staff", staff.id)
            if old_email is not None:
                notice_id = await _notify_old_address(staff, old_email)
            if permissions_changed:
                await audit.record(caller, "staff.permissions.update", "Staff", staff.id)
            if active_changed:
                # Either way no earlier token works again: deactivation ends the sessions, and
                # reactivation ends any left from before sessions were revoked on deactivation.
                await revoke_all(staff_id=staff.id)
            # Nobody inactive hears of portal appointments: portalSettings then warns.
            cleared = active_changed and await notifications.staff_deactivated(staff)
            if cleared:
                await audit.record(caller, "settings.notified_staff.clear", "Staff", staff.id)
    except IntegrityError as exc:  # a concurrent save took the address first
        raise _duplicate_email() from exc
    if notice_id is not None:
        await jobs.enqueue("deliver_email", str(notice_id))
    if active_changed:
        await announce(ENDED, staff_id=staff.id)
    elif permissions_changed:
        await announce(ACCESS_CHANGED, staff_id=staff.id)
    return staff


async def create_staff(caller: Caller, changes: dict[str, Any], base_url: str) -> StaffView:
    """The new member has no password: they set one through a one-time link, e-mailed to
    their first address in the same transaction (resolvers/staff_passwords.py)."""
    principal = caller.principal
    assert principal is not None
    c = Collector()
    _check_names(c, changes)
    _check_emails(c, changes)
    await _unique_email(c, principal.agency_id, changes, None)
    c.raise_if_any()
    await access.holds_all(caller, changes.get("permissions") or [], "createStaff")
    changes["permissions"] = _ordered(changes.get("permissions") or [])
    try:
        async with in_transaction():
            staff = await Staff.create(agency_id=principal.agency_id, password_hash=None, **changes)
            await audit.record(caller, "staff.create", "Staff", staff.id)
            message_id, _ = await staff_passwords.issue(staff, base_url)
    except IntegrityError as exc:
        raise _duplicate_email() from exc
    await jobs.enqueue("deliver_email", str(message_id))
    return StaffView(staff, [])


async def update_staff(caller: Caller, staff_id: str, changes: dict[str, Any]) -> StaffView:
    principal = caller.principal
    assert principal is not None
    staff = await get_scoped(Staff, principal.agency_id, staff_id)
    if staff is None:
        raise _not_found("id")
    c = Collector()
    _check_names(c, changes)
    _check_emails(c, changes)
    check.not_null(c, changes, "permissions")
    check.not_null(c, changes, "is_active")
    await _unique_email(c, principal.agency_id, changes, staff.id)
    _second_email_still_needed(c, staff, changes)
    _own_access(c, principal, staff, changes)
    c.raise_if_any()
    await _may_change(caller, staff, changes, "updateStaff")
    if "permissions" in changes:
        changes["permissions"] = _ordered(changes["permissions"])
    await _save(caller, staff, changes, "staff.update")
    return await _view(principal.agency_id, staff)


async def update_contact(caller: Caller, staff_id: str, changes: dict[str, Any]) -> StaffView:
    principal, staff = await _editable(caller, staff_id, "updateStaffContact")
    c = Collector()
    _check_emails(c, changes)
    await _unique_email(c, principal.agency_id, changes, staff.id)
    _second_email_still_needed(c, staff, changes)
    c.raise_if_any()
    await _may_change(caller, staff, changes, "updateStaffContact")
    await _save(caller, staff, changes, "staff.contact.update")
    return await _view(principal.agency_id, staff)


async def _agency_locations(c: Collector, agency_id: UUID, location_ids: list[str]) -> list[UUID]:
    """The distinct locations asked for, in order; NOT_FOUND unless all are the agency's."""
    parsed = list(dict.fromkeys(parse_id(value) for value in location_ids))
    wanted = [uid for uid in parsed if uid is not None]
    found: set[UUID] = set()
    if wanted:
        rows = await scoped(Location, agency_id, id__in=wanted).values_list("id", flat=True)
        found = {UUID(str(value)) for value in rows}
    if len(wanted) != len(parsed) or any(uid not in found for uid in wanted):
        c.add(ErrorCode.NOT_FOUND, "locationIds", "No such location in this agency.")
    return wanted


def _check_default(c: Collector, wanted: list[UUID], default_id: str | None) -> UUID | None:
    default = parse_id(default_id) if default_id is not None else None
    if wanted and default_id is None:
        c.add(ErrorCode.REQUIRED, "defaultLocationId", "Choose the default location.")
    elif default_id is not None and default not in wanted:
        c.add(
            ErrorCode.DEFAULT_LOCATION_NOT_SELECTED,
            "defaultLocationId",
            "The default location must be one of the selected locations.",
        )
    return default


async def set_locations(
    caller: Caller, staff_id: str, location_ids: list[str], default_id: str | None
) -> StaffView:
    """Replaces the staff member's locations; exactly one of them is the default."""
    principal, staff = await _editable(caller, staff_id, "setStaffLocations")
    c = Collector()
    wanted = await _agency_locations(c, principal.agency_id, location_ids)
    default = _check_default(c, wanted, default_id)
    c.raise_if_any()
    async with in_transaction():
        # Lock the staff row so two concurrent replacements run one after the other.
        await Staff.select_for_update().filter(id=staff.id).first()
        await StaffLocation.filter(staff_id=staff.id).delete()
        await StaffLocation.bulk_create(
            [
                StaffLocation(staff_id=staff.id, location_id=uid, is_default=uid == default)
                for uid in wanted
            ]
        )
        await audit.record(caller, "staff.locations.set", "Staff", staff.id)
    return await _view(principal.agency_id, staff)


async def update_notifications(
    caller: Caller, staff_id: str, notification: AppointmentNotification
) -> StaffView:
    principal, staff = await _editable(caller, staff_id, "updateStaffAppointmentNotifications")
    async with in_transaction():
        row = await Staff.select_for_update().get(id=staff.id)
        if notification == AppointmentNotification.SECOND_EMAIL and not row.second_email:
            message = "Add a second e-mail address before sending appointment e-mail there."
            error = UserError(ErrorCode.SECOND_EMAIL_REQUIRED, message, "notification")
            raise UserErrors([error])
        if notification == AppointmentNotification.NONE and await notifications.is_designated(row):
            message = (
                "This staff member gets a message when a client makes or requests an "
                "appointment (Client Portal Settings): choose someone else there first."
            )
            error = UserError(ErrorCode.NOTIFICATION_ADDRESS_REQUIRED, message, "notification")
            raise UserErrors([error])
        row.appointment_notification = notification
        await row.save(update_fields=["appointment_notification"])
        await audit.record(caller, "staff.notifications.update", "Staff", row.id)
    return await _view(principal.agency_id, row)
