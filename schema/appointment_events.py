"""Live appointment updates over WebSocket (graphql-transport-ws): staff dashboards and the
portal. Who hears what is decided per event in resolvers/appointment_events.py."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from app.context import Info, timeouts
from app.logging import safe_traceback
from resolvers import appointment_events as logic
from resolvers.appointment_events import AppointmentUpdate
from resolvers.errors import Forbidden, NotAuthenticated
from resolvers.scheduling import EventKind
from schema.common import gid
from schema.scheduling import Appointment, AppointmentRequest, to_appointment, to_request
from schema.shared_payloads import shared_by

log = logging.getLogger("portal.subscriptions")
U = TypeVar("U")
E = TypeVar("E")

_CHANGES = {
    EventKind.REQUEST_CREATED: "A portal user asked for a time (mode REQUEST).",
    EventKind.REQUEST_CANCELLED: "The portal user withdrew the request before a decision.",
    EventKind.REQUEST_APPROVED: "Staff approved the request; `appointment` is the one made.",
    EventKind.REQUEST_DENIED: "Staff declined the request; its `reason` says why, if given.",
    EventKind.REQUEST_EXPIRED: "The request's time came while it was still pending.",
    EventKind.APPOINTMENT_BOOKED: "An appointment was made directly: a portal booking (mode "
    "MAKE) or createAppointment by staff.",
    EventKind.APPOINTMENT_CANCELLED: "An appointment was cancelled; its status tells "
    "CANCELLED from LATE_CANCELLED.",
}
strawberry.enum(EventKind, name="AppointmentChange", description="What happened.")
for _value in EventKind.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _CHANGES[EventKind(_value.value)]


@strawberry.type(
    description="One change to an appointment request or an appointment, as the viewer may "
    "see it when it is sent. The request and the appointment are read when the event is "
    "delivered, so they show the current state (a later change arrives as its own event)."
)
class AppointmentEvent:
    kind: EventKind = strawberry.field(description="What happened.")
    client_id: strawberry.ID = strawberry.field(
        description="The client the request or appointment is for (a representative of "
        "several clients tells them apart by this)."
    )
    request: AppointmentRequest | None = strawberry.field(
        description="The request changed; null for an appointment booked or cancelled without one."
    )
    appointment: Appointment | None = strawberry.field(
        description="The appointment changed, or the one an approval made; null when there is "
        "none (a request created, cancelled, denied or expired)."
    )
    update: strawberry.Private[AppointmentUpdate]

    @strawberry.field(
        description="The client's name, or null when the viewer may not see that client's "
        "record (staff not on the client's care team, without VIEW_ALL_CLIENTS or "
        "MANAGE_PORTAL_ACCESS; checked at delivery).",
        # What this viewer is given is the only thing it depends on (see shared_as).
        metadata=shared_by(lambda event: logic.client_name(event.update)),
    )
    async def client_name(self) -> str | None:
        return await logic.client_name(self.update)

    def shared_as(self) -> tuple[dict[Any, Any], Hashable] | None:
        """For schema/shared_payloads.py: subscribers of one event whose viewers share these
        contents (and, if selected, the client's name) get the same payload, executed once.
        The other fields are plain attributes built by `to_event` from these contents alone."""
        if self.update.event is None:
            return None
        return self.update.event.reads, logic.shared_contents(self.update)


def to_event(update: AppointmentUpdate) -> AppointmentEvent:
    return AppointmentEvent(
        kind=update.kind,
        client_id=gid(update.client_id),
        request=to_request(update.request) if update.request else None,
        appointment=to_appointment(update.appointment) if update.appointment else None,
        update=update,
    )


async def as_events(updates: AsyncIterator[AppointmentUpdate]) -> AsyncGenerator[AppointmentEvent]:
    async for event in masked(updates, to_event):
        yield event


async def masked(updates: AsyncIterator[U], convert: Callable[[U], E]) -> AsyncGenerator[E]:
    """An error raised while a subscription runs reaches the client without a path, which the
    error masking leaves alone: anything but a refusal is masked here instead."""
    try:
        async for update in updates:
            yield convert(update)
    except (NotAuthenticated, Forbidden):
        raise
    except Exception as exc:
        log.error("subscription failed\n%s", safe_traceback(exc))
        raise GraphQLError(
            "Unexpected error.", extensions={"code": "INTERNAL_SERVER_ERROR"}
        ) from None


@strawberry.type(
    description="Live updates over WebSocket (graphql-transport-ws, credentials in "
    "connection_init). graphql-transport-ws sends nothing when a subscription starts: an event "
    "is heard from the moment the server has registered it."
)
class Subscription:
    @strawberry.subscription(
        description="Staff dashboards: every request created, cancelled or decided (approved, "
        "denied, expired) and every appointment booked or cancelled, for what this viewer may "
        "act on, as appointmentRequests and cancelAppointment decide: their own as the "
        "clinician; every request for the agency's designated staff member (Appointments "
        "settings); everything for staff with MANAGE_ALL_APPOINTMENTS. Checked again for "
        "each event against the viewer's session as it is then: a permission taken away "
        "stops the events, and the end of the session ends the subscription (the socket "
        "closes). Errors: UNAUTHENTICATED when not signed in, FORBIDDEN for portal users."
    )
    async def appointment_request_events(self, info: Info) -> AsyncGenerator[AppointmentEvent]:
        ctx = info.context
        async for event in as_events(logic.staff_updates(ctx.caller, timeouts(ctx.settings))):
            yield event

    @strawberry.subscription(
        description="The portal: every change to the requests and appointments of the "
        "viewer's own client (a representative: of each client they represent when "
        "subscribing, told apart by clientId), whoever made it: requests approved, denied "
        "(with the reason), expired or cancelled, appointments booked or cancelled. Checked "
        "again for each event: a client no longer represented is no longer heard, and the "
        "end of the session ends the subscription (the socket closes). Errors: "
        "UNAUTHENTICATED when not signed in, FORBIDDEN for staff."
    )
    async def my_appointment_updates(self, info: Info) -> AsyncGenerator[AppointmentEvent]:
        ctx = info.context
        async for event in as_events(logic.portal_updates(ctx.caller, timeouts(ctx.settings))):
            yield event
