"""Strawberry's Date, DateTime and Upload scalars with descriptions that say what this API
sends and accepts (time zones, formats, where an upload goes)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

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


def described_scalars() -> dict[object, ScalarDefinition]:
    """For StrawberryConfig(scalar_map=...): the built-in scalars, described."""
    return {
        origin: dataclasses.replace(DEFAULT_SCALAR_REGISTRY[origin], description=text)
        for origin, text in _DESCRIPTIONS.items()
    }
