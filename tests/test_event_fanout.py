"""One event heard by many dashboards in one process: what is the same for all of them (the
changed rows, the client's name for viewers who see the same clients) is read once, so the
statements per event grow only by each subscriber's own session re-check (bench/PROCESSES.md)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette

from app.context import Context, timeouts
from app.settings import Settings
from bench.slots_server import STATEMENTS, count_statements
from models.enums import Permission
from models.scheduling import Appointment, AppointmentSource
from resolvers import events
from resolvers.clock import now
from resolvers.principal import Caller
from resolvers.scheduling import EventKind, agency_channel
from resolvers.sessions import check_session, open_session
from schema import build_schema
from tests.factories import make_staff, make_world

SUBSCRIPTION = """subscription { appointmentRequestEvents {
  kind clientName appointment { id } } }"""
DASHBOARDS = 12
# Each subscriber's own re-check of its session (resolvers.sessions.recheck): at most this many.
PER_SUBSCRIBER = 2
# Read once for the event: the appointment, the client's name for viewers who see every
# client, and one per care-team viewer (the clinician here).
SHARED = 3


async def test_one_event_to_many_dashboards_reads_what_they_share_once(
    app: Starlette, settings: Settings
) -> None:
    world = await make_world()
    seeing_all = [
        await make_staff(
            world.agency,
            f"desk{i}@a.test",
            [Permission.MANAGE_ALL_APPOINTMENTS, Permission.VIEW_ALL_CLIENTS],
        )
        for i in range(DASHBOARDS - 1)
    ]
    viewers = [*seeing_all, world.clinician]  # the clinician sees the client by care team
    schema = build_schema(settings)
    limits = timeouts(settings)
    streams = []
    for staff in viewers:
        issued = await open_session(world.agency.id, limits, staff_id=staff.id)
        live = await check_session(issued.token, limits)
        assert live is not None
        context = Context(
            request=None,  # type: ignore[arg-type]
            response=None,
            caller=Caller(live.principal, None),
            settings=settings,
        )
        stream = await schema.subscribe(SUBSCRIPTION, context_value=context)
        streams.append(stream)
    start = now().replace(microsecond=0) + timedelta(days=4)
    appointment = await Appointment.create(
        agency=world.agency,
        client=world.client,
        staff=world.clinician,
        location=world.location,
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        source=AppointmentSource.STAFF,
    )
    count_statements()
    seen: list[str] = []
    marker = STATEMENTS.set(seen)
    try:
        # Tasks copy the context now: every subscriber's statements are counted.
        heard = [asyncio.ensure_future(anext(stream)) for stream in streams]
        await _registered(agency_channel(world.agency.id), len(streams))
        await events.publish(
            agency_channel(world.agency.id),
            kind=EventKind.APPOINTMENT_BOOKED.value,
            appointment_id=str(appointment.id),
        )
        results: list[Any] = await asyncio.wait_for(asyncio.gather(*heard), 10)
    finally:
        STATEMENTS.reset(marker)
        for stream in streams:
            await stream.aclose()
    for result in results:
        assert not result.errors, result.errors
        event = result.data["appointmentRequestEvents"]
        assert event["clientName"] == "Robin Client"
        assert event["appointment"]["id"] == str(appointment.id)
    assert len(seen) <= PER_SUBSCRIBER * len(streams) + SHARED, seen


async def _registered(channel: str, count: int) -> None:
    bus = events.current()
    for _ in range(500):
        if bus.subscribers(channel) >= count:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscriptions did not register")
