"""The principal cache (resolvers/session_cache.py): a signed-in read skips the session lookup,
and every way a session ends or narrows is still refused at once, on this process and (with
Redis) on another."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from app.settings import Settings
from resolvers.principal import Principal
from resolvers.session_cache import Entry, PrincipalCache
from resolvers.sessions import PRINCIPALS
from tests.factories import Api, make_world
from tests.live import api_process

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"
VIEWER = "{ viewer { staffId portalAccountId permissions } }"
LOGOUT = "mutation { logout { ok } }"
ERRORS = "errors { code field message }"
UPDATE_STAFF = (
    f"mutation ($input: UpdateStaffInput!) {{ updateStaff(input: $input) {{ {ERRORS} }} }}"
)
SET_ACTIVE = (
    "mutation ($input: SetPortalAccountActiveInput!) { setPortalAccountActive(input: $input) "
    f"{{ {ERRORS} }} }}"
)


async def warm(api: Api, token: str) -> None:
    """Enough requests for the session to be served from the cache."""
    for _ in range(3):
        await api.data(VIEWER, token=token)


def cached(token: str) -> bool:
    from resolvers.sessions import hash_token

    return PRINCIPALS.get(hash_token(token), datetime.now(UTC)) is not None


async def test_a_session_that_comes_back_is_served_without_reading_the_database(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    await warm(api, token)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        viewer = (await api.data(VIEWER, token=token))["viewer"]
    assert viewer["staffId"] == str(world.clinician.id)
    assert [r.getMessage() for r in caplog.records if r.name == "tortoise.db_client"] == []
    assert cached(token)


async def test_logout_is_refused_at_once(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    await warm(api, token)
    await api.data(LOGOUT, token=token)
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_a_deactivated_staff_member_is_refused_at_once(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    champion = await api.staff_token(world.agency, "champion@a.test")
    await warm(api, token)
    change = {"input": {"id": str(world.clinician.id), "isActive": False}}
    assert (await api.data(UPDATE_STAFF, change, champion))["updateStaff"]["errors"] == []
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_permissions_taken_away_are_gone_at_once(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "desk@a.test")
    champion = await api.staff_token(world.agency, "champion@a.test")
    await warm(api, token)
    change = {"input": {"id": str(world.front_desk.id), "permissions": []}}
    assert (await api.data(UPDATE_STAFF, change, champion))["updateStaff"]["errors"] == []
    assert (await api.data(VIEWER, token=token))["viewer"]["permissions"] == []


async def test_a_portal_sign_in_turned_off_is_refused_at_once(api: Api) -> None:
    world = await make_world()
    token = await api.portal_token(world.agency, "robin")
    desk = await api.staff_token(world.agency, "desk@a.test")
    await warm(api, token)
    change = {"input": {"clientId": str(world.client.id), "active": False}}
    assert (await api.data(SET_ACTIVE, change, desk))["setPortalAccountActive"]["errors"] == []
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_a_staff_member_deactivated_on_one_process_is_refused_on_another(
    api: Api, settings: Settings
) -> None:
    if not settings.redis_url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: one process only")
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    champion = await api.staff_token(world.agency, "champion@a.test")
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ENVIRONMENT": "test",
    }
    async with api_process(env) as other, httpx.AsyncClient(base_url=f"http://{other}") as http:
        there = Api(http)
        await warm(there, token)
        change = {"input": {"id": str(world.clinician.id), "isActive": False}}
        assert (await api.data(UPDATE_STAFF, change, champion))["updateStaff"]["errors"] == []
        assert await there.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


# The cache's own rules (pure)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _entry(epoch: Any = 0, seen: datetime = NOW) -> Entry:
    principal = Principal(agency_id=uuid4(), session_id=uuid4(), staff_id=uuid4())
    return Entry(principal, seen, seen + timedelta(minutes=30), epoch)


def _filled(epoch: list[Any]) -> tuple[PrincipalCache, Entry]:
    cache = PrincipalCache(ttl=timedelta(seconds=60))
    cache.attach(lambda: epoch[0])
    entry = _entry(epoch[0])
    for _ in range(2):  # an entry is earned on the second read
        cache.put("t", entry, cache.generation)
    return cache, entry


def test_an_entry_is_served_until_the_touch_is_due() -> None:
    cache, entry = _filled([0])
    assert cache.get("t", NOW + timedelta(seconds=59)) == entry.principal
    assert cache.get("t", NOW + timedelta(seconds=60)) is None


def test_nothing_is_trusted_while_the_bus_may_miss_events_nor_after_a_gap() -> None:
    epoch: list[Any] = [1]
    cache, _ = _filled(epoch)
    epoch[0] = None  # Redis away
    assert cache.get("t", NOW) is None
    cache, _ = _filled(epoch := [1])
    epoch[0] = 2  # subscribed again: events may have been missed meanwhile
    assert cache.get("t", NOW) is None


def test_a_read_that_raced_an_invalidation_is_not_kept() -> None:
    cache = PrincipalCache(ttl=timedelta(seconds=60))
    cache.attach(lambda: 0)
    entry = _entry()
    cache.put("t", entry, cache.generation)
    began = cache.generation
    cache.forget(f"session:{entry.principal.session_id}")
    cache.put("t", entry, began)
    assert cache.get("t", NOW) is None


def test_an_event_naming_the_person_or_the_session_drops_the_entry() -> None:
    for channel in ("session:{s}", "staff:{p}"):
        cache, entry = _filled([0])
        cache.heard(channel.format(s=entry.principal.session_id, p=entry.principal.staff_id))
        assert cache.get("t", NOW) is None
    cache, entry = _filled([0])
    cache.heard(f"staff:{uuid4()}")
    assert cache.get("t", NOW) == entry.principal
