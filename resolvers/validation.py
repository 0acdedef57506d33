"""Field checks shared by every mutation. Each records a UserError naming the input field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emails.render import MESSAGE_MAX as MESSAGE_MAX_MAIL
from emails.render import SUBJECT_MAX, MailKind, wording_problem
from resolvers.errors import Collector, ErrorCode

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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
    if value is None or not _COLOR.fullmatch(value):
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


# The longest IANA name is about 30 characters; models.agency.Location.time_zone holds 64.
TIME_ZONE_MAX = 64


def _is_time_zone(value: object) -> bool:
    if not isinstance(value, str) or len(value) > TIME_ZONE_MAX:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ZoneInfo opens a file named by the value: OSError for a name the OS refuses.
        return False
    return True


def time_zone(c: Collector, changes: dict[str, Any], key: str) -> None:
    if key not in changes:
        return
    if not _is_time_zone(changes[key]):
        c.add(
            ErrorCode.INVALID_TIME_ZONE,
            camel(key),
            "Use an IANA time zone such as America/Chicago.",
        )


ADDRESS_MAX = 500


def not_null(c: Collector, changes: dict[str, Any], key: str) -> None:
    """For a partial update: the field may be left out, but not set to null."""
    if key in changes and changes[key] is None:
        c.add(ErrorCode.REQUIRED, camel(key), "This field cannot be null.")


EARLIEST_DATE = date(1900, 1, 1)


def trimmed(c: Collector, changes: dict[str, Any], key: str, max_len: int, required: bool) -> None:
    """Like `text`, after stripping surrounding blanks from the stored value."""
    if isinstance(changes.get(key), str):
        changes[key] = changes[key].strip()
    text(c, changes, key, max_len, required)


def past_date(
    c: Collector, changes: dict[str, Any], key: str, latest: date, earliest: date = EARLIEST_DATE
) -> None:
    """A calendar day that has already come (None is left to the caller)."""
    value = changes.get(key)
    if value is None:
        return
    if value > latest:
        c.add(ErrorCode.OUT_OF_RANGE, camel(key), "This date cannot be in the future.")
    elif value < earliest:
        c.add(ErrorCode.OUT_OF_RANGE, camel(key), f"This date cannot be before {earliest}.")


def mail_wording(c: Collector, changes: dict[str, Any], key: str, kind: MailKind) -> None:
    """E-mail wording: required, bounded, and only plain {{ name }} placeholders that its kind
    of mail has (emails/wording.py): an unknown name would render as nothing useful, and an
    expression could make a huge e-mail or a long render."""
    is_subject = key.endswith("_subject")
    text(c, changes, key, SUBJECT_MAX if is_subject else MESSAGE_MAX_MAIL, required=True)
    value = changes.get(key)
    if not isinstance(value, str) or any(e.field == camel(key) for e in c.errors):
        return
    problem = wording_problem(kind, value, len(value))
    if problem is None:
        return
    code = ErrorCode.INVALID_TEMPLATE if problem.reason == "expression" else None
    c.add(code or ErrorCode.INVALID_PLACEHOLDER, camel(key), problem.message)
