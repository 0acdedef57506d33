"""A Redis outage costs cross-process events, never the service: an API process answers every
request while Redis is away, and once Redis is back events flow between processes again with
no restart. Each test runs its own redis-server (tests/private_redis.py) and kills it; the
shared Redis is never touched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette

from app.context import timeouts
from app.pubsub import PUBLISH_TIMEOUT_SECONDS, RECONNECT_MAX_SECONDS, RedisBus
from app.settings import Settings
from models.accounts import Session
from resolvers.clock import now
from resolvers.events import Event
from resolvers.sessions import ENDED, hash_token, open_session, session_channel
from tests.factories import make_world
from tests.live import CLOSE_WITHIN, GqlSocket, api_process
from tests.private_redis import PrivateRedis

VIEWER = "{ viewer { staffId } }"
BRANDING = "query ($slug: String!) { portalBranding(agencySlug: $slug) { agencyName } }"
# Every request during the outage is answered within this (the wedge answered none, ever).
PROMPT = 1.0


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


@pytest.fixture
async def buses(private_redis: PrivateRedis) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two buses (two "processes") on the private Redis, retrying quickly."""
    started: list[RedisBus] = []
    for _ in range(2):
        bus = RedisBus(Redis.from_url(private_redis.url), reconnect_first=0.1, reconnect_max=0.4)
        await bus.start()
        started.append(bus)
    try:
        yield started[0], started[1]
    finally:
        for bus in started:
            await bus.stop()


async def _answered_promptly(client: httpx.AsyncClient, slug: str) -> None:
    health = await client.get("/healthz", timeout=PROMPT)
    assert health.status_code == 200
    answer = await client.post(
        "/graphql", json={"query": BRANDING, "variables": {"slug": slug}}, timeout=PROMPT
    )
    assert answer.json()["data"]["portalBranding"]["agencyName"] == "Test Agency"


async def test_an_api_process_answers_through_a_redis_outage_and_hears_events_once_it_is_back(
    app: Starlette, settings: Settings, private_redis: PrivateRedis
) -> None:
    # given: an API process on the private Redis, with a signed-in socket that only an event
    # can close quickly (its timer re-check is ten minutes away)
    world = await make_world()
    issued = await open_session(world.agency.id, timeouts(settings), staff_id=world.champion.id)
    session = await Session.get(token_hash=hash_token(issued.token))
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": private_redis.url,
        "ENVIRONMENT": "test",
        "WS_RECHECK_SECONDS": "600",
    }
    headers = {"authorization": f"Bearer {issued.token}"}
    async with (
        api_process(env) as other,
        httpx.AsyncClient(base_url=f"http://{other}") as client,
        GqlSocket.opened(other, headers) as sock,
    ):
        await sock.acknowledged()
        # when: Redis is away for longer than the bus's longest reconnect wait
        private_redis.kill()
        outage_ends = time.monotonic() + RECONNECT_MAX_SECONDS * 2
        while time.monotonic() < outage_ends:
            # then: every request is answered promptly, over HTTP and on the open socket
            await _answered_promptly(client, world.agency.slug)
            viewer = await asyncio.wait_for(sock.execute(VIEWER), PROMPT)
            assert viewer["data"]["viewer"]["staffId"] == str(world.champion.id)
            await asyncio.sleep(0.3)
        # when: Redis is back and the session ends, announced from another "process"
        private_redis.start()
        await _answered_promptly(client, world.agency.slug)
        await Session.filter(id=session.id).update(revoked_at=now())
        publisher = RedisBus(Redis.from_url(private_redis.url))
        await publisher.start()
        # Events published before the API process has resubscribed are lost (documented):
        # announce until it hears, as every later event would be heard.
        announcing = asyncio.create_task(
            _keep_publishing(publisher, session_channel(session.id), {"change": ENDED})
        )
        try:
            # then: the socket closes within a few seconds, long before its timer
            assert await sock.closed() == (4401, "Unauthorized")
        finally:
            announcing.cancel()
            await publisher.stop()


async def _keep_publishing(bus: RedisBus, channel: str, data: dict[str, Any]) -> None:
    while True:
        await bus.publish(channel, data)
        await asyncio.sleep(0.25)


async def test_the_bus_sleeps_while_redis_is_away_and_resubscribes_when_it_is_back(
    buses: tuple[RedisBus, RedisBus], private_redis: PrivateRedis
) -> None:
    publisher, listener = buses
    async with listener.subscribe("session:z") as heard, publisher.subscribe("session:z") as own:
        # when: Redis is away for several reconnect intervals
        private_redis.kill()
        cpu_before = time.process_time()
        for _ in range(15):
            started = time.monotonic()
            await asyncio.sleep(0.1)
            # then: the event loop is never starved
            assert time.monotonic() - started < 0.5
        # and: retrying is sleeping, not spinning (1.5 s of outage cost little CPU)
        assert time.process_time() - cpu_before < 0.75
        assert not listener.listening.is_set()
        # A publish during the outage reaches this process only.
        await publisher.publish("session:z", {"n": 1})
        assert await _next(own) == Event("session:z", {"n": 1})
        # when: Redis is back
        private_redis.start()
        for bus in buses:
            await asyncio.wait_for(bus.listening.wait(), CLOSE_WITHIN)
        # then: events flow between the buses again, without a restart
        await publisher.publish("session:z", {"n": 2})
        assert await _next(heard) == Event("session:z", {"n": 2})
        assert await _next(own) == Event("session:z", {"n": 2})


async def _next(events: AsyncIterator[Event]) -> Event:
    return await asyncio.wait_for(anext(events), CLOSE_WITHIN)


async def test_a_publish_to_a_redis_that_stopped_answering_returns_and_is_heard_locally(
    buses: tuple[RedisBus, RedisBus], private_redis: PrivateRedis
) -> None:
    """A partition (connections accepted, nothing answered) must not hold a request that
    publishes (a logout, a permission change) for longer than the publish bound."""
    publisher, _ = buses
    async with publisher.subscribe("session:p") as own:
        private_redis.pause()
        try:
            started = time.monotonic()
            await asyncio.wait_for(publisher.publish("session:p", {"n": 1}), 3 * PROMPT)
            assert time.monotonic() - started < PUBLISH_TIMEOUT_SECONDS + PROMPT
            assert await _next(own) == Event("session:p", {"n": 1})
        finally:
            private_redis.resume()
