"""Field checks shared by every mutation. Each records a UserError naming the input field."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resolvers.errors import Collector, ErrorCode

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUBJECT_MAX = 200
MESSAGE_MAX = 10_000
NAME_MAX = 100


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def text(c: Collector, changes: dict[str, Any], key: str, max_len: int, required: bool) -> None:
    if key not in changes:
        return
    value = changes[key]
    if value is None or not str(value).strip():
        if required:
            c.add(ErrorCode.REQUIRED, camel(key), "This field cannot be empty.")
        return
    if len(value) > max_len:
        c.add(ErrorCode.TOO_LONG, camel(key), f"At most {max_len} characters.")


def int_range(c: Collector, changes: dict[str, Any], key: str, low: int, high: int) -> None:
    if key not in changes:
        return
    value = changes[key]
    if value is None or not low <= value <= high:
        c.add(ErrorCode.OUT_OF_RANGE, camel(key), f"Must be between {low} and {high}.")


def color(c: Collector, changes: dict[str, Any], key: str) -> None:
    if key not in changes:
        return
    value = changes[key]
    if value is None or not _COLOR.match(value):
        c.add(ErrorCode.INVALID_COLOR, camel(key), "Use a hex color such as #1F6FEB.")
    else:
        changes[key] = value.upper()


def email(c: Collector, changes: dict[str, Any], key: str, required: bool) -> None:
    if key not in changes:
        return
    value = changes[key]
    if value is None or not value.strip():
        if required:
            c.add(ErrorCode.REQUIRED, camel(key), "An e-mail address is required.")
        changes[key] = None
        return
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        c.add(ErrorCode.INVALID_EMAIL, camel(key), "This is not an e-mail address.")
    changes[key] = value


def time_zone(c: Collector, changes: dict[str, Any], key: str) -> None:
    if key not in changes:
        return
    try:
        ZoneInfo(changes[key])
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        c.add(
            ErrorCode.INVALID_TIME_ZONE,
            camel(key),
            "Use an IANA time zone such as America/Chicago.",
        )
