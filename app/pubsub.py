"""The event bus the app installs: in-process by default, Redis pub/sub when REDIS_URL is set.

Each process keeps its own subscribers (open sockets, later GraphQL subscriptions) in memory.
With Redis, a publish goes to Redis and every process (this one included) hears it through one
pattern subscription per process, so a subscriber is live as soon as it is registered locally:
no per-channel round trip to Redis, and no window in which a just-registered socket misses an
event. Events are small JSON objects carrying ids, never PHI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from app.settings import Settings
from resolvers import events
from resolvers.events import Event
from resolvers.sessions import PRINCIPALS

log = logging.getLogger("portal.pubsub")

# A subscriber that falls this far behind loses events (and says so in the log) rather than
# growing without bound; session events are a handful per socket.
QUEUE_SIZE = 256
# After the pattern subscription is lost: the first retry, doubling up to the longest wait.
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 2.0
# How long confirming the subscription, and one publish, may take before Redis counts as away.
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
PUBLISH_TIMEOUT_SECONDS = 1.0


class LocalSubscription:
    """One subscriber's queue. Registered on entry, removed on exit."""

    def __init__(self, bus: LocalBus, channels: tuple[str, ...]) -> None:
        self.bus = bus
        self.channels = channels
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    async def __aenter__(self) -> LocalSubscription:
        self.bus.register(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.bus.unregister(self)

    def __aiter__(self) -> LocalSubscription:
        return self

    async def __anext__(self) -> Event:
        return await self.queue.get()

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("a subscriber on %s is %d behind; dropped", event.channel, QUEUE_SIZE)


class LocalBus:
    """In-process fan-out: the embedded default, and each process's half of the Redis bus."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[LocalSubscription]] = defaultdict(set)
        # Hear every event of the process, whatever its channel (the principal cache).
        self._taps: list[Callable[[str], None]] = []

    def tap(self, listener: Callable[[str], None]) -> None:
        self._taps.append(listener)

    def epoch(self) -> Hashable | None:
        """Constant while every event reaches this process; None while some may not. In one
        process every event does."""
        return 0

    def register(self, sub: LocalSubscription) -> None:
        for channel in sub.channels:
            self._subscribers[channel].add(sub)

    def unregister(self, sub: LocalSubscription) -> None:
        for channel in sub.channels:
            subs = self._subscribers.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[channel]

    def deliver(self, event: Event) -> None:
        for listener in self._taps:
            listener(event.channel)
        for sub in list(self._subscribers.get(event.channel, ())):
            sub.offer(event)

    def subscribe(self, *channels: str) -> LocalSubscription:
        return LocalSubscription(self, channels)

    def subscribers(self, channel: str) -> int:
        """How many subscribers this process has on a channel (graphql-transport-ws does not
        acknowledge a subscription: tests wait on this before firing)."""
        return len(self._subscribers.get(channel, ()))

    async def publish(self, channel: str, data: dict[str, Any]) -> None:
        self.deliver(Event(channel, data))


class RedisBus(LocalBus):
    """Publishes through Redis; one pattern subscription per process feeds the local fan-out.

    Redis pub/sub ignores the database number, so channel names carry it: two deployments (or
    test runs) on different Redis databases of one server never hear each other.

    When Redis goes away the process keeps serving: a publish is delivered in this process only,
    and the reader retries with a fresh PubSub after a back-off sleep (RECONNECT_FIRST_SECONDS,
    doubling up to RECONNECT_MAX_SECONDS) until the pattern subscription is confirmed again.
    Events published while the subscription is down are lost across processes; sockets re-check
    on their timer (WS_RECHECK_SECONDS) and before every operation, so nothing is honoured late
    for longer than that.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        reconnect_first: float = RECONNECT_FIRST_SECONDS,
        reconnect_max: float = RECONNECT_MAX_SECONDS,
    ) -> None:
        super().__init__()
        self.redis = redis
        db = redis.connection_pool.connection_kwargs.get("db", 0)
        self.prefix = f"portal:{db}:events:"
        self.reconnect_first = reconnect_first
        self.reconnect_max = reconnect_max
        # Set while the pattern subscription is confirmed and being read.
        self.listening = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._outage = False
        # One more each time the pattern subscription is confirmed: what was heard before a
        # gap cannot vouch for the time after it.
        self._subscriptions = 0

    def epoch(self) -> Hashable | None:
        return self._subscriptions if self.listening.is_set() else None

    async def start(self) -> None:
        """Returns once the pattern subscription is confirmed, so nothing published after
        start-up is missed."""
        pubsub = await self._subscribed()
        self._reader = asyncio.create_task(self._read(pubsub))

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.redis.aclose()

    async def publish(self, channel: str, data: dict[str, Any]) -> None:
        try:
            # Bounded: a request must not wait on an unreachable Redis.
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await self.redis.publish(self.prefix + channel, json.dumps(data))
        except Exception as exc:
            # Other processes fall back on their own re-checks; this one still hears it.
            log.warning(
                "Redis publish failed on %s (%s); delivered in this process only",
                channel,
                type(exc).__name__,
            )
            self.deliver(Event(channel, data))

    async def _subscribed(self) -> PubSub:
        """A fresh PubSub whose pattern subscription Redis has confirmed (bounded in time)."""
        pubsub = self.redis.pubsub()
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
                await pubsub.psubscribe(self.prefix + "*")
                # A fresh PubSub's first reply is the confirmation: no loop that could spin.
                message = await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
            if message is None or message["type"] != "psubscribe":
                raise ConnectionError("Redis did not confirm the pattern subscription")
        except BaseException:
            await _discard(pubsub)
            raise
        self._subscriptions += 1
        self.listening.set()
        return pubsub

    async def _read(self, pubsub: PubSub | None) -> None:
        """Reads until cancelled. Every way out of `_pump` (an error, or `listen()` simply
        ending because the PubSub is no longer subscribed) leads to a back-off sleep and a fresh
        PubSub: never a loop that runs again without sleeping."""
        delay = self.reconnect_first
        try:
            while True:
                try:
                    if pubsub is None:
                        pubsub = await self._subscribed()
                        self._back()
                        delay = self.reconnect_first
                    await self._pump(pubsub)
                    raise ConnectionError("the pattern subscription ended")
                except Exception as exc:
                    self._lost(exc)
                self.listening.clear()
                if pubsub is not None:
                    await _discard(pubsub)
                    pubsub = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max)
        finally:
            self.listening.clear()
            if pubsub is not None:
                await _discard(pubsub)

    def _lost(self, exc: Exception) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "Redis pub/sub lost (%s); events from other processes are missed until it is "
                "back; retrying every %.1f-%.1f s",
                type(exc).__name__,
                self.reconnect_first,
                self.reconnect_max,
            )

    def _back(self) -> None:
        if self._outage:
            self._outage = False
            log.warning("Redis pub/sub is back; events flow between processes again")

    async def _pump(self, pubsub: PubSub) -> None:
        """Returns (or raises) when the PubSub stops listening."""
        async for message in pubsub.listen():
            if message["type"] != "pmessage":
                continue
            channel = message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            try:
                data = json.loads(message["data"])
            except ValueError:
                log.warning("ignored a malformed event on %s", channel)
                continue
            self.deliver(Event(channel.removeprefix(self.prefix), data))


async def _discard(pubsub: PubSub) -> None:
    """Closes a PubSub whose connection may already be broken."""
    with contextlib.suppress(Exception):
        await pubsub.aclose()  # type: ignore[no-untyped-call]


@contextlib.asynccontextmanager
async def running_bus(settings: Settings) -> AsyncIterator[LocalBus]:
    """Installs the bus for the app's lifetime (resolvers publish through resolvers/events)."""
    if not settings.redis_url:
        local = LocalBus()
        _install(local)
        try:
            yield local
        finally:
            _uninstall()
        return
    bus = RedisBus(Redis.from_url(settings.redis_url))
    await bus.start()
    _install(bus)
    try:
        yield bus
    finally:
        _uninstall()
        await bus.stop()


def _install(bus: LocalBus) -> None:
    events.install(bus)
    # The principal cache trusts what it holds only while this bus hears every process.
    bus.tap(PRINCIPALS.heard)
    PRINCIPALS.attach(bus.epoch)


def _uninstall() -> None:
    PRINCIPALS.detach()
    events.install(None)
