"""The list shape every paginated field returns: items plus the cursor of the next page."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(
    description="One page of a list: ask with `first` (page size, 50 by default, at most 100) "
    "and `after` (null for the first page); pass nextCursor as `after` for the next page."
)
class Page(Generic[T]):
    items: list[T] = strawberry.field(
        description="This page's rows, at most `first`, in a stable order (by id, not by name); "
        "empty when there are none."
    )
    next_cursor: str | None = strawberry.field(
        description="Opaque: pass it as `after` to get the next page. Null on the last page. "
        "An `after` this API did not give out is refused (GraphQL error, extensions.code "
        "BAD_USER_INPUT, extensions.field after)."
    )


First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size: 50 when left out, at most 100 (a larger number reads as 100)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="nextCursor of the previous page; left out (or null) for the first page. "
        "A value this API did not give out: BAD_USER_INPUT."
    ),
]
