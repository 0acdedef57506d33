"""Staff appointment notices: who hears of a portal booking, a request or a change, and how.

The booking code calls these INSIDE the transaction of the change, so the outbox rows and tasks
are saved with it or not at all, and calls `Notices.send()` after the commit.

The rules (spec "Other Settings"; issue 7):
- The Setup tab's "Notify by e-mail on new appointment" (notify_email_on_new_appointment) gates
  every staff appointment notice, e-mail and task alike: the spec says that for ANY staff to
  receive appointment notifications it must be YES.
- "How to notify" (notify_method) decides the channel for everyone: EMAIL, TASK or both.
- A portal booking or request notifies the designated staff member (PortalSettings.notified_staff):
  a task when the method includes TASK, an e-mail when it includes EMAIL.
- The clinician of the appointment hears of every change (booking, request, staff-created
  appointment, cancellation, approval, denial, withdrawal, expiry) by e-mail, when the method
  includes EMAIL, unless they made the change themselves.
- E-mail goes to the address a staff member chose for "Send e-mail on appointment change":
  the first address gets a full e-mail, the second ("Phone/SMS") a text-message-sized one;
  NONE gets no e-mail. One staff member gets one notice per change, even when designated
  and clinician at once.
- No PHI: a notice says what kind of thing happened and links to the staff app, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from emails.render import MailContext, MailKind, render_default, render_text_message
from models.agency import Agency
from models.enums import AppointmentNotification, NotifyMethod
from models.scheduling import Appointment, AppointmentRequest
from models.settings import AgencySetup, PortalSettings
from models.staff import Staff
from models.tasks import Task, TaskKind
from resolvers import jobs
from resolvers.clock import now
from resolvers.errors import ErrorCode, UserError
from resolvers.outbox import queue_mail


class Change(StrEnum):
    """What happened to an appointment or a request."""

    BOOKED = "BOOKED"  # a portal user booked (mode MAKE): call portal_appointment_booked
    REQUESTED = "REQUESTED"  # a portal user requested (mode REQUEST): portal_appointment_requested
    CREATED = "CREATED"  # staff put an appointment on the calendar
    CANCELLED = "CANCELLED"  # an appointment was cancelled, on time or late, by either side
    APPROVED = "APPROVED"  # a request was approved (pass the request)
    DENIED = "DENIED"
    WITHDRAWN = "WITHDRAWN"  # the portal user cancelled their pending request
    EXPIRED = "EXPIRED"  # a request's time came while it was still pending


_MAIL = {
    Change.BOOKED: MailKind.APPOINTMENT_BOOKED,
    Change.REQUESTED: MailKind.APPOINTMENT_REQUESTED,
    Change.CREATED: MailKind.APPOINTMENT_CREATED,
    Change.CANCELLED: MailKind.APPOINTMENT_CANCELLED,
    Change.APPROVED: MailKind.REQUEST_APPROVED,
    Change.DENIED: MailKind.REQUEST_DENIED,
    Change.WITHDRAWN: MailKind.REQUEST_WITHDRAWN,
    Change.EXPIRED: MailKind.REQUEST_EXPIRED,
}
# The portal events the designated staff member hears of, and the task each one makes.
_NEW = {
    Change.BOOKED: TaskKind.PORTAL_APPOINTMENT_BOOKED,
    Change.REQUESTED: TaskKind.PORTAL_APPOINTMENT_REQUESTED,
}
# Once a request is settled, nobody needs to act on it: its open tasks are marked done.
_SETTLES_REQUEST = frozenset({Change.APPROVED, Change.DENIED, Change.WITHDRAWN, Change.EXPIRED})
_BY_EMAIL = frozenset({NotifyMethod.EMAIL, NotifyMethod.EMAIL_AND_TASK})
_BY_TASK = frozenset({NotifyMethod.TASK, NotifyMethod.EMAIL_AND_TASK})

Item = Appointment | AppointmentRequest


@dataclass
class Notices:
    """What a change left behind: outbox messages to deliver and tasks created."""

    message_ids: list[UUID] = field(default_factory=list)
    task_ids: list[UUID] = field(default_factory=list)

    def add(self, other: Notices) -> None:
        self.message_ids += other.message_ids
        self.task_ids += other.task_ids

    async def send(self) -> None:
        """Call after the transaction commits: delivers the mail now (the outbox sweep would
        otherwise find it within a minute)."""
        for message_id in self.message_ids:
            await jobs.enqueue("deliver_email", str(message_id))


def appointments_link(base_url: str, slug: str) -> str:
    """The staff app's appointments page: the whole content of a notice."""
    return f"{base_url.rstrip('/')}/staff/{slug}/appointments"


async def portal_appointment_booked(appointment: Appointment, base_url: str) -> Notices:
    """A portal user booked `appointment` (mode MAKE). Call inside the booking's transaction."""
    return await _notify(appointment, Change.BOOKED, base_url, None)


async def portal_appointment_requested(request: AppointmentRequest, base_url: str) -> Notices:
    """A portal user requested a time (mode REQUEST). Call inside the request's transaction."""
    return await _notify(request, Change.REQUESTED, base_url, None)


async def appointment_changed(
    item: Item, change: Change, base_url: str, by_staff_id: UUID | None = None
) -> Notices:
    """Any other change (see Change). `by_staff_id` is the staff member who made it, if one
    did: they are not told of their own change, and they are recorded as having done the
    request's open tasks when it settles one. Call inside the change's transaction."""
    if change in _NEW:
        raise ValueError(f"{change} comes from the portal: use portal_appointment_*")
    notices = await _notify(item, change, base_url, by_staff_id)
    if isinstance(item, AppointmentRequest) and change in _SETTLES_REQUEST:
        await Task.filter(request_id=item.id, done_at__isnull=True).update(
            done_at=now(), done_by_staff_id=by_staff_id
        )
    return notices


async def _notify(item: Item, change: Change, base_url: str, by_staff_id: UUID | None) -> Notices:
    notices = Notices()
    setup = await AgencySetup.get(agency_id=item.agency_id)
    if not setup.notify_email_on_new_appointment:
        return notices
    recipients: list[Staff] = []
    if change in _NEW:
        designated = await designated_staff(item.agency_id)
        if designated is not None:
            recipients.append(designated)
            if setup.notify_method in _BY_TASK:
                notices.task_ids.append(await _task(item, designated, _NEW[change]))
    clinician = await Staff.get_or_none(id=item.staff_id, is_active=True)
    if clinician is not None and clinician.id != by_staff_id:
        recipients.append(clinician)
    if setup.notify_method in _BY_EMAIL and recipients:
        agency = await Agency.get(id=item.agency_id)
        context = MailContext(agency.name, appointments_link(base_url, agency.slug))
        seen: set[UUID] = set()
        for staff in recipients:
            if staff.id not in seen:
                seen.add(staff.id)
                message_id = await _mail(staff, context, _MAIL[change])
                if message_id is not None:
                    notices.message_ids.append(message_id)
    return notices


async def designated_staff(agency_id: UUID) -> Staff | None:
    """The active staff member chosen to hear of portal appointments, if any."""
    settings = await PortalSettings.get(agency_id=agency_id)
    if settings.notified_staff_id is None:
        return None
    return await Staff.get_or_none(id=settings.notified_staff_id, is_active=True)


async def _task(item: Item, staff: Staff, kind: TaskKind) -> UUID:
    is_request = isinstance(item, AppointmentRequest)
    task = await Task.create(
        agency_id=item.agency_id,
        staff_id=staff.id,
        kind=kind,
        appointment_id=None if is_request else item.id,
        request_id=item.id if is_request else None,
        created_at=now(),
    )
    return task.id


def notice_address(staff: Staff) -> str | None:
    """Where the staff member's appointment e-mail goes by their own choice; None for none."""
    if staff.appointment_notification == AppointmentNotification.FIRST_EMAIL:
        return staff.email or None
    if staff.appointment_notification == AppointmentNotification.SECOND_EMAIL:
        return staff.second_email or None
    return None


async def _mail(staff: Staff, context: MailContext, kind: MailKind) -> UUID | None:
    address = notice_address(staff)
    if address is None:
        return None
    if staff.appointment_notification == AppointmentNotification.SECOND_EMAIL:
        mail = render_text_message(context, kind)
    else:
        mail = render_default(context, kind)
    return await queue_mail(staff.agency_id, kind.value, address, mail)


# --- the designated staff member ---------------------------------------------------------------


def designation_problem(staff: Staff, field_name: str) -> UserError | None:
    """Why `staff` cannot be the one notified of portal appointments, if they cannot: the spec
    makes their "Send e-mail on appointment change" choice required."""
    if not staff.is_active:
        return UserError(ErrorCode.NOT_FOUND, "No such staff member in this agency.", field_name)
    if notice_address(staff) is None:
        return UserError(
            ErrorCode.NOTIFICATION_ADDRESS_REQUIRED,
            "This staff member gets no appointment e-mail: set their “Send e-mail on "
            "appointment change” (Staff module) to an address they have first.",
            field_name,
        )
    return None


async def is_designated(staff: Staff) -> bool:
    settings = await PortalSettings.get(agency_id=staff.agency_id)
    return settings.notified_staff_id == staff.id


async def staff_deactivated(staff: Staff) -> bool:
    """Call inside the transaction that changes `is_active`: an inactive staff member is no
    longer the one notified. True when they were (and now nobody is)."""
    if staff.is_active:
        return False
    cleared = await PortalSettings.filter(
        agency_id=staff.agency_id, notified_staff_id=staff.id
    ).update(notified_staff_id=None)
    return bool(cleared)


# Why nobody, or not everybody the Setup tab asks for, hears of portal appointments.
WARNING_SETUP_NO = (
    "Notify by e-mail on new appointment is NO (Settings module, Setup tab): no staff member "
    "is notified of appointments made or requested in the portal."
)
WARNING_NOBODY = (
    "No staff member is chosen to get a message when a client makes or requests an "
    "appointment: nobody is notified of them."
)
WARNING_NO_EMAIL = (
    "The staff member chosen to get a message when a client makes or requests an appointment "
    "has no “Send e-mail on appointment change” address (Staff module): they get no e-mail."
)


async def notification_warning(agency_id: UUID) -> str | None:
    """None when the designated staff member gets every notice the Setup tab asks for."""
    setup = await AgencySetup.get(agency_id=agency_id)
    if not setup.notify_email_on_new_appointment:
        return WARNING_SETUP_NO
    designated = await designated_staff(agency_id)
    if designated is None:
        return WARNING_NOBODY
    if setup.notify_method in _BY_EMAIL and notice_address(designated) is None:
        return WARNING_NO_EMAIL
    return None
