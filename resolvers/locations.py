"""The agency's locations: where staff work, and the time zone their schedules follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise import connections
from tortoise.transactions import in_transaction

from models.agency import Location
from resolvers import audit
from resolvers import validation as check
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.pagination import PAGE_CAP, Page, decode_cursor, encode_cursor, page_size
from resolvers.principal import Caller
from resolvers.tenancy import get_scoped


@dataclass(slots=True)
class LocationItem:
    """A row of the list, shaped as the API's Location (the same attribute names, the id as its
    opaque string), so schema/staff.py serves the rows as they are: a second object per row
    was a tenth of the request's CPU. Not frozen: a frozen __init__ costs a setattr call per
    field, per row."""

    id: str
    name: str
    address: str
    time_zone: str


# The list is the hottest read staff make: one fixed statement (asyncpg prepares it once per
# connection) and plain rows instead of building the query and a model per row each time. Same
# rows and order as resolvers/pagination.paginate over scoped(Location, agency_id).
_LIST = (
    "SELECT id, name, address, time_zone FROM location WHERE agency_id = {0}{after} "
    "ORDER BY id LIMIT {limit}"
)


def _list_sql(dialect: str, after: bool) -> str:
    marks = ["$1", "$2", "$3"] if dialect == "postgres" else ["?", "?", "?"]
    return _LIST.format(
        marks[0],
        after=f" AND id > {marks[1]}" if after else "",
        limit=marks[2] if after else marks[1],
    )


async def locations(agency_id: UUID, first: int | None, after: str | None) -> Page[LocationItem]:
    size = page_size(first, PAGE_CAP)
    db = connections.get("default")
    postgres = db.capabilities.dialect == "postgres"
    agency: Any = agency_id if postgres else str(agency_id)
    params: list[Any] = [agency]
    if after:
        cursor = decode_cursor(after)
        params.append(cursor if postgres else str(cursor))
    params.append(size + 1)
    sql = _list_sql(db.capabilities.dialect, bool(after))
    _, rows = await db.execute_query(sql, params)
    items = [
        LocationItem(str(r["id"]), r["name"], r["address"], r["time_zone"]) for r in rows[:size]
    ]
    more = len(rows) > size and bool(items)
    return Page(items, encode_cursor(_uuid(rows[size - 1]["id"])) if more else None)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


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
