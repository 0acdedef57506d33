"""The event bus under the sockets (and, later, GraphQL subscriptions): publish and subscribe
by channel, in process and through Redis pub/sub across processes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.pubsub import LocalBus, RedisBus
from resolvers.events import Event

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


async def next_event(events: AsyncIterator[Event]) -> Event:
    return await asyncio.wait_for(anext(events), 5)


async def nothing_more(events: AsyncIterator[Event]) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(events), 0.2)


async def test_a_local_subscriber_gets_its_channels_events_in_order_and_no_others() -> None:
    bus = LocalBus()
    async with bus.subscribe("session:a", "staff:b") as events:
        await bus.publish("session:a", {"change": "ENDED"})
        await bus.publish("session:other", {"change": "ENDED"})
        await bus.publish("staff:b", {"change": "ACCESS_CHANGED"})
        assert await next_event(events) == Event("session:a", {"change": "ENDED"})
        assert await next_event(events) == Event("staff:b", {"change": "ACCESS_CHANGED"})
        await nothing_more(events)
    # Gone once the block is left: publishing finds nobody and keeps nothing.
    await bus.publish("session:a", {"change": "ENDED"})
    assert bus._subscribers == {}


async def test_every_subscriber_of_a_channel_hears_each_event() -> None:
    bus = LocalBus()
    async with bus.subscribe("c") as one, bus.subscribe("c") as two:
        await bus.publish("c", {"n": 1})
        assert (await next_event(one)).data == (await next_event(two)).data == {"n": 1}


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: the embedded default has no Redis")
    return url


async def _started(url: str) -> RedisBus:
    bus = RedisBus(Redis.from_url(url))
    await bus.start()
    return bus


async def test_redis_carries_an_event_from_one_bus_to_another(redis_url: str) -> None:
    """Two buses stand for two API processes: each has its own Redis connection."""
    publisher, listener = await _started(redis_url), await _started(redis_url)
    try:
        async with (
            listener.subscribe("session:x") as heard,
            publisher.subscribe("session:x") as own,
        ):
            await publisher.publish("session:x", {"change": "ENDED"})
            assert await next_event(heard) == Event("session:x", {"change": "ENDED"})
            # The publishing process hears it too, once, through Redis.
            assert await next_event(own) == Event("session:x", {"change": "ENDED"})
            await nothing_more(own)
    finally:
        await publisher.stop()
        await listener.stop()


async def test_redis_databases_do_not_hear_each_other(redis_url: str) -> None:
    """Redis pub/sub ignores the database number; the channel names carry it instead."""
    mine = await _started(redis_url)
    db = int(mine.redis.connection_pool.connection_kwargs.get("db", 0))
    other_db = db - 1 if db else 1  # a neighbour that exists: db 15 is the last of Redis's 16
    other = RedisBus(Redis(**{**mine.redis.connection_pool.connection_kwargs, "db": other_db}))
    await other.start()
    try:
        async with mine.subscribe("session:y") as events:
            await other.publish("session:y", {"change": "ENDED"})
            await nothing_more(events)
    finally:
        await mine.stop()
        await other.stop()
