"""The per-event session re-check of subscriptions, batched (issue 9): every subscriber of one
event in a process shares one read of the sessions, which answers exactly what one `recheck`
per subscriber would, read after the event arrived."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import pytest

from app.context import timeouts
from app.settings import Settings
from bench.slots_server import STATEMENTS, count_statements
from models.accounts import PortalAccount, Session
from models.clients import Client, Representative
from models.enums import Permission
from resolvers.clock import now
from resolvers.events import Event
from resolvers.principal import Principal
from resolvers.sessions import (
    Timeouts,
    check_session,
    open_session,
    recheck,
    recheck_for,
    recheck_many,
    revoke,
)
from tests.factories import World, make_staff, make_world

pytestmark = pytest.mark.usefixtures("app")


async def _principal(
    world: World, limits: Timeouts, *, staff_id: UUID | None = None, account_id: UUID | None = None
) -> Principal:
    issued = await open_session(world.agency.id, limits, staff_id=staff_id, account_id=account_id)
    live = await check_session(issued.token, limits, touch=False)
    assert live is not None
    return live.principal


async def test_a_batch_answers_what_one_recheck_per_session_would(settings: Settings) -> None:
    world = await make_world()
    limits = timeouts(settings)
    manager = await make_staff(world.agency, "m@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    other = await Client.create(agency=world.agency, first_name="Sam", last_name="Other")
    await Representative.create(
        agency=world.agency,
        client=other,
        first_name="Gale",
        last_name="Guardian",
        email="guardian@c.test",
        relationship="Guardian",
        account=world.representative_account,
    )
    kept = [
        await _principal(world, limits, staff_id=manager.id),
        await _principal(world, limits, staff_id=world.front_desk.id),
        await _principal(world, limits, account_id=world.client_account.id),
        await _principal(world, limits, account_id=world.representative_account.id),
    ]
    revoked = await _principal(world, limits, staff_id=world.champion.id)
    await revoke(revoked.session_id)
    lapsed = await _principal(world, limits, staff_id=world.clinician.id)
    idle_since = now() - limits.idle - timedelta(seconds=1)
    await Session.filter(id=lapsed.session_id).update(last_seen_at=idle_since)
    gone = await make_staff(world.agency, "gone@a.test", [])
    deactivated = await _principal(world, limits, staff_id=gone.id)
    await gone.filter(id=gone.id).update(is_active=False)
    narrowed = kept[1]
    await world.front_desk.filter(id=world.front_desk.id).update(permissions=[])
    everyone = [*kept, revoked, lapsed, deactivated]

    batch = await recheck_many([p.session_id for p in everyone], limits)

    one_by_one = {p.session_id: await recheck(p, limits) for p in everyone}
    assert batch == {k: v for k, v in one_by_one.items() if v is not None}
    assert set(batch) == {p.session_id for p in kept}
    assert batch[narrowed.session_id].permissions == frozenset()
    assert batch[kept[3].session_id].client_ids == {world.client.id, other.id}
    assert batch[kept[2].session_id].client_ids == {world.client.id}


async def test_subscribers_of_one_event_share_one_read(settings: Settings) -> None:
    world = await make_world()
    limits = timeouts(settings)
    staff = [
        await make_staff(world.agency, f"s{i}@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
        for i in range(12)
    ]
    account = world.representative_account.id
    viewers = [await _principal(world, limits, staff_id=s.id) for s in staff]
    viewers.append(await _principal(world, limits, account_id=account))
    event = Event("agency:x", {"kind": "BOOKED"})
    count_statements()
    seen: list[str] = []
    token = STATEMENTS.set(seen)
    try:
        found = await asyncio.gather(*(recheck_for(event, v, limits) for v in viewers))
    finally:
        STATEMENTS.reset(token)
    assert found == viewers
    # Sessions, staff, accounts, representatives: not two per subscriber.
    assert len(seen) <= 4, seen


async def test_each_event_reads_the_sessions_again(settings: Settings) -> None:
    world = await make_world()
    limits = timeouts(settings)
    viewer = await _principal(world, limits, account_id=world.client_account.id)
    first = Event("client:x", {"kind": "BOOKED"})
    assert await recheck_for(first, viewer, limits) == viewer
    await PortalAccount.filter(id=world.client_account.id).update(is_active=False)
    # A subscriber arriving late to the first event, and the next event, both read again.
    assert await recheck_for(first, viewer, limits) is None
    assert await recheck_for(Event("client:x", {"kind": "BOOKED"}), viewer, limits) is None
