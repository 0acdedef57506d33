"""Bookable slots: one pure function (no I/O, no clock), used by the listing and re-run by every
booking inside its transaction, so a listed slot is exactly a bookable one.

Rules
- A staff member's weekly windows are local times of day (minutes after local midnight, the end
  at most 1440) in the location's IANA zone. On each local calendar day of the range that is not
  a date off, each window of that weekday yields slots: the first starts at the window's start,
  each next one (length + break) later, in real elapsed time; a slot fits entirely in its window.
- A slot never starts before `now + notice` (so never in the past), and its local date is at most
  `horizon_days` after today's local date ("can't schedule more than N days in the future",
  counted in the location's calendar).
- `held` are the ranges active appointments and pending requests keep (slot_hold rows): each the
  appointment's time plus the staff member's break after it. A slot is offered only if its own
  time plus the break after it overlaps none of them, which keeps a full break on both sides of
  every appointment; PostgreSQL's exclusion constraint on slot_hold enforces the same condition.

Daylight saving (the location's zone decides)
- A window is anchored to the local wall clock each day, so 09:00-17:00 is 09:00-17:00 local on
  both transition days; appointments last real minutes.
- A wall time that does not exist (the spring-forward gap, 02:30 in America/New_York) stands
  for the instant the clocks jump (03:00 EDT): a window starting in the gap starts then, one
  ending in it ends then.
- A wall time that happens twice (the fall-back hour, 01:30) is taken at its first occurrence
  for a window's start and at its second for its end, so the window covers every instant whose
  local time lies inside it.
- Slots are returned in the location's zone, with the offset in force at each. Compare or
  subtract them in UTC: Python compares and subtracts two datetimes of the same zone by wall
  time, ignoring the offset (wrong across a change).
- Every computation here runs on UTC instants; `held` and `now` may be in any zone.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Window:
    """A weekly window: `weekday` 0 (Monday) to 6 (Sunday); local minutes [start, end)."""

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True, order=True)
class Interval:
    """[start, end) between two aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rules:
    """Everything about one staff member at one location that decides their slots."""

    zone: ZoneInfo
    windows: Sequence[Window]
    dates_off: frozenset[date]
    length_minutes: int
    break_minutes: int
    notice_hours: int
    horizon_days: int


def _naive(day: date, minute: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=minute)


def _round_trips(candidate: datetime, naive: datetime, zone: ZoneInfo) -> bool:
    return candidate.astimezone(zone).replace(tzinfo=None) == naive


def _jump_instant(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant of the clock jump between two UTC instants (a gap lasts whole minutes)."""
    offset_after = after.astimezone(zone).utcoffset()
    low, high = before, after  # low is before the jump, high at or after it
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high


def local_instant(day: date, minute: int, zone: ZoneInfo, *, latest: bool) -> datetime:
    """The UTC instant of a local wall time: for a repeated wall time the first occurrence, or
    the last when `latest`; for a skipped one the instant the clocks jump."""
    naive = _naive(day, minute)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    valid = [c for c in (first, second) if _round_trips(c, naive, zone)]
    if valid:
        return max(valid) if latest else min(valid)
    # In a gap, fold=0 reads the wall time with the offset before the jump (the later
    # instant), fold=1 with the offset after it (the earlier one); the jump lies between.
    return _jump_instant(min(first, second), max(first, second), zone)


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class _Held:
    """Held ranges sorted by start, for overlap tests in O(log n) each."""

    def __init__(self, held: Iterable[Interval]) -> None:
        self.ranges = sorted(held)
        self.starts = [r.start for r in self.ranges]
        # Longest range, so a search back from `end` can stop early.
        self.longest = max((r.end - r.start for r in self.ranges), default=timedelta(0))

    def overlaps(self, start: datetime, end: datetime) -> bool:
        index = bisect.bisect_left(self.starts, end)  # ranges starting before `end`
        while index > 0:
            index -= 1
            held = self.ranges[index]
            if held.start + self.longest <= start:
                return False
            if held.end > start:
                return True
        return False


def bookable_slots(
    rules: Rules,
    held: Iterable[Interval],
    now: datetime,
    first_day: date,
    last_day: date,
) -> list[Interval]:
    """The slots of local days first_day..last_day (inclusive), in order of start."""
    length = timedelta(minutes=rules.length_minutes)
    step = timedelta(minutes=rules.length_minutes + rules.break_minutes)
    brk = timedelta(minutes=rules.break_minutes)
    earliest = now.astimezone(UTC) + timedelta(hours=rules.notice_hours)
    today = now.astimezone(rules.zone).date()
    last_day = min(last_day, today + timedelta(days=rules.horizon_days))
    first_day = max(first_day, today)
    taken = _Held(Interval(h.start.astimezone(UTC), h.end.astimezone(UTC)) for h in held)
    by_weekday: dict[int, list[Window]] = {}
    for window in rules.windows:
        by_weekday.setdefault(window.weekday, []).append(window)
    slots: list[Interval] = []
    for day in _days(first_day, last_day):
        if day in rules.dates_off:
            continue
        for window in by_weekday.get(day.weekday(), []):
            start = local_instant(day, window.start_minute, rules.zone, latest=False)
            end = local_instant(day, window.end_minute, rules.zone, latest=True)
            while start + length <= end:
                if start >= earliest and not taken.overlaps(start, start + length + brk):
                    slots.append(Interval(start, start + length))
                start += step
    # Sorted in UTC: Python compares two datetimes of one zone by wall time, ignoring fold.
    slots.sort()
    return [Interval(s.start.astimezone(rules.zone), s.end.astimezone(rules.zone)) for s in slots]


def is_bookable(
    rules: Rules, held: Iterable[Interval], now: datetime, start: datetime
) -> Interval | None:
    """The slot starting exactly at `start` if it is bookable now, else None: what a booking
    re-checks inside its transaction."""
    local_day = start.astimezone(rules.zone).date()
    # A window near midnight may produce a slot whose local date is the day after the window's
    # own day only if the window crossed midnight, which windows never do; one day suffices.
    wanted = start.astimezone(UTC)
    for slot in bookable_slots(rules, held, now, local_day, local_day):
        if slot.start.astimezone(UTC) == wanted:
            return slot
    return None


def hold_of(start: datetime, end: datetime, break_minutes: int) -> Interval:
    """The range an appointment from start to end keeps: its time and the break after it."""
    return Interval(start, end + timedelta(minutes=break_minutes))
