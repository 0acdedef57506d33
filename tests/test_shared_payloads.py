"""One event's payload executed once per group of subscribers (schema/shared_payloads.py):
subscribers whose payloads must be equal share one result, the others get their own, the
shared answer is the one each would have got alone, and who hears an event is still decided
per subscriber, after its own session re-check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from graphql import parse

from app.context import Context, timeouts
from app.settings import Settings
from models.enums import Permission
from models.scheduling import Appointment, AppointmentSource
from models.staff import Staff
from resolvers import events
from resolvers.appointment_events import AppointmentUpdate, shared_contents
from resolvers.clock import now
from resolvers.principal import Caller, Principal
from resolvers.scheduling import EventKind, agency_channel, client_channel
from resolvers.sessions import check_session, open_session, revoke
from schema import build_schema, shared_payloads
from schema.appointment_events import to_event
from schema.errors import PortalSchema
from tests.factories import World, make_staff, make_world

pytestmark = pytest.mark.usefixtures("app")

EVENT = "kind clientId clientName appointment { id status staffId start end } request { id }"
STAFF_EVENTS = f"subscription {{ appointmentRequestEvents {{ {EVENT} }} }}"
MY_UPDATES = f"subscription {{ myAppointmentUpdates {{ {EVENT} }} }}"
ROBIN = "Robin Client"

Stream = AsyncGenerator[Any, None]


@pytest.fixture
def unshared() -> Iterator[None]:
    shared_payloads.ENABLED = False
    yield
    shared_payloads.ENABLED = True


async def _session(world: World, settings: Settings, **person: Any) -> tuple[str, Context]:
    limits = timeouts(settings)
    issued = await open_session(world.agency.id, limits, **person)
    live = await check_session(issued.token, limits)
    assert live is not None
    context = Context(
        request=None,  # type: ignore[arg-type]
        response=None,
        caller=Caller(live.principal, None),
        settings=settings,
    )
    return issued.token, context


async def _subscribe(schema: PortalSchema, query: str, context: Context) -> Stream:
    stream = await schema.subscribe(query, context_value=context)
    assert hasattr(stream, "__anext__"), stream
    return stream


async def _book(world: World, staff: Staff, days: int) -> Appointment:
    start = now().replace(microsecond=0) + timedelta(days=days)
    return await Appointment.create(
        agency=world.agency,
        client=world.client,
        staff=staff,
        location=world.location,
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        source=AppointmentSource.STAFF,
    )


async def _registered(channel: str, count: int) -> None:
    bus = events.current()
    for _ in range(500):
        if bus.subscribers(channel) >= count:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscriptions did not register")


async def _published(world: World, appointment: Appointment) -> None:
    for channel in (agency_channel(world.agency.id), client_channel(world.client.id)):
        await events.publish(
            channel, kind=EventKind.APPOINTMENT_BOOKED.value, appointment_id=str(appointment.id)
        )


async def _hear(world: World, streams: list[Stream], appointment: Appointment) -> list[Any]:
    """Every stream's next result for the appointment's booking."""
    heard = [asyncio.ensure_future(anext(stream)) for stream in streams]
    staff_streams = len(streams) - 1  # the last one is the client's own
    await _registered(agency_channel(world.agency.id), staff_streams)
    await _registered(client_channel(world.client.id), 1)
    await _published(world, appointment)
    return list(await asyncio.wait_for(asyncio.gather(*heard), 10))


async def _viewers(world: World, settings: Settings, schema: PortalSchema) -> list[Stream]:
    """Two who see every client (the front desk, twice: two tabs of one person, and a manager
    who sees all), the clinician (sees the client by care team), a manager who may not see
    the client's record, and the client in the portal (another operation)."""
    sees_all = await make_staff(
        world.agency,
        "all@a.test",
        [Permission.MANAGE_ALL_APPOINTMENTS, Permission.VIEW_ALL_CLIENTS],
    )
    blind = await make_staff(world.agency, "blind@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    await world.front_desk.filter(id=world.front_desk.id).update(
        permissions=[
            Permission.MANAGE_PORTAL_ACCESS.value,
            Permission.VIEW_ALL_CLIENTS.value,
            Permission.MANAGE_ALL_APPOINTMENTS.value,
        ]
    )
    people = [
        {"staff_id": world.front_desk.id},
        {"staff_id": world.front_desk.id},
        {"staff_id": sees_all.id},
        {"staff_id": world.clinician.id},
        {"staff_id": blind.id},
    ]
    streams = []
    for person in people:
        _, context = await _session(world, settings, **person)
        streams.append(await _subscribe(schema, STAFF_EVENTS, context))
    _, context = await _session(world, settings, account_id=world.client_account.id)
    streams.append(await _subscribe(schema, MY_UPDATES, context))
    return streams


async def _close(streams: list[Stream]) -> None:
    for stream in streams:
        await stream.aclose()


def _payloads(results: list[Any]) -> list[dict[str, Any]]:
    for result in results:
        assert not result.errors, result.errors
    return [next(iter(result.data.values())) for result in results]


async def test_each_viewer_gets_its_own_correct_payload_and_equal_ones_are_shared(
    settings: Settings,
) -> None:
    world = await make_world()
    schema = build_schema(settings)
    streams = await _viewers(world, settings, schema)
    appointment = await _book(world, world.clinician, 4)
    try:
        results = await _hear(world, streams, appointment)
    finally:
        await _close(streams)
    payloads = _payloads(results)
    names = [payload["clientName"] for payload in payloads]
    assert names == [ROBIN, ROBIN, ROBIN, ROBIN, None, ROBIN]
    for payload in payloads:
        assert payload["appointment"]["id"] == str(appointment.id)
        assert payload["kind"] == "APPOINTMENT_BOOKED"
    data = [result.data for result in results]
    # The dashboards that see the name share one result, whatever rule let them see it.
    assert data[0] is data[1] is data[2] is data[3]
    # The one who may not see the client's record has its own, and so does the other
    # operation (same event, other subscription field).
    assert data[4] is not data[0]
    assert data[5] is not data[0]


async def test_the_shared_payloads_are_those_each_subscriber_gets_on_its_own(
    settings: Settings,
) -> None:
    world = await make_world()
    schema = build_schema(settings)
    streams = await _viewers(world, settings, schema)
    appointment = await _book(world, world.clinician, 4)
    try:
        # The same booking announced twice: shared, then each subscriber on its own.
        shared = await _hear(world, streams, appointment)
        shared_payloads.ENABLED = False
        try:
            alone = await _hear(world, streams, appointment)
        finally:
            shared_payloads.ENABLED = True
    finally:
        await _close(streams)
    assert len({id(result.data) for result in alone}) == len(alone)
    assert len({id(result.data) for result in shared}) < len(shared)
    assert _payloads(shared) == _payloads(alone)


def test_an_events_plain_fields_do_not_depend_on_the_viewer() -> None:
    """What `shared_as` promises: `to_event` builds every field but clientName from the
    update's contents alone, so viewers as different as can be get equal fields."""
    agency_id, client_id = uuid4(), uuid4()
    appointment = Appointment(
        id=uuid4(),
        agency_id=agency_id,
        client_id=client_id,
        staff_id=uuid4(),
        location_id=uuid4(),
        starts_at=now(),
        ends_at=now() + timedelta(minutes=50),
        source=AppointmentSource.STAFF,
    )
    viewers = [
        Principal(agency_id, uuid4(), staff_id=uuid4(), permissions=frozenset(Permission)),
        Principal(agency_id, uuid4(), staff_id=uuid4()),
        Principal(agency_id, uuid4(), account_id=uuid4(), client_ids=frozenset({client_id})),
    ]
    seen = [
        to_event(
            AppointmentUpdate(EventKind.APPOINTMENT_BOOKED, viewer, client_id, None, appointment)
        )
        for viewer in viewers
    ]
    assert len({shared_contents(event.update) for event in seen}) == 1
    fields = [{k: v for k, v in vars(event).items() if k != "update"} for event in seen]
    assert fields[0] == fields[1] == fields[2]


async def test_a_subscriber_whose_session_ends_between_events_hears_nothing_more(
    settings: Settings,
) -> None:
    world = await make_world()
    schema = build_schema(settings)
    everything = [Permission.MANAGE_ALL_APPOINTMENTS, Permission.VIEW_ALL_CLIENTS]
    manager = await make_staff(world.agency, "m@a.test", everything)
    colleague = await make_staff(world.agency, "c@a.test", everything)
    narrowed = await make_staff(world.agency, "n@a.test", everything)
    _, revoked_context = await _session(world, settings, staff_id=manager.id)
    _, kept_context = await _session(world, settings, staff_id=colleague.id)
    _, narrowed_context = await _session(world, settings, staff_id=narrowed.id)
    _, client_context = await _session(world, settings, account_id=world.client_account.id)
    # The session to be revoked subscribes first: it would lead its group if it still heard.
    streams = [
        await _subscribe(schema, STAFF_EVENTS, revoked_context),
        await _subscribe(schema, STAFF_EVENTS, narrowed_context),
        await _subscribe(schema, STAFF_EVENTS, kept_context),
        await _subscribe(schema, MY_UPDATES, client_context),
    ]
    try:
        first = _payloads(await _hear(world, streams, await _book(world, world.clinician, 4)))
        assert [payload["clientName"] for payload in first] == [ROBIN] * 4
        revoked = revoked_context.caller.principal
        assert revoked is not None
        await revoke(revoked.session_id)
        # No longer allowed to see the clinician's appointments.
        await narrowed.filter(id=narrowed.id).update(permissions=[])
        second = await _book(world, world.clinician, 5)
        ends = asyncio.ensure_future(anext(streams[0]))
        silent = asyncio.ensure_future(anext(streams[1]))
        heard = await _hear(world, streams[2:], second)
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(ends, 10)
        for payload in _payloads(heard):
            assert payload["appointment"]["id"] == str(second.id)
            assert payload["clientName"] == ROBIN
        # The narrowed dashboard skipped the second booking: the next it hears is its own.
        third = await _book(world, narrowed, 6)
        await _published(world, third)
        (own,) = _payloads([await asyncio.wait_for(silent, 10)])
        assert own["appointment"]["id"] == str(third.id)
        assert own["clientName"] is None
    finally:
        await _close(streams)


def test_only_selections_of_plain_fields_and_marked_resolvers_are_planned(
    settings: Settings,
) -> None:
    schema = build_schema(settings)._schema

    def planned(query: str) -> tuple[Any, ...] | None:
        document = parse(query)
        operation = document.definitions[0]
        fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
        return shared_payloads.plan(schema, operation, fragments)  # type: ignore[arg-type]

    assert planned(STAFF_EVENTS) is not None
    assert planned("subscription { appointmentRequestEvents { kind appointment { id } } }") == ()
    fragment = """subscription { appointmentRequestEvents { ...E __typename } }
        fragment E on AppointmentEvent { clientName request { id reason } }"""
    keys = planned(fragment)
    assert keys is not None and len(keys) == 1
    # Other subscriptions (no marked resolvers, or none at all) are not planned here: their
    # root values do not opt in, and a query is never planned.
    assert planned("query { __typename }") is None


def test_fragments_spreading_each_other_are_planned_once_each(settings: Settings) -> None:
    """Each fragment spreads the next twice: walked at every spread, 2**40 visits."""
    schema = build_schema(settings)._schema
    levels = 40
    fragments = [
        f"fragment F{i} on AppointmentEvent {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    document = parse(
        "subscription { appointmentRequestEvents { ...F0 } } "
        + " ".join([*fragments, f"fragment F{levels} on AppointmentEvent {{ clientName kind }}"])
    )
    operation = document.definitions[0]
    named = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    keys = shared_payloads.plan(schema, operation, named)  # type: ignore[arg-type]
    assert keys is not None and len(keys) == 1  # clientName's key, once
