"""The one session lookup, as open sockets use it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.context import timeouts
from app.settings import Settings
from models.accounts import Session
from resolvers.clock import now, set_clock
from resolvers.sessions import check_session, hash_token, open_session
from tests.factories import make_world

pytestmark = pytest.mark.usefixtures("app")


async def test_a_sockets_timer_recheck_never_keeps_an_idle_session_alive(
    settings: Settings,
) -> None:
    world = await make_world()
    limits = timeouts(settings)
    issued = await open_session(world.agency.id, limits, staff_id=world.champion.id)
    started = now()
    set_clock(lambda: started + limits.idle - timedelta(minutes=1))
    quiet = await check_session(issued.token, limits, touch=False)
    assert quiet is not None
    assert quiet.lapses_at == issued.expires_at
    row = await Session.get(token_hash=hash_token(issued.token))
    assert row.last_seen_at == issued.expires_at - limits.idle
    set_clock(lambda: started + limits.idle + timedelta(seconds=1))
    assert await check_session(issued.token, limits, touch=False) is None


async def test_an_operation_recheck_is_use_and_moves_the_lapse(settings: Settings) -> None:
    world = await make_world()
    limits = timeouts(settings)
    issued = await open_session(world.agency.id, limits, account_id=world.client_account.id)
    later = now() + limits.idle - timedelta(minutes=1)
    set_clock(lambda: later)
    used = await check_session(issued.token, limits)
    assert used is not None
    assert used.lapses_at == later + limits.idle
    assert used.principal.account_id == world.client_account.id
