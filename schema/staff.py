"""The Staff module and the agency's locations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry
from strawberry.permission import BasePermission

from app.context import Info
from models.agency import Location as LocationRow
from models.enums import AppointmentNotification, Permission
from resolvers import locations as locations_logic
from resolvers import staff as logic
from resolvers import staff_passwords as passwords
from schema.common import UserError, attempt, changes, gid
from schema.compiled import SAFE_TO_REPEAT
from schema.pagination import After, First, Page
from schema.permissions import CanManageStaff, IsStaff
from schema.recovery import RecoveryRequestPayload, ResetPasswordPayload

UNSET: Any = strawberry.UNSET
T = TypeVar("T")


@strawberry.type(description="A place where the agency sees clients.")
class Location:
    id: strawberry.ID = strawberry.field(description="Opaque id of the location.")
    name: str = strawberry.field(description="The location's name, as staff and clients see it.")
    address: str = strawberry.field(description="Postal address; empty when not given.")
    time_zone: str = strawberry.field(
        description="IANA time zone, such as America/Chicago; schedules at this location "
        "are computed in it."
    )


@strawberry.type(description="A location a staff member works at.")
class StaffLocation:
    location: Location = strawberry.field(description="The location.")
    is_default: bool = strawberry.field(
        description="The staff member's default location; exactly one is, and it is listed first."
    )


@strawberry.type(description="A staff member of the agency.")
class Staff:
    id: strawberry.ID = strawberry.field(description="Opaque id of the staff member.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    email: str = strawberry.field(
        description="First e-mail address, stored lowercase; also the sign-in name."
    )
    second_email: str | None = strawberry.field(
        description='Second address ("Phone/SMS"), such as an e-mail-to-text gateway.'
    )
    permissions: list[Permission] = strawberry.field(description="What this staff member may do.")
    appointment_notification: AppointmentNotification = strawberry.field(
        description="Which address, if any, gets e-mail about new appointments."
    )
    is_active: bool = strawberry.field(description="Inactive staff cannot sign in.")
    locations: list[StaffLocation] = strawberry.field(
        description="Where they work, the default first."
    )


def to_location(row: LocationRow) -> Location:
    return Location(id=gid(row.id), name=row.name, address=row.address, time_zone=row.time_zone)


def to_staff(view: logic.StaffView) -> Staff:
    row = view.staff
    return Staff(
        id=gid(row.id),
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        second_email=row.second_email,
        permissions=[Permission(p) for p in row.permissions],
        appointment_notification=row.appointment_notification,
        is_active=row.is_active,
        locations=[
            StaffLocation(location=to_location(link.location), is_default=link.is_default)
            for link in view.locations
        ],
    )


StaffId = Annotated[strawberry.ID, strawberry.argument(description="Staff.id.")]


_PARTIAL = "Only the fields sent change; the others stay as they are."
_NAME = "At most 100 characters, not empty; surrounding blanks are removed."
_NEW_NAME = "New name: at most 100 characters, not empty; left out, unchanged."


@strawberry.input(description="A new location.")
class CreateLocationInput:
    name: str = strawberry.field(description="At most 100 characters, not empty.")
    address: str | None = strawberry.field(
        default=None, description="Postal address, at most 500 characters; null or empty: none."
    )
    time_zone: str = strawberry.field(
        description="IANA time zone, such as America/Chicago (INVALID_TIME_ZONE otherwise)."
    )


@strawberry.input(description="Changes to a location. " + _PARTIAL)
class UpdateLocationInput:
    id: strawberry.ID = strawberry.field(description="The location (Location.id).")
    name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    address: str | None = strawberry.field(
        default=UNSET, description="New address (at most 500 characters); null or empty clears it."
    )
    time_zone: str | None = strawberry.field(
        default=UNSET,
        description="New IANA time zone, such as America/Chicago (INVALID_TIME_ZONE otherwise).",
    )


@strawberry.input(description="A new staff member has no password until they set one.")
class CreateStaffInput:
    first_name: str = strawberry.field(description=_NAME)
    last_name: str = strawberry.field(description=_NAME)
    email: str = strawberry.field(
        description="First e-mail address and sign-in name: unique within the agency, "
        "ignoring case (DUPLICATE otherwise); stored lowercase. The set-password link goes here."
    )
    second_email: str | None = strawberry.field(
        default=None, description='"Phone/SMS" address, such as an e-mail-to-text gateway.'
    )
    permissions: list[Permission] = strawberry.field(
        default_factory=list,
        description="What the new member may do; none when left out. Only permissions the "
        "caller holds themselves (FORBIDDEN otherwise).",
    )


@strawberry.input(description="Changes to a staff member. " + _PARTIAL)
class UpdateStaffInput:
    id: strawberry.ID = strawberry.field(description="The staff member (Staff.id).")
    first_name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    last_name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    email: str | None = strawberry.field(
        default=UNSET,
        description="New first e-mail address (also the sign-in name); unique within the "
        "agency (DUPLICATE otherwise). A change e-mails a notice (no link, no PHI) to the old "
        "address. FORBIDDEN for a staff member holding a permission the caller lacks.",
    )
    second_email: str | None = strawberry.field(
        default=UNSET,
        description="New second address; null clears it (SECOND_EMAIL_REQUIRED while "
        "appointment e-mail goes there).",
    )
    permissions: list[Permission] | None = strawberry.field(
        default=UNSET,
        description="Replaces the whole set; null is REQUIRED. Open WebSockets of the member "
        "close with 4403 when a permission is taken away. Not your own MANAGE_STAFF "
        "(OWN_ACCESS). Every permission added or removed must be one the caller holds, and the "
        "staff member must hold none the caller lacks (FORBIDDEN otherwise).",
    )
    is_active: bool | None = strawberry.field(
        default=UNSET,
        description="False: the member can no longer sign in and every session of theirs ends "
        "at once (WebSockets close with 4401); true: they may sign in again. Not yourself "
        "(OWN_ACCESS); null is REQUIRED. FORBIDDEN for a staff member holding a permission the "
        "caller lacks.",
    )


@strawberry.input(description="A staff member's e-mail addresses. " + _PARTIAL)
class UpdateStaffContactInput:
    staff_id: strawberry.ID = strawberry.field(
        description="The staff member (Staff.id): yourself, or anyone with MANAGE_STAFF."
    )
    email: str | None = strawberry.field(
        default=UNSET,
        description="New first e-mail address (also the sign-in name); unique within the "
        "agency (DUPLICATE otherwise). A change e-mails a notice (no link, no PHI) to the old "
        "address. FORBIDDEN for a staff member holding a permission the caller lacks.",
    )
    second_email: str | None = strawberry.field(
        default=UNSET,
        description='The "Phone/SMS" address; null clears it (SECOND_EMAIL_REQUIRED while '
        "appointment e-mail goes there).",
    )


@strawberry.input(description="Where a staff member works.")
class SetStaffLocationsInput:
    staff_id: strawberry.ID = strawberry.field(
        description="The staff member (Staff.id): yourself, or anyone with MANAGE_STAFF."
    )
    location_ids: list[strawberry.ID] = strawberry.field(
        description="Every location the staff member works at; replaces the current set."
    )
    default_location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The default location: required (REQUIRED) and one of locationIds "
        "(DEFAULT_LOCATION_NOT_SELECTED) unless that list is empty.",
    )


@strawberry.input(description="Where a staff member's appointment e-mail goes.")
class UpdateStaffAppointmentNotificationsInput:
    staff_id: strawberry.ID = strawberry.field(
        description="The staff member (Staff.id): yourself, or anyone with MANAGE_STAFF."
    )
    notification: AppointmentNotification = strawberry.field(
        description="Which address gets it; SECOND_EMAIL needs a second e-mail address "
        "(SECOND_EMAIL_REQUIRED)."
    )


@strawberry.input(description="Whom to send a fresh set-password link.")
class SendStaffPasswordLinkInput:
    staff_id: strawberry.ID = strawberry.field(
        description="An active staff member of the agency (Staff.id)."
    )


@strawberry.input(description="Forgot password, for staff: no session needed.")
class RequestStaffPasswordResetInput:
    agency_slug: str = strawberry.field(
        description="The agency's slug, as in staffLogin (at most 254 characters, not empty)."
    )
    email: str = strawberry.field(
        description="The staff member's first e-mail (sign-in name); case is ignored."
    )


@strawberry.input(description="A new password through a staff set-password link.")
class ResetStaffPasswordInput:
    token: str = strawberry.field(
        description="The token from the link's `#token=` (/staff/<slug>/set-password)."
    )
    new_password: str = strawberry.field(
        description="At least 12 characters; common ones and the e-mail address refused."
    )


@strawberry.type(description="A set-password link on its way to a staff member.")
class StaffPasswordLinkPayload:
    staff: Staff | None = strawberry.field(description="Whom it was sent to; null on errors.")
    expires_at: datetime | None = strawberry.field(
        description="When the link stops working; null on errors."
    )
    errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (no such staff member in this agency) or INVALID (inactive)."
    )


@strawberry.type(description="The answer to createLocation and updateLocation.")
class LocationPayload:
    location: Location | None = strawberry.field(
        description="The location as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused (REQUIRED, TOO_LONG, INVALID_TIME_ZONE, NOT_FOUND); "
        "empty on success."
    )


@strawberry.type(description="The answer to a change of a staff member.")
class StaffPayload:
    staff: Staff | None = strawberry.field(
        description="The staff member as saved, with their locations; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused, one entry per field at fault; empty on success. "
        "See the mutation for its codes."
    )


def _staff_payload(view: logic.StaffView | None, errors: list[UserError]) -> StaffPayload:
    return StaffPayload(staff=to_staff(view) if view else None, errors=errors)


def _location_payload(row: LocationRow | None, errors: list[UserError]) -> LocationPayload:
    return LocationPayload(location=to_location(row) if row else None, errors=errors)


_CHANGES = strawberry.argument(description="What to change.")
_MANAGE: list[type[BasePermission]] = [CanManageStaff]
_STAFF: list[type[BasePermission]] = [IsStaff]
# Any staff member may call these; the resolver lets those without MANAGE_STAFF act on
# themselves only.
_SELF_OR_MANAGE = _STAFF


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=_STAFF,
        description="The agency's locations, a page at a time. Any staff member; portal "
        "accounts are refused (FORBIDDEN).",
        metadata=SAFE_TO_REPEAT,
    )
    async def locations(
        self, info: Info, first: First = None, after: After = None
    ) -> Page[Location]:
        page = await locations_logic.locations(info.context.agency_id, first, after)
        # The rows are shaped as Location already (resolvers/locations.py LocationItem).
        return Page(items=cast(list[Location], page.items), next_cursor=page.next_cursor)

    @strawberry.field(
        permission_classes=_STAFF,
        description="One of the agency's locations; null if there is no such one. Any staff "
        "member.",
        metadata=SAFE_TO_REPEAT,
    )
    async def location(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Location.id.")],
    ) -> Location | None:
        row = await locations_logic.location(info.context.agency_id, id)
        return to_location(row) if row else None

    @strawberry.field(
        permission_classes=_MANAGE,
        description="The agency's staff, active or not, a page at a time. MANAGE_STAFF only.",
    )
    async def staff_members(
        self, info: Info, first: First = None, after: After = None
    ) -> Page[Staff]:
        page = await logic.staff_members(info.context.agency_id, first, after)
        return Page(items=[to_staff(v) for v in page.items], next_cursor=page.next_cursor)

    @strawberry.field(
        permission_classes=_SELF_OR_MANAGE,
        description="A staff member: anyone with MANAGE_STAFF, or the staff member themselves "
        "(FORBIDDEN for anyone else, whether or not the id exists). Null if there is no such "
        "one.",
    )
    async def staff(self, info: Info, id: StaffId) -> Staff | None:
        view = await logic.staff_member(info.context.caller, id)
        return to_staff(view) if view else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Adds a location. MANAGE_STAFF only. Errors: REQUIRED, TOO_LONG, "
        "INVALID_TIME_ZONE.",
    )
    async def create_location(
        self,
        info: Info,
        input: Annotated[CreateLocationInput, strawberry.argument(description="The location.")],
    ) -> LocationPayload:
        work = locations_logic.create_location(
            info.context.caller, changes(input, "id", "staff_id")
        )
        return _location_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Changes a location. MANAGE_STAFF only. Errors: NOT_FOUND, REQUIRED, "
        "TOO_LONG, INVALID_TIME_ZONE.",
    )
    async def update_location(
        self, info: Info, input: Annotated[UpdateLocationInput, _CHANGES]
    ) -> LocationPayload:
        work = locations_logic.update_location(
            info.context.caller, input.id, changes(input, "id", "staff_id")
        )
        return _location_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Adds a staff member with no password and e-mails them a one-time link "
        f"to set one (valid {passwords.SET_PASSWORD_DAYS} days, to their first e-mail "
        "address); they cannot sign in until they use it. MANAGE_STAFF only, and only with "
        "permissions the caller holds (FORBIDDEN otherwise).",
    )
    async def create_staff(
        self,
        info: Info,
        input: Annotated[CreateStaffInput, strawberry.argument(description="The new member.")],
    ) -> StaffPayload:
        base = info.context.settings.public_base_url
        work = logic.create_staff(info.context.caller, changes(input, "id", "staff_id"), base)
        return _staff_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Names, e-mail addresses, permissions and active state; MANAGE_STAFF only, "
        "so nobody can change their own permissions without it. Nobody grants or removes a "
        "permission they do not hold, and the sign-in e-mail, permissions and active state of "
        "a staff member holding a permission the caller lacks cannot be changed: FORBIDDEN. "
        "A changed sign-in e-mail gets a notice sent to the old address.",
    )
    async def update_staff(
        self, info: Info, input: Annotated[UpdateStaffInput, _CHANGES]
    ) -> StaffPayload:
        work = logic.update_staff(info.context.caller, input.id, changes(input, "id", "staff_id"))
        return _staff_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_SELF_OR_MANAGE,
        description="First and second e-mail; MANAGE_STAFF, or the staff member themselves. "
        "A changed first (sign-in) e-mail gets a notice sent to the old address; a manager "
        "cannot change it for a staff member holding a permission they lack (FORBIDDEN).",
    )
    async def update_staff_contact(
        self, info: Info, input: Annotated[UpdateStaffContactInput, _CHANGES]
    ) -> StaffPayload:
        work = logic.update_contact(
            info.context.caller, input.staff_id, changes(input, "id", "staff_id")
        )
        return _staff_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_SELF_OR_MANAGE,
        description="Replaces where a staff member works; MANAGE_STAFF, or themselves "
        "(FORBIDDEN for anyone else). Errors: NOT_FOUND, REQUIRED, "
        "DEFAULT_LOCATION_NOT_SELECTED.",
    )
    async def set_staff_locations(
        self,
        info: Info,
        input: Annotated[
            SetStaffLocationsInput, strawberry.argument(description="The whole new set.")
        ],
    ) -> StaffPayload:
        work = logic.set_locations(
            info.context.caller,
            input.staff_id,
            [str(i) for i in input.location_ids],
            input.default_location_id,
        )
        return _staff_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_SELF_OR_MANAGE,
        description="Which address gets appointment e-mail; MANAGE_STAFF, or themselves "
        "(FORBIDDEN for anyone else). Errors: NOT_FOUND, SECOND_EMAIL_REQUIRED.",
    )
    async def update_staff_appointment_notifications(
        self, info: Info, input: Annotated[UpdateStaffAppointmentNotificationsInput, _CHANGES]
    ) -> StaffPayload:
        work = logic.update_notifications(info.context.caller, input.staff_id, input.notification)
        return _staff_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="MANAGE_STAFF: e-mails a staff member a fresh one-time link to set their "
        f"password (valid {passwords.SET_PASSWORD_DAYS} days); their older links stop working. "
        "Their current password keeps working until the link is used. FORBIDDEN for a staff "
        "member who holds a permission the caller lacks.",
    )
    async def send_staff_password_link(
        self,
        info: Info,
        input: Annotated[
            SendStaffPasswordLinkInput, strawberry.argument(description="Whom to send it.")
        ],
    ) -> StaffPasswordLinkPayload:
        base = info.context.settings.public_base_url
        sent, errors = await attempt(passwords.send_link(info.context.caller, input.staff_id, base))
        if sent is None:
            return StaffPasswordLinkPayload(staff=None, expires_at=None, errors=errors)
        view = await logic.staff_view(sent.staff)
        return StaffPasswordLinkPayload(staff=to_staff(view), expires_at=sent.expires_at, errors=[])

    @strawberry.mutation(
        description="Public: e-mails a staff member a link to choose a new password (valid "
        f"{passwords.RESET_DAYS} day); older links stop working. The same answer, in the same "
        "time, whether or not such a staff member exists; limited like the portal's recovery "
        "(mail allowance per account, RATE_LIMITED per address; see RecoveryRequestPayload)."
    )
    async def request_staff_password_reset(
        self,
        info: Info,
        input: Annotated[
            RequestStaffPasswordResetInput, strawberry.argument(description="Who forgot.")
        ],
    ) -> RecoveryRequestPayload:
        ctx = info.context
        work = passwords.request_reset(
            ctx.caller, ctx.settings.public_base_url, input.agency_slug, input.email
        )
        _, errors = await attempt(work)
        return RecoveryRequestPayload(ok=not errors, errors=errors)

    @strawberry.mutation(
        description="Public: sets a staff member's password with a set-password link's token "
        "(from createStaff, sendStaffPasswordLink or requestStaffPasswordReset). The link works "
        "once; every session of the staff member ends and their other links stop working. "
        "Errors: RESET_LINK_INVALID (unknown, used, expired or replaced), WEAK_PASSWORD, "
        "RATE_LIMITED."
    )
    async def reset_staff_password(
        self,
        info: Info,
        input: Annotated[
            ResetStaffPasswordInput,
            strawberry.argument(description="The link's token and the new password."),
        ],
    ) -> ResetPasswordPayload:
        work = passwords.reset_password(info.context.caller, input.token, input.new_password)
        _, errors = await attempt(work)
        return ResetPasswordPayload(ok=not errors, errors=errors)
