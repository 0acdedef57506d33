"""Keyset pagination over any scoped queryset: opaque cursors, capped page size."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from resolvers.errors import ErrorCode, UserError, UserErrors

M = TypeVar("M", bound=Model)
T = TypeVar("T")
DEFAULT_PAGE = 50
# The largest page any list gives (the schema's `first` descriptions say 100).
PAGE_CAP = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows, or views built from them, and the cursor of the next page."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(row_id: UUID) -> str:
    return base64.urlsafe_b64encode(row_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> UUID:
    try:
        return UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise UserErrors([UserError(ErrorCode.INVALID, "Not a cursor.", "after")]) from exc


def page_size(first: int | None, cap: int) -> int:
    """`first`, or the default page; a `first` outside 1..cap is refused, never clamped
    (a client asking for -1 or 10,000 rows has a bug it should hear about)."""
    if first is None:
        return min(DEFAULT_PAGE, cap)
    if not 1 <= first <= cap:
        raise UserErrors([UserError(ErrorCode.INVALID, f"Between 1 and {cap}.", "first")])
    return first


async def paginate(
    query: QuerySet[M], first: int | None, after: str | None, cap: int = PAGE_CAP
) -> Page[M]:
    """Rows ordered by id after the cursor, at most `first` (1..cap) of them."""
    size = page_size(first, cap)
    if after:
        query = query.filter(id__gt=decode_cursor(after))
    rows = await query.order_by("id").limit(size + 1)
    more = len(rows) > size
    items = rows[:size]
    return Page(items, encode_cursor(items[-1].pk) if more and items else None)


def _keyed_cursor(value: date | datetime, row_id: UUID) -> str:
    raw = f"{value.isoformat()}|{row_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_keyed(cursor: str) -> tuple[date | datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        text, _, hex_id = raw.partition("|")
        value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        return value, UUID(hex=hex_id)
    except ValueError as exc:
        raise UserErrors([UserError(ErrorCode.INVALID, "Not a cursor.", "after")]) from exc


async def paginate_newest(
    query: QuerySet[M], first: int | None, after: str | None, key: str, cap: int = PAGE_CAP
) -> Page[M]:
    """Rows newest first by `key` (a date or time column), ties by id, after the cursor; the
    cursor holds both, so a page stays stable while rows are added above it."""
    size = page_size(first, cap)
    if after:
        value, row_id = _decode_keyed(after)
        earlier: dict[str, Any] = {f"{key}__lt": value}
        tied: dict[str, Any] = {key: value, "id__lt": row_id}
        query = query.filter(Q(**earlier) | Q(**tied))
    rows = await query.order_by(f"-{key}", "-id").limit(size + 1)
    items = rows[:size]
    if len(rows) <= size or not items:
        return Page(items, None)
    last = items[-1]
    return Page(items, _keyed_cursor(getattr(last, key), last.pk))
