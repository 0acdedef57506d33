"""Secure messaging through the API: each messaging mode from both sides, the disclaimer, unread
counts, limits, who may see which thread, and the e-mail notice (through the real SMTP server)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from models.accounts import PortalAccount
from models.clients import CareTeamMember, Client, Representative
from models.enums import MessagingMode, Permission, PortalAccountKind
from models.messaging import Message, MessageThread
from models.settings import PortalSettings
from tests.factories import PASSWORD_HASH, Api, World, make_staff, make_world
from tests.mailbox import Mailbox, body_text

RunJobs = Callable[[], Awaitable[None]]

ERRORS = "errors { code field message }"
MESSAGE = "id threadId body createdAt author { kind name staffId isViewer }"
THREAD = f"""
  id subject clientId staff {{ id name }} createdAt lastMessageAt messageCount unreadCount
  disclaimer lastMessage {{ {MESSAGE} }}
"""
THREADS = f"""
query ($clientId: ID, $first: Int, $after: String) {{
  messageThreads(clientId: $clientId, first: $first, after: $after) {{
    items {{ {THREAD} }} nextCursor mode disclaimer unreadCount
  }}
}}"""
ONE_THREAD = f"""
query ($id: ID!, $first: Int, $after: String) {{
  messageThread(id: $id) {{
    {THREAD} messages(first: $first, after: $after) {{ items {{ {MESSAGE} }} nextCursor }}
  }}
}}"""
START = f"""
mutation ($input: StartThreadInput!) {{
  startThread(input: $input) {{ thread {{ {THREAD} }} message {{ {MESSAGE} }} {ERRORS} }}
}}"""
SEND = f"""
mutation ($input: SendMessageInput!) {{
  sendMessage(input: $input) {{ thread {{ {THREAD} }} message {{ {MESSAGE} }} {ERRORS} }}
}}"""
MARK_READ = f"""
mutation ($input: MarkThreadReadInput!) {{
  markThreadRead(input: $input) {{ thread {{ id unreadCount }} {ERRORS} }}
}}"""
UPDATE_MESSAGING = f"""
mutation ($input: UpdateMessagingSettingsInput!) {{
  updateMessagingSettings(input: $input) {{ {ERRORS} }}
}}"""

DISCLAIMER = "Not for emergencies: call 988. We answer within two business days."


async def messaging_world(
    mode: MessagingMode = MessagingMode.BETWEEN_STAFF_AND_CLIENT, *, email: bool = True
) -> World:
    world = await make_world()
    await PortalSettings.filter(agency_id=world.agency.id).update(
        messaging_mode=mode, email_client_on_new_message=email, messaging_disclaimer=DISCLAIMER
    )
    return world


async def set_mode(api: Api, world: World, mode: MessagingMode) -> None:
    """Through the API, as a champion would."""
    token = await api.staff_token(world.agency, "champion@a.test")
    result = await api.data(UPDATE_MESSAGING, {"input": {"messagingMode": mode.name}}, token)
    assert result["updateMessagingSettings"]["errors"] == []


async def start(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(START, {"input": fields}, token))["startThread"]
    return payload


async def send(api: Api, token: str, thread_id: str, body: str) -> dict[str, Any]:
    variables = {"input": {"threadId": thread_id, "body": body}}
    payload: dict[str, Any] = (await api.data(SEND, variables, token))["sendMessage"]
    return payload


async def threads(api: Api, token: str, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await api.data(THREADS, variables, token))["messageThreads"]
    return page


async def staff_thread(api: Api, world: World, subject: str = "Your next visit") -> str:
    """A thread the clinician starts with the client; its id."""
    token = await api.staff_token(world.agency, "clinician@a.test")
    made = await start(
        api, token, clientId=str(world.client.id), subject=subject, body="Hello from the clinic"
    )
    assert made["errors"] == [], made
    thread_id: str = made["thread"]["id"]
    return thread_id


# Both sides write (BETWEEN_STAFF_AND_CLIENT)


async def test_a_client_starts_a_thread_and_the_clinician_reads_and_answers(api: Api) -> None:
    # given
    world = await messaging_world()
    robin = await api.portal_token(world.agency, "robin")
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    # when the client writes to a member of their care team
    made = await start(
        api, robin, staffId=str(world.clinician.id), subject="  Refill  ", body="  Can I? \n"
    )
    # then
    assert made["errors"] == []
    thread = made["thread"]
    assert (thread["subject"], thread["clientId"]) == ("Refill", str(world.client.id))
    assert thread["staff"] == {"id": str(world.clinician.id), "name": "Test clinician"}
    assert thread["unreadCount"] == 0 and thread["messageCount"] == 1
    assert made["message"]["body"] == "Can I?"
    assert made["message"]["author"] == {
        "kind": "CLIENT",
        "name": "Robin Client",
        "staffId": None,
        "isViewer": True,
    }
    # the clinician has it unread, answers, and the answer is theirs
    inbox = await threads(api, clinician)
    assert [t["id"] for t in inbox["items"]] == [thread["id"]]
    assert inbox["unreadCount"] == 1 and inbox["items"][0]["unreadCount"] == 1
    answer = await send(api, clinician, thread["id"], "Yes, see you Monday.")
    assert answer["errors"] == []
    assert answer["message"]["author"] == {
        "kind": "STAFF",
        "name": "Test clinician",
        "staffId": str(world.clinician.id),
        "isViewer": True,
    }
    # sending marks the thread read for the sender: nothing unread for them
    assert answer["thread"]["unreadCount"] == 0
    assert (await threads(api, clinician))["unreadCount"] == 0
    # the representative reads both messages, oldest first, and both are unread for them
    guardian = await api.portal_token(world.agency, "guardian")
    seen = (await api.data(ONE_THREAD, {"id": thread["id"]}, guardian))["messageThread"]
    assert [m["body"] for m in seen["messages"]["items"]] == ["Can I?", "Yes, see you Monday."]
    assert [m["author"]["isViewer"] for m in seen["messages"]["items"]] == [False, False]
    assert seen["unreadCount"] == 2
    # and the representative writes too, named as themselves
    reply = await send(api, guardian, thread["id"], "Thank you")
    assert reply["message"]["author"]["kind"] == "REPRESENTATIVE"
    assert reply["message"]["author"]["name"] == "Gale Guardian"
    # the client has one unread (the clinician's answer), then the guardian's: 2
    assert (await threads(api, robin))["unreadCount"] == 2


async def test_mark_thread_read_is_per_reader(api: Api) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    robin = await api.portal_token(world.agency, "robin")
    guardian = await api.portal_token(world.agency, "guardian")
    assert (await threads(api, robin))["items"][0]["unreadCount"] == 1
    marked = await api.data(MARK_READ, {"input": {"threadId": thread_id}}, robin)
    assert marked["markThreadRead"] == {"thread": {"id": thread_id, "unreadCount": 0}, "errors": []}
    assert (await threads(api, robin))["unreadCount"] == 0
    assert (await threads(api, guardian))["unreadCount"] == 1
    # a new message is unread again, for the client only from there on
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    await send(api, clinician, thread_id, "One more thing")
    assert (await threads(api, robin))["unreadCount"] == 1
    assert (await threads(api, guardian))["unreadCount"] == 2


async def test_threads_list_the_latest_message_first_and_messages_page_oldest_first(
    api: Api,
) -> None:
    world = await messaging_world()
    first = await staff_thread(api, world, "First")
    second = await staff_thread(api, world, "Second")
    robin = await api.portal_token(world.agency, "robin")
    for n in range(4):
        await send(api, robin, first, f"message {n}")
    page = await threads(api, robin, first=1)
    assert [t["subject"] for t in page["items"]] == ["First"]
    assert page["items"][0]["lastMessage"]["body"] == "message 3"
    rest = await threads(api, robin, first=1, after=page["nextCursor"])
    assert [t["id"] for t in rest["items"]] == [second] and rest["nextCursor"] is None
    variables: dict[str, Any] = {"id": first, "first": 3}
    one = (await api.data(ONE_THREAD, variables, robin))["messageThread"]["messages"]
    variables["after"] = one["nextCursor"]
    two = (await api.data(ONE_THREAD, variables, robin))["messageThread"]["messages"]
    bodies = [m["body"] for m in one["items"] + two["items"]]
    assert bodies == ["Hello from the clinic", *(f"message {n}" for n in range(4))]
    assert two["nextCursor"] is None


async def test_the_disclaimer_is_part_of_every_portal_messaging_view(api: Api) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    robin = await api.portal_token(world.agency, "robin")
    page = await threads(api, robin)
    assert (page["disclaimer"], page["mode"]) == (DISCLAIMER, "BETWEEN_STAFF_AND_CLIENT")
    assert page["items"][0]["disclaimer"] == DISCLAIMER
    one = (await api.data(ONE_THREAD, {"id": thread_id}, robin))["messageThread"]
    assert one["disclaimer"] == DISCLAIMER
    reply = await send(api, robin, thread_id, "ok")
    assert reply["thread"]["disclaimer"] == DISCLAIMER
    # an empty list still carries it
    other = await messaging_world()
    empty = await threads(api, await api.portal_token(other.agency, "robin"))
    assert (empty["items"], empty["disclaimer"]) == ([], DISCLAIMER)


# FROM_STAFF_ONLY


async def test_from_staff_only_clients_read_but_cannot_write(api: Api) -> None:
    world = await messaging_world(MessagingMode.FROM_STAFF_ONLY)
    thread_id = await staff_thread(api, world)
    for username in ("robin", "guardian"):
        token = await api.portal_token(world.agency, username)
        page = await threads(api, token)
        assert page["mode"] == "FROM_STAFF_ONLY"
        assert page["items"][0]["lastMessage"]["body"] == "Hello from the clinic"
        refused = await send(api, token, thread_id, "Can I answer?")
        assert refused == {
            "thread": None,
            "message": None,
            "errors": [
                {
                    "code": "MESSAGING_READ_ONLY",
                    "field": None,
                    "message": "Messages can be read here but not sent.",
                }
            ],
        }
        started = await start(api, token, staffId=str(world.clinician.id), subject="s", body="b")
        assert [e["code"] for e in started["errors"]] == ["MESSAGING_READ_ONLY"]
        marked = await api.data(MARK_READ, {"input": {"threadId": thread_id}}, token)
        assert marked["markThreadRead"]["errors"] == []
    assert await Message.filter(thread_id=thread_id).count() == 1
    assert await MessageThread.filter(agency_id=world.agency.id).count() == 1


# NONE


async def test_mode_none_refuses_portal_users_everything_and_staff_only_keep_the_history(
    api: Api,
) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    robin = await api.portal_token(world.agency, "robin")
    assert (await threads(api, robin))["items"]
    # when messaging is turned off, with the same sessions
    await set_mode(api, world, MessagingMode.NONE)
    # then portal users are refused everything on their next request
    staff_id = str(world.clinician.id)
    for query, variables in (
        (THREADS, {}),
        (ONE_THREAD, {"id": thread_id}),
        (SEND, {"input": {"threadId": thread_id, "body": "hi"}}),
        (START, {"input": {"staffId": staff_id, "subject": "s", "body": "b"}}),
        (MARK_READ, {"input": {"threadId": thread_id}}),
    ):
        assert await api.error_code(query, variables, robin) == "FORBIDDEN", query
    # and staff read the history but cannot write to the portal
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    page = await threads(api, clinician)
    assert page["mode"] == "NONE" and [t["id"] for t in page["items"]] == [thread_id]
    assert (await send(api, clinician, thread_id, "hi"))["errors"][0]["code"] == "MESSAGING_OFF"
    made = await start(api, clinician, clientId=str(world.client.id), subject="s", body="b")
    assert [e["code"] for e in made["errors"]] == ["MESSAGING_OFF"]
    assert await Message.filter(thread_id=thread_id).count() == 1
    # and turning it back on works at once
    await set_mode(api, world, MessagingMode.BETWEEN_STAFF_AND_CLIENT)
    assert (await send(api, robin, thread_id, "back"))["errors"] == []


# Limits


async def test_text_limits_are_typed_errors_and_nothing_is_saved(api: Api) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    robin = await api.portal_token(world.agency, "robin")
    staff_id = str(world.clinician.id)

    async def codes(**fields: Any) -> list[tuple[str, str]]:
        made = await start(api, robin, staffId=staff_id, **fields)
        assert made["thread"] is None
        return [(e["code"], e["field"]) for e in made["errors"]]

    assert await codes(subject=" ", body="\n\t ") == [("REQUIRED", "subject"), ("REQUIRED", "body")]
    assert await codes(subject="x" * 201, body="x" * 10_001) == [
        ("TOO_LONG", "subject"),
        ("TOO_LONG", "body"),
    ]
    at_cap = await start(api, robin, staffId=staff_id, subject="x" * 200, body="y" * 10_000)
    assert at_cap["errors"] == [] and len(at_cap["message"]["body"]) == 10_000
    for body, code in (("", "REQUIRED"), ("z" * 10_001, "TOO_LONG")):
        refused = await send(api, robin, thread_id, body)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [(code, "body")]
    assert await Message.filter(thread_id=thread_id).count() == 1
    # beyond the cap on any text argument: refused before anything runs
    variables = {"input": {"threadId": thread_id, "body": "z" * 20_001}}
    assert await api.error_code(SEND, variables, robin) == "TOO_LONG"
    variables = {"input": {"threadId": thread_id, "body": "a\x00b"}}
    assert await api.error_code(SEND, variables, robin) == "INVALID_TEXT"


async def test_portal_users_write_only_to_their_care_team(api: Api) -> None:
    world = await messaging_world()
    robin = await api.portal_token(world.agency, "robin")
    outsider = await make_staff(world.agency, "outsider@a.test", [])
    inactive = await make_staff(world.agency, "gone@a.test", [], is_active=False)
    await CareTeamMember.create(client=world.client, staff=inactive)
    elsewhere = await make_world()
    for staff_id in (outsider.id, inactive.id, elsewhere.clinician.id, "not-an-id"):
        made = await start(api, robin, staffId=str(staff_id), subject="s", body="b")
        assert [(e["code"], e["field"]) for e in made["errors"]] == [
            ("NOT_ON_CARE_TEAM", "staffId")
        ]
    made = await start(api, robin, subject="s", body="b")
    assert [(e["code"], e["field"]) for e in made["errors"]] == [("REQUIRED", "staffId")]
    assert not await MessageThread.filter(agency_id=world.agency.id).exists()


async def test_a_representative_of_two_clients_names_the_client(api: Api) -> None:
    world = await messaging_world()
    sky = await Client.create(agency=world.agency, first_name="Sky", last_name="Other")
    await CareTeamMember.create(client=sky, staff=world.clinician)
    await Representative.create(
        agency=world.agency,
        client=sky,
        first_name="Gale",
        last_name="Guardian",
        email="guardian@c.test",
        account=world.representative_account,
    )
    guardian = await api.portal_token(world.agency, "guardian")
    staff_id = str(world.clinician.id)
    assert await api.error_code(THREADS, {}, guardian) == "BAD_USER_INPUT"
    made = await start(api, guardian, staffId=staff_id, subject="s", body="b")
    assert [(e["code"], e["field"]) for e in made["errors"]] == [("REQUIRED", "clientId")]
    made = await start(api, guardian, staffId=staff_id, clientId=str(sky.id), subject="s", body="b")
    assert made["thread"]["clientId"] == str(sky.id)
    assert (await threads(api, guardian, clientId=str(world.client.id)))["items"] == []
    sky_threads = await threads(api, guardian, clientId=str(sky.id))
    assert [t["id"] for t in sky_threads["items"]] == [made["thread"]["id"]]
    # the client Robin never sees Sky's thread
    robin = await api.portal_token(world.agency, "robin")
    assert (await threads(api, robin))["items"] == []
    refused = await api.error_code(ONE_THREAD, {"id": made["thread"]["id"]}, robin)
    assert refused == "FORBIDDEN"


# Who sees which thread


async def test_staff_see_threads_of_their_care_team_or_all_with_view_all_clients(
    api: Api,
) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    await make_staff(world.agency, "other@a.test", [])
    await make_staff(world.agency, "lead@a.test", [Permission.VIEW_ALL_CLIENTS])
    await make_staff(world.agency, "settings@a.test", [Permission.MANAGE_PORTAL_SETTINGS])
    other = await api.staff_token(world.agency, "other@a.test")
    lead = await api.staff_token(world.agency, "lead@a.test")
    settings_only = await api.staff_token(world.agency, "settings@a.test")
    desk = await api.staff_token(world.agency, "desk@a.test")  # MANAGE_PORTAL_ACCESS too
    # staff not on the care team, without VIEW_ALL_CLIENTS: nothing, and refused
    for token in (other, settings_only):
        assert (await threads(api, token))["items"] == []
        assert await api.error_code(ONE_THREAD, {"id": thread_id}, token) == "FORBIDDEN"
        variables = {"input": {"threadId": thread_id, "body": "x"}}
        assert await api.error_code(SEND, variables, token) == "FORBIDDEN"
        variables = {"input": {"clientId": str(world.client.id), "subject": "s", "body": "b"}}
        assert await api.error_code(START, variables, token) == "FORBIDDEN"
        variables = {"input": {"threadId": thread_id}}
        assert await api.error_code(MARK_READ, variables, token) == "FORBIDDEN"
    # VIEW_ALL_CLIENTS (and MANAGE_PORTAL_ACCESS, as for client(id)) see it and may write
    for token in (lead, desk):
        assert [t["id"] for t in (await threads(api, token))["items"]] == [thread_id]
        assert (await send(api, token, thread_id, "Covering today"))["errors"] == []
    # a thread the lead starts for the clinician is the clinician's to see
    made = await start(
        api,
        lead,
        clientId=str(world.client.id),
        staffId=str(world.clinician.id),
        subject="s",
        body="b",
    )
    assert made["thread"]["staff"]["id"] == str(world.clinician.id)
    made = await start(
        api,
        lead,
        clientId=str(world.client.id),
        staffId=str((await make_staff(world.agency, "x@a.test", [])).id),
        subject="s",
        body="b",
    )
    assert [e["code"] for e in made["errors"]] == ["NOT_ON_CARE_TEAM"]
    assert await Message.filter(thread_id=thread_id).count() == 3


async def test_a_correspondent_who_left_the_care_team_reads_but_no_longer_writes(
    api: Api,
) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    await CareTeamMember.filter(client_id=world.client.id, staff_id=world.clinician.id).delete()
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    assert [t["id"] for t in (await threads(api, clinician))["items"]] == [thread_id]
    refused = await send(api, clinician, thread_id, "still here?")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("NOT_ON_CARE_TEAM", "threadId")
    ]


async def test_other_agencies_clients_and_anonymous_callers_learn_nothing(api: Api) -> None:
    world = await messaging_world()
    thread_id = await staff_thread(api, world)
    elsewhere = await messaging_world()
    stranger = await api.staff_token(elsewhere.agency, "champion@a.test")
    foreign_client = await api.portal_token(elsewhere.agency, "robin")
    other_rep = await _representative_of_another_client(world)
    other_rep_token = await api.portal_token(world.agency, other_rep.username)
    for token in (stranger, foreign_client, other_rep_token):
        assert (await threads(api, token))["items"] == []
        for thread in (thread_id, "00000000-0000-0000-0000-000000000000", "nope"):
            assert await api.error_code(ONE_THREAD, {"id": thread}, token) == "FORBIDDEN"
            variables = {"input": {"threadId": thread, "body": "x"}}
            assert await api.error_code(SEND, variables, token) == "FORBIDDEN"
    variables = {"input": {"clientId": str(world.client.id), "subject": "s", "body": "b"}}
    assert await api.error_code(START, variables, stranger) == "FORBIDDEN"
    assert await api.error_code(THREADS, {}) == "UNAUTHENTICATED"
    assert await api.error_code(ONE_THREAD, {"id": thread_id}) == "UNAUTHENTICATED"
    assert await Message.filter(thread_id=thread_id).count() == 1


async def _representative_of_another_client(world: World) -> PortalAccount:
    other = await Client.create(agency=world.agency, first_name="Other", last_name="Client")
    account = await PortalAccount.create(
        agency=world.agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="other-parent",
        email="other-parent@c.test",
        password_hash=PASSWORD_HASH,
    )
    await Representative.create(
        agency=world.agency,
        client=other,
        first_name="Other",
        last_name="Parent",
        email="other-parent@c.test",
        account=account,
    )
    return account


# E-mail notice


async def test_staff_messages_email_the_client_side_a_notice_without_phi(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given PHI in names, subject and body
    world = await messaging_world()
    world.client.first_name, world.client.last_name = "Robinetta", "Featherstonehaugh"
    await world.client.save()
    world.clinician.first_name, world.clinician.last_name = "Dr Quentin", "Zabriskie"
    await world.clinician.save()
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    # when staff start a thread and write again
    made = await start(
        api,
        clinician,
        clientId=str(world.client.id),
        subject="Lab results lithium",
        body="Your lithium level is 0.9",
    )
    await send(api, clinician, made["thread"]["id"], "Bipolar follow-up Tuesday")
    await run_jobs()
    # then the client and the representative each get two notices with the portal link only
    assert sorted(m["To"] for m in mailbox.messages) == sorted(
        ["robin@c.test", "robin@c.test", "guardian@c.test", "guardian@c.test"]
    )
    for message in mailbox.messages:
        text = body_text(message)
        assert f"https://portal.test/portal/{world.agency.slug}" in text
        assert "Test Agency" in text and "new secure message" in text
        for phi in (
            "Robinetta",
            "Featherstonehaugh",
            "Quentin",
            "Zabriskie",
            "lithium",
            "Lab results",
            "Bipolar",
            "Tuesday",
        ):
            assert phi not in text, phi


async def test_no_email_when_turned_off_or_when_the_client_side_writes(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await messaging_world(email=False)
    thread_id = await staff_thread(api, world)
    await run_jobs()
    assert mailbox.messages == []
    await PortalSettings.filter(agency_id=world.agency.id).update(email_client_on_new_message=True)
    robin = await api.portal_token(world.agency, "robin")
    await send(api, robin, thread_id, "From the client: no mail to anyone")
    await run_jobs()
    assert mailbox.messages == []
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    await send(api, clinician, thread_id, "Now on: mail")
    await run_jobs()
    assert sorted(m["To"] for m in mailbox.messages) == ["guardian@c.test", "robin@c.test"]


async def test_concurrent_messages_in_one_thread_each_get_their_own_place(api: Api) -> None:
    # given a thread both sides write in at once (on PostgreSQL the thread's row lock orders them)
    world = await messaging_world(email=False)
    thread_id = await staff_thread(api, world)
    robin = await api.portal_token(world.agency, "robin")
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    # when
    sent = await asyncio.gather(
        *(send(api, (robin, clinician)[n % 2], thread_id, f"at once {n}") for n in range(12))
    )
    # then none is lost and the count and the newest message agree with the rows
    assert all(s["errors"] == [] for s in sent)
    rows = await Message.filter(thread_id=thread_id).order_by("seq")
    assert [r.seq for r in rows] == list(range(1, 14))
    thread = await MessageThread.get(id=thread_id)
    assert thread.message_count == 13 and thread.last_message_id == rows[-1].id
    page = await threads(api, robin)
    assert page["items"][0]["messageCount"] == 13
    assert page["items"][0]["lastMessage"]["id"] == str(rows[-1].id)


async def test_a_cursor_works_only_in_its_own_thread(api: Api) -> None:
    world = await messaging_world()
    first, second = await staff_thread(api, world), await staff_thread(api, world)
    robin = await api.portal_token(world.agency, "robin")
    await send(api, robin, first, "two")
    page = (await api.data(ONE_THREAD, {"id": first, "first": 1}, robin))["messageThread"]
    cursor = page["messages"]["nextCursor"]
    assert cursor is not None
    for variables in ({"id": second, "after": cursor}, {"id": first, "after": "bogus!"}):
        body = await api.post(ONE_THREAD, variables, robin)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    for size in (0, 101):
        body = await api.post(ONE_THREAD, {"id": first, "first": size}, robin)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
