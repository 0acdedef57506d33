"""messageEvents over a real WebSocket: a real uvicorn server, a real graphql-transport-ws
client, the test session's database, and Redis pub/sub when REDIS_URL is set.

"Nothing arrives" is proved as in tests/test_appointment_events.py: the invisible event is
fired first, then a visible one, which must be the first message the socket gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from models.clients import CareTeamMember, Representative
from models.enums import MessagingMode, Permission
from models.messaging import Message
from resolvers import events
from resolvers.messaging import agency_channel, client_channel
from tests.factories import Api, make_staff
from tests.live import GqlSocket, serving
from tests.test_appointment_events import bearer, next_event, subscribed
from tests.test_messaging import (
    _representative_of_another_client,
    messaging_world,
    send,
    set_mode,
    staff_thread,
    start,
)

EVENTS = """
subscription ($clientId: ID) {
  messageEvents(clientId: $clientId) {
    kind
    thread { id subject clientId unreadCount disclaimer staff { id name } }
    message { id threadId body author { kind name isViewer } }
  }
}"""


@pytest.fixture(scope="module")
async def server(app: Starlette) -> AsyncIterator[str]:
    async with serving(app) as address:
        yield address


@pytest.fixture
async def web(server: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        yield Api(client)


async def subscribe(sock: GqlSocket, channel: str) -> str:
    await sock.acknowledged()
    return await subscribed(sock, EVENTS, channel)


async def test_the_client_side_hears_a_staff_message_and_staff_hear_a_new_thread(
    server: str, web: Api
) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(web, world)
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    robin = await web.portal_token(world.agency, "robin")
    guardian = await web.portal_token(world.agency, "guardian")
    client_ch = client_channel(world.client.id)
    async with (
        GqlSocket.opened(server, bearer(robin)) as robin_sock,
        GqlSocket.opened(server, bearer(guardian)) as guardian_sock,
        GqlSocket.opened(server, bearer(clinician)) as staff_sock,
    ):
        robin_op = await subscribe(robin_sock, client_ch)
        guardian_op = await subscribe(guardian_sock, client_ch)
        staff_op = await subscribe(staff_sock, agency_channel(world.agency.id))
        sent = await send(web, clinician, thread_id, "See you Monday")
        for sock, op in ((robin_sock, robin_op), (guardian_sock, guardian_op)):
            event = await next_event(sock, op, "messageEvents")
            assert event["kind"] == "MESSAGE_SENT"
            assert event["message"] == {
                "id": sent["message"]["id"],
                "threadId": thread_id,
                "body": "See you Monday",
                "author": {"kind": "STAFF", "name": "Test clinician", "isViewer": False},
            }
            assert event["thread"]["unreadCount"] == 2
            assert event["thread"]["disclaimer"] == sent["thread"]["disclaimer"]
        own = await next_event(staff_sock, staff_op, "messageEvents")
        assert own["message"]["author"]["isViewer"] is True
        # a thread the client starts reaches the clinician
        made = await start(
            web, robin, staffId=str(world.clinician.id), subject="Question", body="Hello?"
        )
        event = await next_event(staff_sock, staff_op, "messageEvents")
        assert event["kind"] == "THREAD_STARTED"
        assert (event["thread"]["id"], event["thread"]["subject"]) == (
            made["thread"]["id"],
            "Question",
        )
        assert event["message"]["author"] == {
            "kind": "CLIENT",
            "name": "Robin Client",
            "isViewer": False,
        }


async def test_viewers_outside_the_thread_hear_nothing(server: str, web: Api) -> None:
    # given a thread of Robin's, and three who may not read it
    world, elsewhere = await messaging_world(), await messaging_world()
    thread_id = await staff_thread(web, world)
    other_thread = await staff_thread(web, elsewhere)
    outsider = await make_staff(world.agency, "outsider@a.test", [])
    await make_staff(world.agency, "lead@a.test", [Permission.VIEW_ALL_CLIENTS])
    account = await _representative_of_another_client(world)
    rep = await Representative.get(account_id=account.id)
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    lead = await web.staff_token(world.agency, "lead@a.test")
    stranger = await web.staff_token(elsewhere.agency, "clinician@a.test")
    outsider_token = await web.staff_token(world.agency, "outsider@a.test")
    rep_token = await web.portal_token(world.agency, account.username)
    async with (
        GqlSocket.opened(server, bearer(outsider_token)) as outsider_sock,
        GqlSocket.opened(server, bearer(rep_token)) as rep_sock,
        GqlSocket.opened(server, bearer(stranger)) as stranger_sock,
    ):
        outsider_op = await subscribe(outsider_sock, agency_channel(world.agency.id))
        rep_op = await subscribe(rep_sock, client_channel(rep.client_id))
        stranger_op = await subscribe(stranger_sock, agency_channel(elsewhere.agency.id))
        # when a message is sent in Robin's thread, then in threads each of them may read
        await send(web, clinician, thread_id, "For Robin's side only")
        await CareTeamMember.create(client_id=rep.client_id, staff=outsider)
        made = await start(
            web, lead, clientId=str(rep.client_id), subject="Other", body="For the other client"
        )
        assert made["errors"] == [], made
        await send(web, stranger, other_thread, "Elsewhere")
        # then the first each of them hears is their own
        for sock, op, body in (
            (outsider_sock, outsider_op, "For the other client"),
            (rep_sock, rep_op, "For the other client"),
            (stranger_sock, stranger_op, "Elsewhere"),
        ):
            event = await next_event(sock, op, "messageEvents")
            assert event["message"]["body"] == body


async def test_subscribing_is_refused_where_reading_is(server: str, web: Api) -> None:
    world = await messaging_world(MessagingMode.NONE)
    await make_staff(world.agency, "outsider@a.test", [])
    robin = await web.portal_token(world.agency, "robin")
    outsider = await web.staff_token(world.agency, "outsider@a.test")
    elsewhere = await messaging_world()
    foreign = await web.portal_token(elsewhere.agency, "robin")
    cases: list[tuple[str, dict[str, Any] | None]] = [
        (robin, None),  # mode NONE
        (outsider, {"clientId": str(world.client.id)}),  # not on the care team
        (foreign, {"clientId": str(world.client.id)}),  # another agency's client
    ]
    for token, variables in cases:
        async with GqlSocket.opened(server, bearer(token)) as sock:
            await sock.acknowledged()
            await sock.send(EVENTS, variables)
            message = await sock.receive()
            assert message["type"] == "next", message
            assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_portal_subscriber_stops_hearing_while_messaging_is_off(
    server: str, web: Api
) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(web, world)
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    robin = await web.portal_token(world.agency, "robin")
    first = await Message.filter(thread_id=thread_id).first()
    assert first is not None
    async with GqlSocket.opened(server, bearer(robin)) as sock:
        op = await subscribe(sock, client_channel(world.client.id))
        await set_mode(web, world, MessagingMode.NONE)
        # an event delivered while the mode is NONE (sent just before the change) is dropped
        await events.publish(
            client_channel(world.client.id),
            kind="MESSAGE_SENT",
            agency_id=str(world.agency.id),
            client_id=str(world.client.id),
            thread_id=thread_id,
            message_id=str(first.id),
        )
        await set_mode(web, world, MessagingMode.FROM_STAFF_ONLY)
        await send(web, clinician, thread_id, "Messaging is back")
        event = await next_event(sock, op, "messageEvents")
        assert event["message"]["body"] == "Messaging is back"
