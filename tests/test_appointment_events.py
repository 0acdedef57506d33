"""appointmentRequestEvents and myAppointmentUpdates over a real WebSocket: a real uvicorn
server, a real graphql-transport-ws client, the test session's database, and Redis pub/sub
when REDIS_URL is set.

graphql-transport-ws does not acknowledge a subscription, so every test waits until the bus
has the subscriber before it fires. "Nothing arrives" is proved by a second, visible event
fired after the invisible one: it must be the first message the socket gets."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from graphql import GraphQLError
from starlette.applications import Starlette

from app.pubsub import LocalBus
from app.settings import Settings
from models.accounts import PortalAccount
from models.clients import CareTeamMember, Client, Representative
from models.enums import Permission, PortalAccountKind
from models.scheduling import Appointment, AppointmentRequest, AppointmentSource, RequestStatus
from models.settings import PortalSettings
from models.staff import Staff
from resolvers import events
from resolvers.appointment_events import (
    AppointmentChange,
    AppointmentUpdate,
    agency_channel,
    appointment_changed,
    client_channel,
    portal_may_see,
    request_changed,
    staff_may_see,
)
from resolvers.clock import now
from resolvers.principal import Principal
from schema.appointment_events import as_events
from tests.factories import PASSWORD_HASH, Api, World, make_staff, make_world
from tests.live import GqlSocket, api_process, serving

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"

STAFF_EVENTS = """
subscription {
  appointmentRequestEvents {
    kind clientId clientName requestId requestStatus denialReason appointmentId
    appointmentStatus staffId locationId startsAt endsAt
  }
}"""
MY_UPDATES = """
subscription {
  myAppointmentUpdates { kind clientId clientName requestId requestStatus denialReason
    appointmentId appointmentStatus }
}"""
LOGOUT = "mutation { logout { ok } }"
UPDATE_STAFF = """
mutation ($input: UpdateStaffInput!) {
  updateStaff(input: $input) { staff { permissions } errors { code field } }
}"""


@pytest.fixture(scope="module")
async def server(app: Starlette) -> AsyncIterator[str]:
    async with serving(app) as address:
        yield address


@pytest.fixture
async def web(server: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        yield Api(client)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def registered(channel: str, count: int) -> None:
    """Waits until this process's bus has `count` subscribers on the channel."""
    bus = events.current()
    assert isinstance(bus, LocalBus)
    for _ in range(500):
        if bus.subscribers(channel) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{channel}: {bus.subscribers(channel)} subscribers, wanted {count}")


async def subscribed(sock: GqlSocket, query: str, channel: str, before: int | None = None) -> str:
    """Sends the subscription and waits until it is live on the bus."""
    bus = events.current()
    assert isinstance(bus, LocalBus)
    count = bus.subscribers(channel) if before is None else before
    op_id = await sock.send(query)
    await registered(channel, count + 1)
    return op_id


async def next_event(sock: GqlSocket, op_id: str, field: str) -> dict[str, Any]:
    message = await sock.receive()
    assert message["id"] == op_id and message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"][field]
    return event


async def a_request(
    world: World, staff: Staff | None = None, client: Client | None = None, hours: int = 48
) -> AppointmentRequest:
    starts = now().replace(microsecond=0) + timedelta(hours=hours)
    return await AppointmentRequest.create(
        agency=world.agency,
        client=client or world.client,
        staff=staff or world.clinician,
        location=world.location,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
    )


async def an_appointment(
    world: World, staff: Staff | None = None, client: Client | None = None
) -> Appointment:
    starts = now().replace(microsecond=0) + timedelta(days=3)
    return await Appointment.create(
        agency=world.agency,
        client=client or world.client,
        staff=staff or world.clinician,
        location=world.location,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        source=AppointmentSource.STAFF,
    )


async def second_client(world: World, *, rep_account: PortalAccount | None = None) -> Client:
    """Another client of the agency on the clinician's care team, optionally represented by
    an existing representative's account too."""
    client = await Client.create(agency=world.agency, first_name="Sky", last_name="Other")
    await CareTeamMember.create(client=client, staff=world.clinician)
    if rep_account is not None:
        await Representative.create(
            agency=world.agency,
            client=client,
            first_name="Gale",
            last_name="Guardian",
            email=rep_account.email,
            account=rep_account,
        )
    return client


# Staff dashboards


async def test_the_clinician_hears_a_new_request_with_the_client_named(
    server: str, web: Api
) -> None:
    world = await make_world()
    token = await web.staff_token(world.agency, "clinician@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        request = await a_request(world)
        await request_changed(request, AppointmentChange.REQUEST_CREATED)
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert event == {
        "kind": "REQUEST_CREATED",
        "clientId": str(world.client.id),
        "clientName": "Robin Client",
        "requestId": str(request.id),
        "requestStatus": "PENDING",
        "denialReason": None,
        "appointmentId": None,
        "appointmentStatus": None,
        "staffId": str(world.clinician.id),
        "locationId": str(world.location.id),
        "startsAt": request.starts_at.isoformat(),
        "endsAt": request.ends_at.isoformat(),
    }


async def test_another_clinician_and_another_agency_hear_nothing_of_it(
    server: str, web: Api
) -> None:
    world, elsewhere = await make_world(), await make_world()
    colleague = await make_staff(world.agency, "colleague@a.test", [Permission.VIEW_ALL_CLIENTS])
    colleague_token = await web.staff_token(world.agency, "colleague@a.test")
    stranger_token = await web.staff_token(elsewhere.agency, "champion@a.test")
    here, there = agency_channel(world.agency.id), agency_channel(elsewhere.agency.id)
    async with (
        GqlSocket.opened(server, bearer(colleague_token)) as colleague_sock,
        GqlSocket.opened(server, bearer(stranger_token)) as stranger_sock,
    ):
        await colleague_sock.acknowledged()
        await stranger_sock.acknowledged()
        colleague_op = await subscribed(colleague_sock, STAFF_EVENTS, here)
        stranger_op = await subscribed(stranger_sock, STAFF_EVENTS, there)
        # Another clinician's request, in the first agency: neither may see it.
        theirs = await a_request(world)
        await request_changed(theirs, AppointmentChange.REQUEST_CREATED)
        # Then one each of them may see.
        own = await a_request(world, staff=colleague)
        await request_changed(own, AppointmentChange.REQUEST_CREATED)
        other_agency = await a_request(elsewhere)
        await request_changed(other_agency, AppointmentChange.REQUEST_CREATED)
        first = await next_event(colleague_sock, colleague_op, "appointmentRequestEvents")
        assert first["requestId"] == str(own.id)
        first = await next_event(stranger_sock, stranger_op, "appointmentRequestEvents")
        assert first["requestId"] == str(other_agency.id)


async def test_the_designated_staff_member_hears_every_request_but_names_only_clients_they_see(
    server: str, web: Api
) -> None:
    world = await make_world()
    desk = await make_staff(world.agency, "scheduler@a.test", [])
    await PortalSettings.filter(agency_id=world.agency.id).update(notified_staff_id=desk.id)
    token = await web.staff_token(world.agency, "scheduler@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        request = await a_request(world)
        await request_changed(request, AppointmentChange.REQUEST_CREATED)
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert event["requestId"] == str(request.id)
    assert event["clientId"] == str(world.client.id)
    # Not on the client's care team and without VIEW_ALL_CLIENTS: no name.
    assert event["clientName"] is None


async def test_manage_all_appointments_hears_appointments_booked_and_cancelled(
    server: str, web: Api
) -> None:
    world = await make_world()
    await make_staff(world.agency, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    token = await web.staff_token(world.agency, "lead@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        appointment = await an_appointment(world)
        await appointment_changed(appointment, AppointmentChange.APPOINTMENT_BOOKED)
        booked = await next_event(sock, op, "appointmentRequestEvents")
        await Appointment.filter(id=appointment.id).update(status="LATE_CANCELLED")
        await appointment_changed(appointment, AppointmentChange.APPOINTMENT_CANCELLED)
        cancelled = await next_event(sock, op, "appointmentRequestEvents")
    assert booked["kind"] == "APPOINTMENT_BOOKED"
    assert booked["appointmentId"] == str(appointment.id)
    assert booked["appointmentStatus"] == "SCHEDULED"
    assert booked["requestId"] is None
    assert (cancelled["kind"], cancelled["appointmentStatus"]) == (
        "APPOINTMENT_CANCELLED",
        "LATE_CANCELLED",
    )


async def test_a_permission_taken_away_mid_subscription_stops_the_events(
    server: str, web: Api
) -> None:
    """Re-checked per event against the session as it is now, even before the socket's own
    watcher hears of the change (here it never does: the row is changed directly)."""
    world = await make_world()
    lead = await make_staff(world.agency, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    token = await web.staff_token(world.agency, "lead@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        before = await a_request(world)
        await request_changed(before, AppointmentChange.REQUEST_CREATED)
        assert (await next_event(sock, op, "appointmentRequestEvents"))["requestId"] == str(
            before.id
        )
        await Staff.filter(id=lead.id).update(permissions=[])
        after = await a_request(world, hours=72)
        await request_changed(after, AppointmentChange.REQUEST_CREATED)
        own = await a_request(world, staff=lead)
        await request_changed(own, AppointmentChange.REQUEST_CREATED)
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert event["requestId"] == str(own.id)


async def test_a_permission_taken_away_through_the_api_closes_the_socket(
    server: str, web: Api
) -> None:
    world = await make_world()
    lead = await make_staff(world.agency, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    token = await web.staff_token(world.agency, "lead@a.test")
    champion = await web.staff_token(world.agency, "champion@a.test")
    channel = agency_channel(world.agency.id)
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        await subscribed(sock, STAFF_EVENTS, channel)
        variables = {"input": {"id": str(lead.id), "permissions": []}}
        result = await web.data(UPDATE_STAFF, variables, token=champion)
        assert result["updateStaff"]["errors"] == []
        request = await a_request(world)
        await request_changed(request, AppointmentChange.REQUEST_CREATED)
        assert await sock.closed() == (4403, "Forbidden")


async def test_logout_ends_the_subscription_and_unsubscribes(server: str, web: Api) -> None:
    world = await make_world()
    token = await web.staff_token(world.agency, "clinician@a.test")
    channel = agency_channel(world.agency.id)
    bus = events.current()
    assert isinstance(bus, LocalBus)
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        await subscribed(sock, STAFF_EVENTS, channel, before=0)
        await web.data(LOGOUT, token=token)
        request = await a_request(world)
        await request_changed(request, AppointmentChange.REQUEST_CREATED)
        assert await sock.closed() == (4401, "Unauthorized")
    for _ in range(100):
        if bus.subscribers(channel) == 0:
            break
        await asyncio.sleep(0.01)
    assert bus.subscribers(channel) == 0


# Who may subscribe at all


async def test_an_anonymous_subscription_is_refused_then_completed(server: str) -> None:
    async with GqlSocket.opened(server) as sock:
        await sock.acknowledged()
        for query in (STAFF_EVENTS, MY_UPDATES):
            op = await sock.send(query)
            message = await sock.receive()
            assert message["id"] == op and message["type"] == "next", message
            assert message["payload"]["data"] is None
            assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [
                "UNAUTHENTICATED"
            ]
            assert await sock.receive() == {"id": op, "type": "complete"}


async def test_each_subscription_is_refused_to_the_other_kind_of_viewer(
    server: str, web: Api
) -> None:
    world = await make_world()
    staff = await web.staff_token(world.agency, "champion@a.test")
    portal = await web.portal_token(world.agency, "robin")
    for token, query in ((staff, MY_UPDATES), (portal, STAFF_EVENTS)):
        async with GqlSocket.opened(server, bearer(token)) as sock:
            await sock.acknowledged()
            op = await sock.send(query)
            message = await sock.receive()
            assert message["type"] == "next", message
            assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert await sock.receive() == {"id": op, "type": "complete"}


# The portal


async def test_the_client_and_their_representative_hear_a_denial_with_its_reason(
    server: str, web: Api
) -> None:
    world = await make_world()
    tokens = [
        await web.portal_token(world.agency, "robin"),
        await web.portal_token(world.agency, "guardian"),
    ]
    channel = client_channel(world.client.id)
    request = await a_request(world)
    async with (
        GqlSocket.opened(server, bearer(tokens[0])) as client_sock,
        GqlSocket.opened(server, bearer(tokens[1])) as rep_sock,
    ):
        await client_sock.acknowledged()
        await rep_sock.acknowledged()
        client_op = await subscribed(client_sock, MY_UPDATES, channel)
        rep_op = await subscribed(rep_sock, MY_UPDATES, channel)
        await AppointmentRequest.filter(id=request.id).update(
            status=RequestStatus.DENIED, reason="Dr. away that week", decided_at=now()
        )
        await request_changed(request, AppointmentChange.REQUEST_DENIED)
        heard = [
            await next_event(client_sock, client_op, "myAppointmentUpdates"),
            await next_event(rep_sock, rep_op, "myAppointmentUpdates"),
        ]
    for event in heard:
        assert event == {
            "kind": "REQUEST_DENIED",
            "clientId": str(world.client.id),
            "clientName": "Robin Client",
            "requestId": str(request.id),
            "requestStatus": "DENIED",
            "denialReason": "Dr. away that week",
            "appointmentId": None,
            "appointmentStatus": None,
        }


async def test_a_representative_of_another_client_hears_nothing_of_it(
    server: str, web: Api
) -> None:
    world = await make_world()
    other = await second_client(world)
    account = await PortalAccount.create(
        agency=world.agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="neighbour",
        email="neighbour@c.test",
        password_hash=PASSWORD_HASH,
    )
    await Representative.create(
        agency=world.agency,
        client=other,
        first_name="Nell",
        last_name="Neighbour",
        email="neighbour@c.test",
        account=account,
    )
    token = await web.portal_token(world.agency, "neighbour")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, MY_UPDATES, client_channel(other.id))
        robins = await a_request(world)
        await request_changed(robins, AppointmentChange.REQUEST_APPROVED)
        theirs = await a_request(world, client=other, hours=96)
        await request_changed(theirs, AppointmentChange.REQUEST_EXPIRED)
        event = await next_event(sock, op, "myAppointmentUpdates")
    assert (event["requestId"], event["clientId"]) == (str(theirs.id), str(other.id))


async def test_a_representative_of_two_clients_hears_both_each_tagged(
    server: str, web: Api
) -> None:
    world = await make_world()
    sibling = await second_client(world, rep_account=world.representative_account)
    token = await web.portal_token(world.agency, "guardian")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, MY_UPDATES, client_channel(sibling.id))
        await registered(client_channel(world.client.id), 1)
        first = await an_appointment(world)
        await appointment_changed(first, AppointmentChange.APPOINTMENT_BOOKED)
        second = await an_appointment(world, client=sibling)
        await appointment_changed(second, AppointmentChange.APPOINTMENT_BOOKED)
        heard = [
            await next_event(sock, op, "myAppointmentUpdates"),
            await next_event(sock, op, "myAppointmentUpdates"),
        ]
    assert {(e["appointmentId"], e["clientId"], e["clientName"]) for e in heard} == {
        (str(first.id), str(world.client.id), "Robin Client"),
        (str(second.id), str(sibling.id), "Sky Other"),
    }


async def test_a_representative_no_longer_representing_hears_no_more(server: str, web: Api) -> None:
    """Checked per event against the session as it is now (the row is removed directly, so
    the socket's own watcher never hears of it)."""
    world = await make_world()
    sibling = await second_client(world, rep_account=world.representative_account)
    token = await web.portal_token(world.agency, "guardian")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, MY_UPDATES, client_channel(sibling.id))
        await Representative.filter(id=world.representative.id).delete()
        robins = await an_appointment(world)
        await appointment_changed(robins, AppointmentChange.APPOINTMENT_CANCELLED)
        siblings = await an_appointment(world, client=sibling)
        await appointment_changed(siblings, AppointmentChange.APPOINTMENT_CANCELLED)
        event = await next_event(sock, op, "myAppointmentUpdates")
    assert event["clientId"] == str(sibling.id)


# Across API processes (Redis pub/sub)


async def test_a_subscription_on_one_process_hears_a_change_made_on_another(
    server: str, web: Api, settings: Settings
) -> None:
    if not settings.redis_url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: events stay in one process")
    world = await make_world()
    token = await web.staff_token(world.agency, "clinician@a.test")
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ENVIRONMENT": "test",
    }
    request = await a_request(world)
    async with (
        api_process(env) as other,
        httpx.AsyncClient(base_url=f"http://{other}") as other_http,
        GqlSocket.opened(server, bearer(token)) as sock,
    ):
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        del other_http  # until approveAppointmentRequest exists: see the merge
        await request_changed(request, AppointmentChange.REQUEST_APPROVED)
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert event["requestId"] == str(request.id)


# The rules themselves (pure)


def _principal(**extra: Any) -> Principal:
    return Principal(agency_id=uuid4(), session_id=uuid4(), **extra)


def test_staff_see_their_own_the_designated_member_and_managers_see_all() -> None:
    mine, theirs, designated = uuid4(), uuid4(), uuid4()
    clinician = _principal(staff_id=mine)
    assert staff_may_see(clinician, mine, None)
    assert not staff_may_see(clinician, theirs, None)
    assert not staff_may_see(clinician, theirs, designated)
    assert staff_may_see(_principal(staff_id=designated), theirs, designated)
    manager = _principal(
        staff_id=uuid4(), permissions=frozenset({Permission.MANAGE_ALL_APPOINTMENTS})
    )
    assert staff_may_see(manager, theirs, None)
    others = frozenset(set(Permission) - {Permission.MANAGE_ALL_APPOINTMENTS})
    assert not staff_may_see(_principal(staff_id=uuid4(), permissions=others), theirs, None)
    portal = _principal(account_id=mine, permissions=frozenset(Permission))
    assert not staff_may_see(portal, mine, mine)


def test_portal_users_see_only_their_own_clients() -> None:
    a, b = uuid4(), uuid4()
    representative = _principal(account_id=uuid4(), client_ids=frozenset({a}))
    assert portal_may_see(representative, a)
    assert not portal_may_see(representative, b)
    assert not portal_may_see(_principal(staff_id=uuid4(), client_ids=frozenset({a})), a)


async def test_an_unexpected_failure_mid_subscription_is_masked() -> None:
    async def failing() -> AsyncIterator[AppointmentUpdate]:
        raise RuntimeError("password=hunter2 in a driver message")
        yield  # an async generator

    with pytest.raises(GraphQLError) as caught:
        await anext(as_events(failing()))
    assert caught.value.message == "Unexpected error."
    assert caught.value.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert caught.value.__cause__ is None
