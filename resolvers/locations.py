"""The agency's locations: where staff work, and the time zone their schedules follow."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise.transactions import in_transaction

from models.agency import Location
from resolvers import audit
from resolvers import validation as check
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.pagination import Page, paginate
from resolvers.principal import Caller
from resolvers.tenancy import get_scoped, scoped


async def locations(agency_id: UUID, first: int | None, after: str | None) -> Page[Location]:
    return await paginate(scoped(Location, agency_id), first, after)


async def location(agency_id: UUID, location_id: str) -> Location | None:
    return await get_scoped(Location, agency_id, location_id)


def _validate(changes: dict[str, Any]) -> None:
    c = Collector()
    check.text(c, changes, "name", check.NAME_MAX, required=True)
    check.text(c, changes, "address", check.ADDRESS_MAX, required=False)
    check.time_zone(c, changes, "time_zone")
    c.raise_if_any()
    for key in ("name", "address"):
        if key in changes:
            changes[key] = (changes[key] or "").strip()


async def create_location(caller: Caller, changes: dict[str, Any]) -> Location:
    principal = caller.principal
    assert principal is not None
    _validate(changes)
    async with in_transaction():
        row = await Location.create(agency_id=principal.agency_id, **changes)
        await audit.record(caller, "location.create", "Location", row.id)
    return row


async def update_location(caller: Caller, location_id: str, changes: dict[str, Any]) -> Location:
    principal = caller.principal
    assert principal is not None
    row = await location(principal.agency_id, location_id)
    if row is None:
        raise UserErrors([UserError(ErrorCode.NOT_FOUND, "No such location.", "id")])
    _validate(changes)
    async with in_transaction():
        row.update_from_dict(changes)
        await row.save(update_fields=list(changes) or None)
        await audit.record(caller, "location.update", "Location", row.id)
    return row
