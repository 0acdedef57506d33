"""Principals of recently checked sessions, so a signed-in read skips the session lookup.

Why it is safe (DESIGN.md: "a cache of principals is allowed only with that invalidation"):
- Every path that ends or narrows a session publishes on the event bus (resolvers/sessions.py
  `revoke` and `announce`: logout, password resets, deactivation, permission and representative
  changes, account disable). Those call `forget` in this process before publishing, and the bus
  feeds every event of every process to `heard`, so each process drops the entries at once.
- An entry is trusted only while the bus says it hears every process (`attach`: in-process bus,
  or the Redis pattern subscription confirmed) and only from the epoch it was read in: after a
  Redis outage every entry read before it is void, since events were missed meanwhile.
- An entry is served for at most `ttl` after the session's last_seen_at (the 60 s touch
  interval), then the database is read again and touched as before: idle and absolute timeouts
  hold as they did, and a change nobody announced (or an event lost while a Redis connection
  still looked alive) is honoured at most `ttl` late.
- A lookup that raced an invalidation (the database read began before an event arrived) is not
  stored: `generation` moves with every invalidation.
- A session earns an entry on its second database read, not its first: one-shot tokens (a
  script that signs in for one call) never fill the cache, and a change written straight to
  the database right after a session's first request (as some tests do) is still read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from resolvers.principal import Principal

# Plenty for one process; a full cache drops its oldest entry (insertion order).
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Entry:
    principal: Principal
    last_seen_at: datetime
    lapses_at: datetime
    epoch: Hashable


def _channels(principal: Principal) -> tuple[str, str]:
    who = f"staff:{principal.staff_id}" if principal.staff_id else f"account:{principal.account_id}"
    return f"session:{principal.session_id}", who


class PrincipalCache:
    def __init__(self, ttl: timedelta, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.generation = 0
        self._entries: dict[str, Entry] = {}
        # Token hashes read from the database once (insertion order, bounded like the entries).
        self._seen: dict[str, None] = {}
        self._by_channel: dict[str, set[str]] = {}
        self._epoch: Callable[[], Hashable | None] | None = None

    def attach(self, epoch: Callable[[], Hashable | None]) -> None:
        """The bus's word on whether every event reaches this process: a value that changes
        whenever events may have been missed, or None while they may be (Redis away)."""
        self.clear()
        self._epoch = epoch

    def detach(self) -> None:
        self._epoch = None
        self.clear()

    def current_epoch(self) -> Hashable | None:
        return self._epoch() if self._epoch is not None else None

    def get(self, token_hash: str, current: datetime) -> Principal | None:
        """The principal of a live cached session, or None: then read the database."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        epoch = self.current_epoch()
        if (
            epoch is None
            or entry.epoch != epoch
            or current - entry.last_seen_at >= self.ttl
            or current >= entry.lapses_at
        ):
            self._drop(token_hash)
            return None
        return entry.principal

    def put(self, token_hash: str, entry: Entry, generation: int) -> None:
        """Stores what a database read found, unless something was invalidated since the read
        began (`generation` taken before it) or the bus cannot be trusted."""
        if generation != self.generation or entry.epoch is None:
            return
        if entry.epoch != self.current_epoch():
            return
        if token_hash not in self._seen:
            if len(self._seen) >= self.max_entries:
                self._seen.pop(next(iter(self._seen)))
            self._seen[token_hash] = None
            return
        del self._seen[token_hash]
        if len(self._entries) >= self.max_entries and token_hash not in self._entries:
            self._drop(next(iter(self._entries)))
        self._drop(token_hash)
        self._entries[token_hash] = entry
        for channel in _channels(entry.principal):
            self._by_channel.setdefault(channel, set()).add(token_hash)

    def forget(self, channel: str) -> None:
        """A session or a person changed: drop whatever the channel names."""
        self.generation += 1
        for token_hash in list(self._by_channel.get(channel, ())):
            self._drop(token_hash)

    def heard(self, channel: str) -> None:
        if channel.startswith(("session:", "staff:", "account:")):
            self.forget(channel)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_channel.clear()
        self._seen.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is None:
            return
        for channel in _channels(entry.principal):
            holders = self._by_channel.get(channel)
            if holders is not None:
                holders.discard(token_hash)
                if not holders:
                    del self._by_channel[channel]
