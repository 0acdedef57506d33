"""Bearer sessions: opaque 256-bit tokens, stored hashed, with idle and absolute timeouts."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from models.accounts import PortalAccount, Session
from models.clients import Representative
from models.enums import Permission, PortalAccountKind, TokenState
from models.invitations import Invitation, PasswordReset, StaffPasswordLink
from models.staff import Staff
from resolvers import events
from resolvers.clock import now
from resolvers.principal import Principal
from resolvers.session_cache import Entry, PrincipalCache

# Writing last_seen_at on every request would turn each read into a write.
_TOUCH_EVERY = timedelta(seconds=60)

# This process's principals of recent requests (app/pubsub.py attaches it to the event bus; it
# serves nothing until then). An entry lives at most until the next touch is due.
PRINCIPALS = PrincipalCache(ttl=_TOUCH_EVERY)


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: datetime


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


L = TypeVar("L", Invitation, PasswordReset, StaffPasswordLink)


async def usable_link(model: type[L], token: str) -> L | None:
    """An invitation or reset link that may still be used. Expiry is enforced here, at use;
    the cron jobs only tidy up."""
    link = await model.get_or_none(token_hash=hash_token(token.strip()))
    if link is None or link.state != TokenState.ACTIVE or link.expires_at <= now():
        return None
    return link


def _expiry(session: Session | _SessionRow, timeouts: Timeouts) -> datetime:
    return min(session.last_seen_at + timeouts.idle, session.expires_at)


async def open_session(
    agency_id: UUID,
    timeouts: Timeouts,
    *,
    staff_id: UUID | None = None,
    account_id: UUID | None = None,
    ip: str | None = None,
) -> IssuedSession:
    token, started = new_token(), now()
    session = await Session.create(
        token_hash=hash_token(token),
        agency_id=agency_id,
        staff_id=staff_id,
        account_id=account_id,
        created_at=started,
        last_seen_at=started,
        expires_at=started + timeouts.absolute,
        ip=ip,
    )
    return IssuedSession(token, _expiry(session, timeouts))


async def _prime(session: Session, timeouts: Timeouts) -> None:
    """The first request after signing in finds its principal cached. Not inside a
    transaction: a rollback would leave a cached session that never existed."""
    if isinstance(connections.get("default"), TransactionalDBClient):
        return
    generation, epoch = PRINCIPALS.generation, PRINCIPALS.current_epoch()
    live = await _live(session, timeouts, touch=False) if epoch is not None else None
    if live is not None:
        entry = Entry(live.principal, session.last_seen_at, live.lapses_at, epoch)
        PRINCIPALS.put(session.token_hash, entry, generation)


def bearer(value: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` value (the scheme in any case)."""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True)
class LiveSession:
    principal: Principal
    lapses_at: datetime = field(compare=False)


async def principal_for_token(token: str, timeouts: Timeouts) -> Principal | None:
    live = await check_session(token, timeouts)
    return live.principal if live else None


async def cached_principal(token: str, timeouts: Timeouts) -> Principal | None:
    """`principal_for_token` for HTTP requests, through PRINCIPALS (see resolvers/session_cache
    for why that is safe). Sockets keep using check_session: they re-read on every operation."""
    token_hash, current = hash_token(token), now()
    found = PRINCIPALS.get(token_hash, current)
    if found is not None:
        return found
    generation, epoch = PRINCIPALS.generation, PRINCIPALS.current_epoch()
    session = await Session.filter(token_hash=token_hash, revoked_at=None).first()
    live = await _live(session, timeouts, touch=True)
    if live is None or session is None:
        return None
    if epoch is not None:
        entry = Entry(live.principal, session.last_seen_at, live.lapses_at, epoch)
        PRINCIPALS.put(token_hash, entry, generation)
    return live.principal


async def check_session(
    token: str, timeouts: Timeouts, *, touch: bool = True
) -> LiveSession | None:
    """The one lookup from token to principal: None once the session is revoked, lapsed, or its
    person deactivated. `touch=False` for re-checks that are not the person's own activity (an
    open socket's timer), so they never keep an idle session alive."""
    session = await Session.filter(token_hash=hash_token(token), revoked_at=None).first()
    return await _live(session, timeouts, touch=touch)


async def recheck(principal: Principal, timeouts: Timeouts) -> Principal | None:
    """The principal of the same session as it is now: None once the session ended, fewer
    permissions or clients once they were taken away. Never extends the session (a
    subscription re-reads its viewer this way before each event)."""
    session = await Session.filter(id=principal.session_id, revoked_at=None).first()
    live = await _live(session, timeouts, touch=False)
    return live.principal if live else None


async def recheck_for(
    event: events.Event, principal: Principal, timeouts: Timeouts
) -> Principal | None:
    """`recheck` for a subscriber about to act on `event`: every subscriber of this process
    that re-checks for the same event at the same time shares one batched read (a few queries
    for all of them, not two each). As fresh as `recheck`: read from the database after the
    event arrived, never from a cache."""
    key = (_RecheckBatch, timeouts)
    batch: _RecheckBatch | None = event.reads.get(key)
    if batch is None or batch.started:
        batch = event.reads[key] = _RecheckBatch(timeouts)
    return await batch.ask(principal.session_id)


class _RecheckBatch:
    """Session ids gathered until the loop runs the batch (the bus wakes every subscriber of an
    event in one go, so they all join before it starts); later askers start a new batch."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.started = False
        self._ids: set[UUID] = set()
        self._task: asyncio.Task[dict[UUID, Principal]] | None = None

    async def ask(self, session_id: UUID) -> Principal | None:
        self._ids.add(session_id)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        # Shielded: a subscriber that goes away does not cancel the others' read.
        found = await asyncio.shield(self._task)
        return found.get(session_id)

    async def _run(self) -> dict[UUID, Principal]:
        self.started = True
        return await recheck_many(self._ids, self.timeouts)


class _SessionRow(NamedTuple):
    """What a re-check needs of a session, read as plain values (no model objects: a batch
    reads one row per subscriber of the process, for every event)."""

    id: UUID
    agency_id: UUID
    staff_id: UUID | None
    account_id: UUID | None
    last_seen_at: datetime
    expires_at: datetime


class _StaffRow(NamedTuple):
    id: UUID
    is_active: bool
    permissions: list[str]


async def recheck_many(session_ids: Collection[UUID], timeouts: Timeouts) -> dict[UUID, Principal]:
    """`recheck` for many sessions in a few queries: the principal of each session still live,
    by session id (a session that ended, lapsed or whose person was deactivated is absent)."""
    current = now()
    rows = await Session.filter(id__in=list(session_ids), revoked_at=None).values_list(
        *_SessionRow._fields
    )
    sessions = [s for s in map(_SessionRow._make, rows) if current < _expiry(s, timeouts)]
    staff_ids = {s.staff_id for s in sessions if s.staff_id is not None}
    account_ids = {s.account_id for s in sessions if s.staff_id is None and s.account_id}
    staff = (
        {
            row[0]: _StaffRow._make(row)
            for row in await Staff.filter(id__in=list(staff_ids)).values_list(*_StaffRow._fields)
        }
        if staff_ids
        else {}
    )
    accounts = await _accounts_with_clients(account_ids)
    found: dict[UUID, Principal] = {}
    for s in sessions:
        if s.staff_id is not None:
            principal = _staff_principal_of(s, staff.get(s.staff_id))
        else:
            account, client_ids = accounts.get(s.account_id, (None, frozenset()))
            principal = _portal_principal_of(s, account, client_ids)
        if principal is not None:
            found[s.id] = principal
    return found


async def _accounts_with_clients(
    account_ids: Collection[UUID | None],
) -> dict[UUID | None, tuple[PortalAccount, frozenset[UUID]]]:
    if not account_ids:
        return {}
    accounts = await PortalAccount.filter(id__in=list(account_ids)).only(
        "id", "is_active", "kind", "client_id"
    )
    represented: dict[UUID, set[UUID]] = {}
    reps = [a.id for a in accounts if a.kind != PortalAccountKind.CLIENT]
    if reps:
        rows = await Representative.filter(account_id__in=reps).values_list(
            "account_id", "client_id"
        )
        for account_id, client_id in rows:
            represented.setdefault(account_id, set()).add(client_id)
    result: dict[UUID | None, tuple[PortalAccount, frozenset[UUID]]] = {}
    for a in accounts:
        if a.kind == PortalAccountKind.CLIENT:
            clients = frozenset([a.client_id]) if a.client_id else frozenset()
        else:
            clients = frozenset(represented.get(a.id, ()))
        result[a.id] = (a, clients)
    return result


async def _live(session: Session | None, timeouts: Timeouts, *, touch: bool) -> LiveSession | None:
    if session is None:
        return None
    current = now()
    if current >= _expiry(session, timeouts):
        return None
    if touch and current - session.last_seen_at >= _TOUCH_EVERY:
        await Session.filter(id=session.id).update(last_seen_at=current)
        session.last_seen_at = current
    if session.staff_id is not None:
        principal = await _staff_principal(session)
    else:
        principal = await _portal_principal(session)
    return LiveSession(principal, _expiry(session, timeouts)) if principal else None


async def _staff_principal(session: Session) -> Principal | None:
    # Only what a principal needs: never the password hash on a request's path.
    staff = await Staff.filter(id=session.staff_id).only("id", "is_active", "permissions").first()
    return _staff_principal_of(session, staff)


def _staff_principal_of(
    session: Session | _SessionRow, staff: Staff | _StaffRow | None
) -> Principal | None:
    if staff is None or not staff.is_active:
        return None
    return Principal(
        agency_id=session.agency_id,
        session_id=session.id,
        staff_id=staff.id,
        permissions=frozenset(Permission(p) for p in staff.permissions),
    )


async def _portal_principal(session: Session) -> Principal | None:
    account = (
        await PortalAccount.filter(id=session.account_id)
        .only("id", "is_active", "kind", "client_id")
        .first()
    )
    if account is None or not account.is_active:
        return None
    return _portal_principal_of(session, account, await represented_clients(account))


def _portal_principal_of(
    session: Session | _SessionRow, account: PortalAccount | None, client_ids: frozenset[UUID]
) -> Principal | None:
    if account is None or not account.is_active:
        return None
    return Principal(
        agency_id=session.agency_id,
        session_id=session.id,
        account_id=account.id,
        account_kind=account.kind,
        client_ids=client_ids,
    )


async def represented_clients(account: PortalAccount) -> frozenset[UUID]:
    if account.kind == PortalAccountKind.CLIENT:
        client_id: UUID | None = account.client_id
        return frozenset([client_id]) if client_id else frozenset()
    ids = await Representative.filter(account_id=account.id).values_list("client_id", flat=True)
    return frozenset(ids)  # type: ignore[arg-type]


async def revoke(session_id: UUID) -> None:
    """Ends one session and tells every process (no transaction is open here)."""
    await Session.filter(id=session_id, revoked_at=None).update(revoked_at=now())
    channel = session_channel(session_id)
    PRINCIPALS.forget(channel)  # this process at once; the bus tells the others
    await events.publish(channel, change=ENDED)


async def revoke_all(*, staff_id: UUID | None = None, account_id: UUID | None = None) -> int:
    """Ends every session of one person (after a password reset, or deactivation). Usually
    runs inside the caller's transaction: the caller calls `announce` after it commits."""
    query = Session.filter(revoked_at=None)
    query = query.filter(staff_id=staff_id) if staff_id else query.filter(account_id=account_id)
    return await query.update(revoked_at=now())


# Events: who listens and what they do is app/websocket.py's business. Each names a session or
# a person; a listener re-checks its session from the database, so an event never has to say
# more than "look again".

ENDED = "ENDED"
ACCESS_CHANGED = "ACCESS_CHANGED"


def session_channel(session_id: UUID) -> str:
    return f"session:{session_id}"


def person_channel(*, staff_id: UUID | None = None, account_id: UUID | None = None) -> str:
    return f"staff:{staff_id}" if staff_id else f"account:{account_id}"


def channels_of(principal: Principal) -> tuple[str, str]:
    """What a socket of this principal listens to."""
    who = person_channel(staff_id=principal.staff_id, account_id=principal.account_id)
    return session_channel(principal.session_id), who


async def announce(
    change: str, *, staff_id: UUID | None = None, account_id: UUID | None = None
) -> None:
    """After commit: this person's sessions ended (ENDED) or their access changed
    (ACCESS_CHANGED); every process's open sockets of theirs re-check."""
    channel = person_channel(staff_id=staff_id, account_id=account_id)
    PRINCIPALS.forget(channel)  # this process at once; the bus tells the others
    await events.publish(channel, change=change)
