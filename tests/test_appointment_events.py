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
from datetime import datetime, timedelta
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
from models.enums import AppointmentMode, Permission, PortalAccountKind
from models.scheduling import AppointmentRequest
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers import events
from resolvers.appointment_events import AppointmentUpdate, portal_may_see, staff_may_see
from resolvers.clock import now
from resolvers.principal import Principal
from resolvers.scheduling import agency_channel, client_channel, expire_requests
from schema.appointment_events import as_events
from tests.factories import PASSWORD_HASH, Api, World, make_staff, make_world
from tests.live import GqlSocket, api_process, serving

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"

EVENT = """
    kind clientId clientName
    request { id status reason staffId appointmentId start end }
    appointment { id status staffId start end }
"""
STAFF_EVENTS = f"subscription {{ appointmentRequestEvents {{ {EVENT} }} }}"
MY_UPDATES = f"subscription {{ myAppointmentUpdates {{ {EVENT} }} }}"
LOGOUT = "mutation { logout { ok } }"
ERRORS = "errors { code field message }"
UPDATE_STAFF = f"""
mutation ($input: UpdateStaffInput!) {{ updateStaff(input: $input) {{ {ERRORS} }} }}"""
CREATE = f"""
mutation ($input: CreateAppointmentInput!) {{
  createAppointment(input: $input) {{ appointment {{ id }} {ERRORS} }} }}"""
CANCEL = f"""
mutation ($input: CancelAppointmentInput!) {{
  cancelAppointment(input: $input) {{ appointment {{ status }} {ERRORS} }} }}"""
APPROVE = f"""
mutation ($input: RequestIdInput!) {{
  approveAppointmentRequest(input: $input) {{ request {{ status }} {ERRORS} }} }}"""
DENY = f"""
mutation ($input: DenyAppointmentRequestInput!) {{
  denyAppointmentRequest(input: $input) {{ request {{ status }} {ERRORS} }} }}"""
SET_AVAILABILITY = f"""
mutation ($input: SetStaffAvailabilityInput!) {{
  setStaffAvailability(input: $input) {{ {ERRORS} }} }}"""
SLOTS = """
query ($input: BookableSlotsInput!) { bookableSlots(input: $input) { start } }"""
REQUEST_APPOINTMENT = f"""
mutation ($input: BookInput!) {{
  requestAppointment(input: $input) {{ request {{ id }} {ERRORS} }} }}"""


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


def local_bus() -> LocalBus:
    bus = events.current()
    assert isinstance(bus, LocalBus)
    return bus


async def registered(channel: str, count: int) -> None:
    """Waits until this process's bus has `count` subscribers on the channel."""
    bus = local_bus()
    for _ in range(500):
        if bus.subscribers(channel) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{channel}: {bus.subscribers(channel)} subscribers, wanted {count}")


async def subscribed(sock: GqlSocket, query: str, channel: str) -> str:
    """Sends the subscription and waits until it is live on the bus."""
    count = local_bus().subscribers(channel)
    op_id = await sock.send(query)
    await registered(channel, count + 1)
    return op_id


async def next_event(sock: GqlSocket, op_id: str, field: str) -> dict[str, Any]:
    message = await sock.receive()
    assert message["id"] == op_id and message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"][field]
    return event


def at(days: int, hour: int = 0) -> datetime:
    """A whole hour some days ahead (UTC)."""
    return now().replace(minute=0, second=0, microsecond=0) + timedelta(days=days, hours=hour)


async def a_request(
    world: World,
    staff: Staff | None = None,
    client: Client | None = None,
    starts: datetime | None = None,
) -> AppointmentRequest:
    """A pending request written directly (requestAppointment needs open slots; one test
    goes through it), for the staff side to decide through the API."""
    begin = starts or at(2)
    return await AppointmentRequest.create(
        agency=world.agency,
        client=client or world.client,
        staff=staff or world.clinician,
        location=world.location,
        starts_at=begin,
        ends_at=begin + timedelta(minutes=50),
    )


async def decide(
    web: Api, token: str, request: AppointmentRequest, reason: str | None = None
) -> None:
    """Approves (no reason) or denies (with one) through the API."""
    if reason is None:
        result = await web.data(APPROVE, {"input": {"id": str(request.id)}}, token)
        assert result["approveAppointmentRequest"]["errors"] == [], result
    else:
        variables = {"input": {"id": str(request.id), "reason": reason}}
        result = await web.data(DENY, variables, token)
        assert result["denyAppointmentRequest"]["errors"] == [], result


async def book(
    web: Api,
    token: str,
    world: World,
    *,
    staff: Staff | None = None,
    client: Client | None = None,
    days: int = 3,
) -> str:
    """createAppointment through the API; the new appointment's id."""
    variables = {
        "input": {
            "clientId": str((client or world.client).id),
            "staffId": str((staff or world.clinician).id),
            "locationId": str(world.location.id),
            "start": at(days).isoformat(),
        }
    }
    result = (await web.data(CREATE, variables, token))["createAppointment"]
    assert result["errors"] == [], result
    appointment_id: str = result["appointment"]["id"]
    return appointment_id


async def cancel(web: Api, token: str, appointment_id: str) -> None:
    result = await web.data(CANCEL, {"input": {"appointmentId": appointment_id}}, token)
    assert result["cancelAppointment"]["errors"] == [], result


async def clinician_at_main(world: World, email: str, permissions: list[Permission]) -> Staff:
    staff = await make_staff(world.agency, email, permissions)
    await StaffLocation.create(staff=staff, location=world.location, is_default=True)
    return staff


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


async def test_the_clinician_hears_a_portal_request_with_the_client_named(
    server: str, web: Api
) -> None:
    world = await make_world()
    await PortalSettings.filter(agency_id=world.agency.id).update(
        appointment_mode=AppointmentMode.REQUEST
    )
    token = await web.staff_token(world.agency, "clinician@a.test")
    every_day = [
        {"locationId": str(world.location.id), "weekday": day, "start": "00:00", "end": "24:00"}
        for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
    ]
    variables: dict[str, Any] = {
        "input": {"staffId": str(world.clinician.id), "windows": every_day, "shownInPortal": True}
    }
    assert (await web.data(SET_AVAILABILITY, variables, token))["setStaffAvailability"][
        "errors"
    ] == []
    robin = await web.portal_token(world.agency, "robin")
    today = now().date()
    variables = {
        "input": {
            "staffId": str(world.clinician.id),
            "from": (today + timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=2)).isoformat(),
        }
    }
    start = (await web.data(SLOTS, variables, robin))["bookableSlots"][0]["start"]
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        variables = {"input": {"staffId": str(world.clinician.id), "start": start}}
        made = (await web.data(REQUEST_APPOINTMENT, variables, robin))["requestAppointment"]
        assert made["errors"] == [], made
        event = await next_event(sock, op, "appointmentRequestEvents")
    request = await AppointmentRequest.get(id=made["request"]["id"])
    assert event == {
        "kind": "REQUEST_CREATED",
        "clientId": str(world.client.id),
        "clientName": "Robin Client",
        "request": {
            "id": str(request.id),
            "status": "PENDING",
            "reason": "",
            "staffId": str(world.clinician.id),
            "appointmentId": None,
            "start": request.starts_at.isoformat(),
            "end": request.ends_at.isoformat(),
        },
        "appointment": None,
    }


async def test_another_clinician_and_another_agency_hear_nothing_of_it(
    server: str, web: Api
) -> None:
    world, elsewhere = await make_world(), await make_world()
    colleague = await clinician_at_main(world, "colleague@a.test", [Permission.VIEW_ALL_CLIENTS])
    champion = await web.staff_token(world.agency, "champion@a.test")
    colleague_token = await web.staff_token(world.agency, "colleague@a.test")
    stranger_token = await web.staff_token(elsewhere.agency, "champion@a.test")
    request = await a_request(world)
    async with (
        GqlSocket.opened(server, bearer(colleague_token)) as colleague_sock,
        GqlSocket.opened(server, bearer(stranger_token)) as stranger_sock,
    ):
        await colleague_sock.acknowledged()
        await stranger_sock.acknowledged()
        colleague_op = await subscribed(
            colleague_sock, STAFF_EVENTS, agency_channel(world.agency.id)
        )
        stranger_op = await subscribed(
            stranger_sock, STAFF_EVENTS, agency_channel(elsewhere.agency.id)
        )
        # The clinician's request decided, in the first agency: neither may see it.
        await decide(web, champion, request)
        # Then one each of them may see.
        own = await book(web, champion, world, staff=colleague)
        theirs = await book(web, stranger_token, elsewhere)
        first = await next_event(colleague_sock, colleague_op, "appointmentRequestEvents")
        assert (first["kind"], first["appointment"]["id"]) == ("APPOINTMENT_BOOKED", own)
        first = await next_event(stranger_sock, stranger_op, "appointmentRequestEvents")
        assert (first["kind"], first["appointment"]["id"]) == ("APPOINTMENT_BOOKED", theirs)


async def test_the_designated_staff_member_hears_requests_but_names_only_clients_they_see(
    server: str, web: Api
) -> None:
    world = await make_world()
    desk = await make_staff(world.agency, "scheduler@a.test", [])
    await PortalSettings.filter(agency_id=world.agency.id).update(notified_staff_id=desk.id)
    champion = await web.staff_token(world.agency, "champion@a.test")
    token = await web.staff_token(world.agency, "scheduler@a.test")
    request = await a_request(world)
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        # An appointment is the clinician's business, not the designated member's (as for
        # cancelAppointment): not heard. The denial of a request is.
        await book(web, champion, world)
        await decide(web, champion, request, reason="Away that week")
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert event["kind"] == "REQUEST_DENIED"
    assert (event["request"]["id"], event["request"]["status"]) == (str(request.id), "DENIED")
    assert event["request"]["reason"] == "Away that week"
    assert event["clientId"] == str(world.client.id)
    # Not on the client's care team and without VIEW_ALL_CLIENTS: no name.
    assert event["clientName"] is None


async def test_manage_all_appointments_hears_approvals_bookings_and_cancellations(
    server: str, web: Api
) -> None:
    world = await make_world()
    await make_staff(world.agency, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    token = await web.staff_token(world.agency, "lead@a.test")
    request = await a_request(world, starts=at(5))
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        await decide(web, clinician, request)
        approved = await next_event(sock, op, "appointmentRequestEvents")
        appointment_id = await book(web, clinician, world)
        booked = await next_event(sock, op, "appointmentRequestEvents")
        await cancel(web, clinician, appointment_id)
        cancelled = await next_event(sock, op, "appointmentRequestEvents")
    assert approved["kind"] == "REQUEST_APPROVED"
    assert approved["request"]["status"] == "APPROVED"
    assert approved["appointment"]["id"] == approved["request"]["appointmentId"]
    assert approved["appointment"]["status"] == "SCHEDULED"
    assert (booked["kind"], booked["appointment"]["id"]) == ("APPOINTMENT_BOOKED", appointment_id)
    assert booked["request"] is None
    assert (cancelled["kind"], cancelled["appointment"]["status"]) == (
        "APPOINTMENT_CANCELLED",
        "CANCELLED",
    )
    # The lead holds neither VIEW_ALL_CLIENTS nor a care-team place: no name.
    assert approved["clientName"] is booked["clientName"] is None


async def test_a_permission_taken_away_mid_subscription_stops_the_events(
    server: str, web: Api
) -> None:
    """Re-checked per event against the session as it is now, even before the socket's own
    watcher hears of the change (here it never does: the row is changed directly)."""
    world = await make_world()
    lead = await clinician_at_main(world, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    champion = await web.staff_token(world.agency, "champion@a.test")
    token = await web.staff_token(world.agency, "lead@a.test")
    before, after = await a_request(world), await a_request(world, starts=at(4))
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        await decide(web, champion, before)
        heard = await next_event(sock, op, "appointmentRequestEvents")
        assert heard["request"]["id"] == str(before.id)
        await Staff.filter(id=lead.id).update(permissions=[])
        await decide(web, champion, after, reason="No")
        own = await book(web, champion, world, staff=lead)
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert (event["kind"], event["appointment"]["id"]) == ("APPOINTMENT_BOOKED", own)


async def test_a_permission_taken_away_through_the_api_closes_the_socket(
    server: str, web: Api
) -> None:
    world = await make_world()
    lead = await make_staff(world.agency, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    token = await web.staff_token(world.agency, "lead@a.test")
    champion = await web.staff_token(world.agency, "champion@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        await subscribed(sock, STAFF_EVENTS, agency_channel(world.agency.id))
        variables = {"input": {"id": str(lead.id), "permissions": []}}
        assert (await web.data(UPDATE_STAFF, variables, champion))["updateStaff"]["errors"] == []
        await book(web, champion, world)
        assert await sock.closed() == (4403, "Forbidden")


async def test_logout_ends_the_subscription_and_unsubscribes(server: str, web: Api) -> None:
    world = await make_world()
    token = await web.staff_token(world.agency, "clinician@a.test")
    channel = agency_channel(world.agency.id)
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        await subscribed(sock, STAFF_EVENTS, channel)
        await web.data(LOGOUT, token=token)
        assert await sock.closed() == (4401, "Unauthorized")
    for _ in range(100):
        if local_bus().subscribers(channel) == 0:
            break
        await asyncio.sleep(0.01)
    assert local_bus().subscribers(channel) == 0


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
    clinician = await web.staff_token(world.agency, "clinician@a.test")
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
        await decide(web, clinician, request, reason="Dr. away that week")
        heard = [
            await next_event(client_sock, client_op, "myAppointmentUpdates"),
            await next_event(rep_sock, rep_op, "myAppointmentUpdates"),
        ]
    for event in heard:
        assert event == {
            "kind": "REQUEST_DENIED",
            "clientId": str(world.client.id),
            "clientName": "Robin Client",
            "request": {
                "id": str(request.id),
                "status": "DENIED",
                "reason": "Dr. away that week",
                "staffId": str(world.clinician.id),
                "appointmentId": None,
                "start": request.starts_at.isoformat(),
                "end": request.ends_at.isoformat(),
            },
            "appointment": None,
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
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    token = await web.portal_token(world.agency, "neighbour")
    robins = await a_request(world)
    # Pending with its time already come: the expiry job's next run expires it.
    theirs = await a_request(world, client=other, starts=now() - timedelta(minutes=1))
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, MY_UPDATES, client_channel(other.id))
        await decide(web, clinician, robins)
        await expire_requests("https://portal.test")
        event = await next_event(sock, op, "myAppointmentUpdates")
    assert event["kind"] == "REQUEST_EXPIRED"
    assert (event["request"]["id"], event["clientId"]) == (str(theirs.id), str(other.id))
    assert event["request"]["status"] == "EXPIRED"


async def test_a_representative_of_two_clients_hears_both_each_tagged(
    server: str, web: Api
) -> None:
    world = await make_world()
    sibling = await second_client(world, rep_account=world.representative_account)
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    token = await web.portal_token(world.agency, "guardian")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, MY_UPDATES, client_channel(sibling.id))
        await registered(client_channel(world.client.id), 1)
        first = await book(web, clinician, world)
        second = await book(web, clinician, world, client=sibling, days=4)
        heard = [
            await next_event(sock, op, "myAppointmentUpdates"),
            await next_event(sock, op, "myAppointmentUpdates"),
        ]
    assert {(e["appointment"]["id"], e["clientId"], e["clientName"]) for e in heard} == {
        (first, str(world.client.id), "Robin Client"),
        (second, str(sibling.id), "Sky Other"),
    }


async def test_a_representative_no_longer_representing_hears_no_more(server: str, web: Api) -> None:
    """Checked per event against the session as it is now (the row is removed directly, so
    the socket's own watcher never hears of it)."""
    world = await make_world()
    sibling = await second_client(world, rep_account=world.representative_account)
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    robins = await book(web, clinician, world)
    siblings = await book(web, clinician, world, client=sibling, days=4)
    token = await web.portal_token(world.agency, "guardian")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op = await subscribed(sock, MY_UPDATES, client_channel(sibling.id))
        await Representative.filter(id=world.representative.id).delete()
        await cancel(web, clinician, robins)
        await cancel(web, clinician, siblings)
        event = await next_event(sock, op, "myAppointmentUpdates")
    assert (event["kind"], event["clientId"]) == ("APPOINTMENT_CANCELLED", str(sibling.id))
    assert event["appointment"]["id"] == siblings


# Across API processes (Redis pub/sub)


async def test_a_subscription_on_one_process_hears_an_approval_made_on_another(
    server: str, web: Api, settings: Settings
) -> None:
    if not settings.redis_url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: events stay in one process")
    world = await make_world()
    token = await web.staff_token(world.agency, "clinician@a.test")
    champion = await web.staff_token(world.agency, "champion@a.test")
    robin = await web.portal_token(world.agency, "robin")
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ENVIRONMENT": "test",
    }
    request = await a_request(world)
    async with (
        api_process(env) as other,
        httpx.AsyncClient(base_url=f"http://{other}") as other_http,
        GqlSocket.opened(server, bearer(token)) as staff_sock,
        GqlSocket.opened(server, bearer(robin)) as portal_sock,
    ):
        await staff_sock.acknowledged()
        await portal_sock.acknowledged()
        staff_op = await subscribed(staff_sock, STAFF_EVENTS, agency_channel(world.agency.id))
        portal_op = await subscribed(portal_sock, MY_UPDATES, client_channel(world.client.id))
        await decide(Api(other_http), champion, request)  # on the other process
        heard = [
            await next_event(staff_sock, staff_op, "appointmentRequestEvents"),
            await next_event(portal_sock, portal_op, "myAppointmentUpdates"),
        ]
    for event in heard:
        assert event["kind"] == "REQUEST_APPROVED"
        assert (event["request"]["id"], event["request"]["status"]) == (
            str(request.id),
            "APPROVED",
        )


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
