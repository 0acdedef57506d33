"""Per-request DataLoaders (strawberry.dataloader), built on first use and kept in the context.

They batch (one statement for every client of a page) but do not cache: a WebSocket keeps one
context for many operations, and a cached answer would outlive a change or a lost permission.
A loader reads the caller when it runs, for the same reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from app.context import Context, Info
from resolvers import modules as logic
from resolvers.errors import Forbidden
from resolvers.modules import Clinical
from resolvers.principal import Principal

V = TypeVar("V")
Batch = Callable[[Principal | None, list[UUID]], Awaitable[Sequence[V | BaseException]]]


def _loader(info: Info, name: str, batch: Batch[V]) -> DataLoader[UUID, V]:
    context: Context = info.context
    found: DataLoader[UUID, V] | None = context.loaders.get(name)
    if found is None:

        async def load(ids: list[UUID]) -> Sequence[V | BaseException]:
            return await batch(context.caller.principal, ids)

        found = DataLoader(load_fn=load, cache=False)
        context.loaders[name] = found
    return found


async def _visible(principal: Principal | None, ids: list[UUID]) -> list[bool]:
    seen = await logic.visible_ids(principal, ids)
    return [i in seen for i in ids]


async def staff_may_see(info: Info, client_id: UUID) -> None:
    """Refuses (FORBIDDEN) unless the signed-in staff member may see the client; batched."""
    if not await _loader(info, "VisibleClientById", _visible).load(client_id):
        raise Forbidden


async def _balances(_: Principal | None, ids: list[UUID]) -> list[int]:
    found = await logic.balances(ids)
    return [found[i] for i in ids]


async def _social(_: Principal | None, ids: list[UUID]) -> list[Any]:
    found = await logic.social_histories(ids)
    return [found.get(i) for i in ids]


async def _clinical(_: Principal | None, ids: list[UUID]) -> list[Clinical]:
    found = await logic.clinical_summaries(ids)
    return [found[i] for i in ids]


def balance_by_client(info: Info) -> DataLoader[UUID, int]:
    return _loader(info, "BalanceByClient", _balances)


def social_history_by_client(info: Info) -> DataLoader[UUID, Any]:
    return _loader(info, "SocialHistoryByClient", _social)


def clinical_by_client(info: Info) -> DataLoader[UUID, Clinical]:
    return _loader(info, "ClinicalByClient", _clinical)
