"""Strawberry's Date, DateTime and Upload scalars with descriptions that say what this API
sends and accepts (time zones, formats, where an upload goes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from strawberry.file_uploads import Upload
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition

_DESCRIPTIONS: dict[object, str] = {
    date: "A calendar day, ISO 8601 (YYYY-MM-DD), such as 2024-03-31: no time and no time "
    "zone (a date of birth is the same day everywhere).",
    datetime: "An instant, ISO 8601 with its UTC offset, such as 2024-03-31T14:05:09.123456+00:00. "
    "Sent in UTC; show it in the viewer's or the location's time zone. Send an offset "
    "with every input value.",
    Upload: "A file sent with the GraphQL multipart request spec "
    "(https://github.com/jaydenseric/graphql-multipart-request-spec): the operation and a map "
    "in form fields, the file in its own part. Needs `Authorization: Bearer` on the request "
    "(an anonymous multipart request is refused before its body is read). Only in uploadLogo.",
}


# Days and instants an agency can mean. Python's own range (years 1 to 9999) let a date like
# 9999-12-31 reach day arithmetic and overflow inside a resolver (a masked 500); outside this
# range the value is refused where it is read, like any malformed Date.
FIRST_YEAR, LAST_YEAR = 1000, 2999


def _bounded(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_value(value: Any) -> Any:
        parsed = parse(value)
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise ValueError(f"years {FIRST_YEAR} to {LAST_YEAR} only")
        return parsed

    return parse_value


def described_scalars() -> dict[object, ScalarDefinition]:
    """For StrawberryConfig(scalar_map=...): the built-in scalars, described, with Date and
    DateTime held to years FIRST_YEAR..LAST_YEAR."""
    scalars = {}
    for origin, text in _DESCRIPTIONS.items():
        base = DEFAULT_SCALAR_REGISTRY[origin]
        changes: dict[str, Any] = {"description": text}
        if origin in (date, datetime) and base.parse_value is not None:
            changes["parse_value"] = _bounded(base.parse_value)
            changes["description"] = f"{text} Years {FIRST_YEAR} to {LAST_YEAR}."
        scalars[origin] = dataclasses.replace(base, **changes)
    return scalars
