"""The pure slot function: direct examples (both daylight-saving changes of America/New_York)
and properties over random calendars."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.slots import Interval, Rules, Window, bookable_slots, hold_of, is_bookable

NY = ZoneInfo("America/New_York")
# 2026: clocks go forward Sunday 8 March 02:00 -> 03:00, back Sunday 1 November 02:00 -> 01:00.
SPRING = date(2026, 3, 8)
FALL = date(2026, 11, 1)
NINE_TO_FIVE = 9 * 60, 17 * 60


def rules(
    windows: list[Window],
    *,
    length: int = 50,
    brk: int = 10,
    notice: int = 0,
    horizon: int = 1000,
    off: frozenset[date] = frozenset(),
    zone: ZoneInfo = NY,
) -> Rules:
    return Rules(zone, windows, off, length, brk, notice, horizon)


def every_day(start: int, end: int) -> list[Window]:
    return [Window(weekday, start, end) for weekday in range(7)]


def local(slot: Interval) -> tuple[str, str]:
    return slot.start.strftime("%H:%M%z"), slot.end.strftime("%H:%M%z")


LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def test_slots_start_at_the_window_start_and_step_by_length_plus_break() -> None:
    day = date(2026, 6, 1)  # a Monday
    slots = bookable_slots(rules([Window(0, 9 * 60, 12 * 60)]), [], LONG_AGO, day, day)
    assert [local(s) for s in slots] == [
        ("09:00-0400", "09:50-0400"),
        ("10:00-0400", "10:50-0400"),
        ("11:00-0400", "11:50-0400"),
    ]


def test_a_slot_must_fit_entirely_in_its_window() -> None:
    day = date(2026, 6, 1)
    slots = bookable_slots(rules([Window(0, 9 * 60, 10 * 60 + 49)]), [], LONG_AGO, day, day)
    assert [local(s)[0] for s in slots] == ["09:00-0400"]


def test_a_nine_to_five_window_stays_local_on_the_spring_forward_day() -> None:
    slots = bookable_slots(rules(every_day(*NINE_TO_FIVE)), [], LONG_AGO, SPRING, SPRING)
    assert local(slots[0]) == ("09:00-0400", "09:50-0400")
    assert local(slots[-1]) == ("16:00-0400", "16:50-0400")
    assert len(slots) == 8
    # the day before is still standard time, same local hours
    before = bookable_slots(
        rules(every_day(*NINE_TO_FIVE)), [], LONG_AGO, SPRING - timedelta(1), SPRING
    )
    assert local(before[0]) == ("09:00-0500", "09:50-0500")


def test_a_nine_to_five_window_stays_local_on_the_fall_back_day() -> None:
    slots = bookable_slots(rules(every_day(*NINE_TO_FIVE)), [], LONG_AGO, FALL, FALL)
    assert local(slots[0]) == ("09:00-0500", "09:50-0500")
    assert local(slots[-1]) == ("16:00-0500", "16:50-0500")
    assert len(slots) == 8


def test_a_window_across_the_spring_gap_loses_the_skipped_hour() -> None:
    # 01:00-05:00 local is three real hours that day; 60-minute slots, no break
    slots = bookable_slots(
        rules(every_day(60, 5 * 60), length=60, brk=0), [], LONG_AGO, SPRING, SPRING
    )
    assert [local(s) for s in slots] == [
        ("01:00-0500", "03:00-0400"),
        ("03:00-0400", "04:00-0400"),
        ("04:00-0400", "05:00-0400"),
    ]


def test_a_window_starting_in_the_spring_gap_starts_when_the_clocks_jump() -> None:
    slots = bookable_slots(
        rules(every_day(2 * 60 + 30, 5 * 60), length=60, brk=0), [], LONG_AGO, SPRING, SPRING
    )
    assert [local(s)[0] for s in slots] == ["03:00-0400", "04:00-0400"]


def test_a_window_ending_in_the_spring_gap_ends_when_the_clocks_jump() -> None:
    slots = bookable_slots(
        rules(every_day(0, 2 * 60 + 30), length=60, brk=0), [], LONG_AGO, SPRING, SPRING
    )
    assert [local(s) for s in slots] == [
        ("00:00-0500", "01:00-0500"),
        ("01:00-0500", "03:00-0400"),
    ]


def test_a_window_across_the_repeated_hour_covers_both_passes() -> None:
    # 01:00-02:00 local happens twice: the window runs from the first 01:00 to 02:00 EST
    slots = bookable_slots(rules(every_day(60, 2 * 60), length=60, brk=0), [], LONG_AGO, FALL, FALL)
    assert [local(s) for s in slots] == [
        ("01:00-0400", "01:00-0500"),
        ("01:00-0500", "02:00-0500"),
    ]


def test_past_slots_and_slots_inside_the_notice_are_not_offered() -> None:
    day = date(2026, 6, 1)
    now = datetime(2026, 6, 1, 10, 5, tzinfo=NY)
    slots = bookable_slots(rules(every_day(*NINE_TO_FIVE)), [], now, day, day)
    assert local(slots[0])[0] == "11:00-0400"
    with_notice = bookable_slots(rules(every_day(*NINE_TO_FIVE), notice=3), [], now, day, day)
    assert local(with_notice[0])[0] == "14:00-0400"


def test_the_horizon_counts_days_in_the_location_calendar() -> None:
    # 23:30 in New York is already the next day in UTC; the horizon counts from the local date
    now = datetime(2026, 6, 1, 23, 30, tzinfo=NY)
    slots = bookable_slots(
        rules(every_day(*NINE_TO_FIVE), horizon=2), [], now, date(2026, 6, 1), date(2026, 6, 30)
    )
    assert {s.start.date() for s in slots} == {date(2026, 6, 2), date(2026, 6, 3)}


def test_dates_off_have_no_slots() -> None:
    off = frozenset({date(2026, 6, 2)})
    slots = bookable_slots(
        rules(every_day(*NINE_TO_FIVE), off=off), [], LONG_AGO, date(2026, 6, 1), date(2026, 6, 3)
    )
    assert {s.start.date() for s in slots} == {date(2026, 6, 1), date(2026, 6, 3)}


def test_a_held_appointment_keeps_its_break_on_both_sides() -> None:
    day = date(2026, 6, 1)
    # an appointment 10:30-11:20 with the 10-minute break after it
    held = [
        hold_of(
            datetime(2026, 6, 1, 10, 30, tzinfo=NY), datetime(2026, 6, 1, 11, 20, tzinfo=NY), 10
        )
    ]
    slots = bookable_slots(rules([Window(0, 9 * 60, 13 * 60)]), held, LONG_AGO, day, day)
    # 10:00 would end at 10:50 (into it), 11:00 starts inside it; 09:00 ends 09:50 + break 10:00
    assert [local(s)[0] for s in slots] == ["09:00-0400", "12:00-0400"]


def test_is_bookable_is_exactly_the_listing() -> None:
    day = date(2026, 6, 1)
    r = rules([Window(0, 9 * 60, 12 * 60)])
    listed = bookable_slots(r, [], LONG_AGO, day, day)
    for slot in listed:
        assert is_bookable(r, [], LONG_AGO, slot.start) == slot
    assert is_bookable(r, [], LONG_AGO, listed[0].start + timedelta(minutes=5)) is None


# --- properties -------------------------------------------------------------------------------

ZONES = st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"])


@st.composite
def windows(draw: st.DrawFn) -> list[Window]:
    found: list[Window] = []
    for weekday in range(7):
        cursor = 0
        for _ in range(draw(st.integers(0, 3))):
            start = draw(st.integers(cursor, MINUTES - 30))
            end = draw(st.integers(start + 15, min(start + 600, MINUTES)))
            found.append(Window(weekday, start, end))
            cursor = end
            if cursor >= MINUTES - 30:
                break
    return found


MINUTES = 24 * 60


@settings(max_examples=200, deadline=None)
@given(
    zone_name=ZONES,
    weekly=windows(),
    length=st.integers(5, 120),
    brk=st.integers(0, 60),
    notice=st.integers(0, 48),
    horizon=st.integers(0, 40),
    first=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    span=st.integers(0, 20),
    now_offset_minutes=st.integers(-3 * MINUTES, 20 * MINUTES),
    busy_spec=st.lists(st.tuples(st.integers(0, 25 * MINUTES), st.integers(5, 180)), max_size=12),
)
def test_slot_properties(
    zone_name: str,
    weekly: list[Window],
    length: int,
    brk: int,
    notice: int,
    horizon: int,
    first: date,
    span: int,
    now_offset_minutes: int,
    busy_spec: list[tuple[int, int]],
) -> None:
    zone = ZoneInfo(zone_name)
    base = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    now = base + timedelta(minutes=now_offset_minutes)
    last = first + timedelta(days=span)
    busy = [
        Interval(base + timedelta(minutes=s), base + timedelta(minutes=s + d)) for s, d in busy_spec
    ]
    held = [hold_of(b.start, b.end, brk) for b in busy]
    r = rules(weekly, length=length, brk=brk, notice=notice, horizon=horizon, zone=zone)
    slots = bookable_slots(r, held, now, first, last)

    today = now.astimezone(zone).date()
    gap = timedelta(minutes=brk)
    for slot in slots:
        # aware, in the location's zone, exactly `length` long
        assert slot.start.tzinfo is not None
        assert utc(slot.end) - utc(slot.start) == timedelta(minutes=length)
        # not in the past, not inside the notice, inside the horizon and the asked range
        assert slot.start >= now + timedelta(hours=notice)
        day = slot.start.astimezone(zone).date()
        assert first <= day <= last
        assert day <= today + timedelta(days=horizon)
        # a full break from every busy appointment, on both sides
        for b in busy:
            assert slot.end + gap <= b.start or b.end + gap <= slot.start
        # inside one window of its local day, on that window's grid
        assert any(_on_grid(slot, w, day, zone, length + brk) for w in weekly)
    # ordered, no two overlapping
    for a, b in itertools.pairwise(slots):
        assert utc(a.end) <= utc(b.start)
    # what the listing shows is exactly what a booking accepts
    for slot in slots[:5]:
        found = is_bookable(r, held, now, slot.start)
        assert found is not None and utc(found.start) == utc(slot.start)


def utc(moment: datetime) -> datetime:
    """Compare in UTC: two datetimes of one zone compare by wall time, ignoring the offset."""
    return moment.astimezone(UTC)


def _on_grid(slot: Interval, window: Window, day: date, zone: ZoneInfo, step: int) -> bool:
    from resolvers.slots import local_instant

    if window.weekday != day.weekday():
        return False
    start = local_instant(day, window.start_minute, zone, latest=False)
    end = local_instant(day, window.end_minute, zone, latest=True)
    offset = slot.start - start
    return (
        start <= slot.start and slot.end <= end and offset % timedelta(minutes=step) == timedelta(0)
    )


@settings(max_examples=100, deadline=None)
@given(zone_name=ZONES, day=st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_a_nine_to_five_window_is_nine_to_five_local_every_day(zone_name: str, day: date) -> None:
    zone = ZoneInfo(zone_name)
    r = rules(every_day(*NINE_TO_FIVE), zone=zone, horizon=2000)
    slots = bookable_slots(r, [], LONG_AGO, day, day)
    assert [s.start.astimezone(zone).strftime("%H:%M") for s in slots] == [
        f"{h:02d}:00" for h in range(9, 17)
    ]
