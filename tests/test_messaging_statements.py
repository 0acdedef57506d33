"""The thread list reads in a constant number of SQL statements: 5 threads or 20, with their last
messages, first messages, authors, correspondents and unread counts, for a portal user and for
staff (the messages of every thread in one batch, resolvers/messaging.message_pages)."""

from __future__ import annotations

from typing import Any

from models.clients import CareTeamMember
from models.enums import MessagingMode, Permission
from tests.factories import Api, World, make_staff
from tests.statements import statements_of
from tests.test_messaging import THREAD, messaging_world, send, start

# The portal's messaging home: every thread with its last message, correspondent, unread count
# and its first messages.
HOME = f"""
query {{
  messageThreads {{
    items {{ {THREAD} messages(first: 2) {{ items {{ body author {{ kind name }} }} nextCursor }} }}
    mode disclaimer unreadCount
  }}
}}"""


async def statements(api: Api, token: str) -> tuple[int, int]:
    """(SQL statements, threads listed) of one messageThreads call."""
    seen, data = await statements_of(api, HOME, {}, token)
    page: dict[str, Any] = data["messageThreads"]
    assert all(t["lastMessage"]["author"]["name"] for t in page["items"])
    for thread in page["items"]:
        assert [m["body"].split()[0] for m in thread["messages"]["items"]] == ["first", "reply"]
        assert all(m["author"]["name"] for m in thread["messages"]["items"])
    return len(seen), len(page["items"])


async def add_threads(api: Api, world: World, tokens: dict[str, str], count: int) -> None:
    """Threads of every shape: started by the client, the representative or staff, with
    several correspondents, answered by someone else, some read."""
    staff = [world.clinician]
    for n in range(2):
        member = await make_staff(world.agency, f"team{n}-{count}@a.test", [])
        await CareTeamMember.create(client=world.client, staff=member)
        staff.append(member)
    for n in range(count):
        correspondent = staff[n % len(staff)]
        author = ("robin", "guardian", "lead")[n % 3]
        fields: dict[str, Any] = {"subject": f"Thread {n}", "body": f"first {n}"}
        if author == "lead":
            fields |= {"clientId": str(world.client.id), "staffId": str(correspondent.id)}
        else:
            fields |= {"staffId": str(correspondent.id)}
        made = await start(api, tokens[author], **fields)
        assert made["errors"] == [], made
        replier = ("lead", "robin", "guardian")[n % 3]
        await send(api, tokens[replier], made["thread"]["id"], f"reply {n}")


async def test_statements_do_not_grow_with_the_threads(api: Api) -> None:
    world = await messaging_world(MessagingMode.BETWEEN_STAFF_AND_CLIENT, email=False)
    await make_staff(world.agency, "lead@a.test", [Permission.VIEW_ALL_CLIENTS])
    tokens = {
        "robin": await api.portal_token(world.agency, "robin"),
        "guardian": await api.portal_token(world.agency, "guardian"),
        "lead": await api.staff_token(world.agency, "lead@a.test"),
        "clinician": await api.staff_token(world.agency, "clinician@a.test"),
    }
    viewers = ("robin", "guardian", "lead", "clinician")
    await add_threads(api, world, tokens, 5)
    few = {who: await statements(api, tokens[who]) for who in viewers}
    await add_threads(api, world, tokens, 15)
    many = {who: await statements(api, tokens[who]) for who in viewers}
    for who in viewers:
        assert few[who][1] < many[who][1], who
        assert few[who][0] == many[who][0], (who, few[who], many[who])
    assert many["robin"][1] == 20 and many["lead"][1] == 20
