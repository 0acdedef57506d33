"""The list shape every paginated field returns: items plus the cursor of the next page."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(description="One page of a list; pass nextCursor as `after` for the next.")
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = strawberry.field(description="Null on the last page.")
