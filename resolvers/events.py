"""How resolvers publish and subscribe to events: by channel name, after their transaction commits.

The app installs the bus at start-up (app/pubsub.py: in-process by default, Redis pub/sub when
REDIS_URL is set, so every API process hears every event); resolvers only call `publish` and
`subscribe`, so they never know which. An event names what changed and carries ids only; a
subscriber re-checks what its viewer may see before acting on it.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("portal.events")


@dataclass(frozen=True)
class Event:
    channel: str
    data: dict[str, Any]
    # What this process's subscribers read once for the event and share (the bus hands every
    # local subscriber the same Event): see resolvers/appointment_events.py `_shared`.
    reads: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


class Subscription(Protocol):
    """Registered once entered; iterate it for the events of its channels, in order."""

    def __aiter__(self) -> Subscription: ...

    async def __anext__(self) -> Event: ...


class Bus(Protocol):
    async def publish(self, channel: str, data: dict[str, Any]) -> None: ...

    def subscribe(self, *channels: str) -> AbstractAsyncContextManager[Subscription]: ...


_bus: Bus | None = None


def install(bus: Bus | None) -> None:
    global _bus
    _bus = bus


def current() -> Bus:
    if _bus is None:
        raise RuntimeError("no event bus installed (app/pubsub.py installs one at start-up)")
    return _bus


async def publish(channel: str, **data: Any) -> None:
    """Never raises: the change is already committed, and every reader re-checks on its own
    (sockets re-validate each operation and on a timer), so a lost event only delays a close."""
    if _bus is None:
        log.debug("no event bus installed; %s not published", channel)
        return
    try:
        await _bus.publish(channel, data)
    except Exception:
        log.exception("could not publish on %s", channel)


def subscribe(*channels: str) -> AbstractAsyncContextManager[Subscription]:
    """`async with subscribe("a", "b") as events: async for event in events: ...`"""
    return current().subscribe(*channels)
