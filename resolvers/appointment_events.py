"""Live appointment updates: who hears each scheduling event.

resolvers/scheduling.py publishes every change to a request or an appointment after its
transaction commits, with ids and the kind of change only (never PHI), on two channels: the
agency's (staff dashboards) and the client's (the client and their representatives).

Hearing: a subscriber re-reads, for every event, its viewer's session (the CURRENT principal:
a permission or a represented client taken away mid-subscription stops the events at once;
an ended session ends the subscription) and the changed rows, and passes on only what that
viewer may see now. The rules themselves are pure functions below. The session re-check is
batched (resolvers/sessions.py `recheck_for`): every subscriber of one event in a process
shares one read of the sessions, still made after the event arrived.

What is the same for every subscriber of a process (the changed rows, the agency's settings,
the client's row and care team) is read once per event and shared (`_shared`): one event
reaching a thousand dashboards costs a handful of queries, not a thousand of each. The payload
built from them is executed once per group of subscribers who get the same one
(schema/shared_payloads.py; `shared_contents` says what the plain fields depend on).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from models.clients import Client
from models.enums import Permission
from models.scheduling import Appointment, AppointmentRequest
from models.settings import PortalSettings
from resolvers import access, events
from resolvers.clients import care_team, sees_all_clients
from resolvers.events import Event
from resolvers.principal import Caller, Principal
from resolvers.scheduling import EventKind, agency_channel, client_channel
from resolvers.sessions import Timeouts, recheck_for
from resolvers.tenancy import parse_id, scoped

M = TypeVar("M", AppointmentRequest, Appointment)
T = TypeVar("T")


@dataclass(frozen=True)
class AppointmentUpdate:
    """One event as one viewer may see it: the rows as they are now, read for that viewer."""

    kind: EventKind
    viewer: Principal
    client_id: UUID
    request: AppointmentRequest | None
    appointment: Appointment | None
    event: Event | None = None


# Who may see what (pure)


def staff_may_see(viewer: Principal, staff_id: UUID, designated_staff_id: UUID | None) -> bool:
    """The rule resolvers/scheduling.py applies to deciding requests and cancelling
    appointments, for rows of the viewer's agency (the caller scopes them): the clinician
    (`staff_id`), MANAGE_ALL_APPOINTMENTS, and for requests the agency's designated staff
    member (pass None for appointments: the designation is about requests)."""
    if not viewer.is_staff:
        return False
    if viewer.has(Permission.MANAGE_ALL_APPOINTMENTS):
        return True
    return viewer.staff_id in (staff_id, designated_staff_id)


def portal_may_see(viewer: Principal, client_id: UUID) -> bool:
    """The client themselves, or a representative of that client."""
    return not viewer.is_staff and client_id in viewer.client_ids


# Subscribing


async def staff_updates(caller: Caller, timeouts: Timeouts) -> AsyncIterator[AppointmentUpdate]:
    """appointmentRequestEvents: staff only (anyone else is refused before anything is heard)."""
    principal = await access.staff_member(caller, "appointmentRequestEvents")
    channels = (agency_channel(principal.agency_id),)
    async for update in _updates(principal, timeouts, channels, _staff_sees):
        yield update


async def portal_updates(caller: Caller, timeouts: Timeouts) -> AsyncIterator[AppointmentUpdate]:
    """myAppointmentUpdates: portal users only, for the clients they are or represent at the
    start (a client added later is heard after subscribing again)."""
    principal = access.signed_in(caller)
    if principal.is_staff:
        raise await access.refuse(caller, "myAppointmentUpdates")
    channels = tuple(client_channel(c) for c in sorted(principal.client_ids))
    async for update in _updates(principal, timeouts, channels, _portal_sees):
        yield update


async def _updates(
    principal: Principal,
    timeouts: Timeouts,
    channels: tuple[str, ...],
    sees: Callable[[Principal, AppointmentUpdate], Awaitable[bool]],
) -> AsyncIterator[AppointmentUpdate]:
    async with events.subscribe(*channels) as stream:
        async for event in stream:
            viewer = await recheck_for(event, principal, timeouts)
            if viewer is None:
                return  # the session ended; the socket closes too
            update = await _read(viewer, event)
            if update is None:
                continue
            if await sees(viewer, update):
                yield update


async def _read(viewer: Principal, event: Event) -> AppointmentUpdate | None:
    """The event's rows, within the viewer's agency; None if the event names nothing there."""
    try:
        kind = EventKind(str(event.data.get("kind")))
    except ValueError:
        return None
    request = await _row(event, AppointmentRequest, viewer.agency_id, "request_id")
    appointment = await _row(event, Appointment, viewer.agency_id, "appointment_id")
    subject = request or appointment
    if subject is None:
        return None
    return AppointmentUpdate(kind, viewer, subject.client_id, request, appointment, event)


async def _shared(event: Event | None, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """`read()` once per event in this process, whoever asks first; the others wait for it.
    Only for reads whose answer depends on nothing but `key` (never on the viewer unless the
    key says so). Shielded: a subscriber that goes away mid-read does not cancel the others'."""
    if event is None:
        return await read()
    task: asyncio.Future[Any] | None = event.reads.get(key)
    if task is None:
        task = event.reads[key] = asyncio.ensure_future(read())
    result: T = await asyncio.shield(task)
    return result


async def _row(event: Event, model: type[M], agency_id: UUID, name: str) -> M | None:
    value = event.data.get(name)
    uid = parse_id(value) if isinstance(value, str) else None
    if uid is None:
        return None
    key = (model.__name__, agency_id, uid)
    return await _shared(event, key, lambda: scoped(model, agency_id, id=uid).first())


async def _staff_sees(viewer: Principal, update: AppointmentUpdate) -> bool:
    if update.request is not None:
        agency_id = viewer.agency_id
        settings = await _shared(
            update.event,
            (PortalSettings.__name__, agency_id),
            lambda: scoped(PortalSettings, agency_id).first(),
        )
        designated = settings.notified_staff_id if settings else None
        return staff_may_see(viewer, update.request.staff_id, designated)
    assert update.appointment is not None
    return staff_may_see(viewer, update.appointment.staff_id, None)


async def _portal_sees(viewer: Principal, update: AppointmentUpdate) -> bool:
    return portal_may_see(viewer, update.client_id)


async def client_name(update: AppointmentUpdate) -> str | None:
    """The client's name if the viewer may see that client (staff: the clients they see in the
    Client Portal Manager's rule; portal users: their own clients), else None. What is read is
    the same for every viewer (the client's row, its care team), so it is read once per event."""
    viewer = update.viewer
    if not (viewer.is_staff or update.client_id in viewer.client_ids):
        return None
    if viewer.is_staff and not sees_all_clients(viewer):
        # Care-team staff (visible_clients' rule): only the clients whose team they are in.
        team = await _shared(
            update.event, ("care team", update.client_id), partial(care_team, update.client_id)
        )
        if viewer.staff_id not in team:
            return None
    # Staff who see every client or are on its team, and the client's own portal users: the
    # agency's row.
    agency_id, client_id = viewer.agency_id, update.client_id
    client = await _shared(
        update.event,
        ("client", agency_id, client_id),
        lambda: scoped(Client, agency_id, id=client_id).first(),
    )
    return f"{client.first_name} {client.last_name}" if client else None


def shared_contents(update: AppointmentUpdate) -> Hashable:
    """What the event's plain fields (kind, clientId, request, appointment) are built from: the
    kind, the client and the rows `_read` found, which depend on nothing but the event and the
    viewer's agency (the rows are read once per event and agency, and shared). The rows by
    identity: whoever keeps this key must keep the update alive with it."""
    return (
        update.viewer.agency_id,
        update.kind,
        update.client_id,
        id(update.request),
        id(update.appointment),
    )
