"""bookableSlots without staffId: the whole care team's slots at one location, through the API,
in a constant number of SQL statements (issue 7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models.agency import Location
from models.clients import CareTeamMember, Client, Representative
from models.scheduling import AvailabilityWindow, DateOff, SlotHold, StaffSchedule
from models.staff import Staff, StaffLocation
from tests.factories import Api, World, make_staff
from tests.statements import statements_of
from tests.test_scheduling import MONDAY, SLOTS, _fixed_now, book_at, ready

__all__ = ["_fixed_now"]  # the fixed clock of test_scheduling applies here too


async def clinician(
    world: World,
    name: str,
    *,
    start: int = 9 * 60,
    end: int = 12 * 60,
    shown: bool = True,
    on_team: bool = True,
    location: Location | None = None,
) -> Staff:
    """Another clinician offering every weekday start..end (local minutes) at a location."""
    where = location or world.location
    staff = await make_staff(world.agency, f"{name}@a.test", [])
    await StaffLocation.create(staff=staff, location=where, is_default=True)
    await StaffSchedule.create(agency=world.agency, staff=staff, shown_in_portal=shown)
    await AvailabilityWindow.bulk_create(
        [
            AvailabilityWindow(
                agency=world.agency,
                staff=staff,
                location=where,
                weekday=day,
                start_minute=start,
                end_minute=end,
            )
            for day in range(7)
        ]
    )
    if on_team:
        await CareTeamMember.create(client=world.client, staff=staff)
    return staff


def days(world: World, count: int = 1, **extra: Any) -> dict[str, Any]:
    last = MONDAY + timedelta(days=count - 1)
    return {
        "input": {
            "locationId": str(world.location.id),
            "from": MONDAY.isoformat(),
            "to": last.isoformat(),
            **extra,
        }
    }


def of(staff: Staff, variables: dict[str, Any]) -> dict[str, Any]:
    return {"input": {**variables["input"], "staffId": str(staff.id)}}


def in_order(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(slots, key=lambda s: (datetime.fromisoformat(s["start"]), s["staffId"]))


async def test_the_location_lists_the_union_of_its_care_teams_slots(api: Api) -> None:
    world, _, client = await ready(api)
    second = await clinician(world, "second", start=10 * 60, end=13 * 60)
    third = await clinician(world, "third", start=9 * 60 + 30, end=11 * 60)
    await DateOff.create(agency=world.agency, staff=third, day=MONDAY + timedelta(days=1))
    await book_at(api, world, client, "2026-06-01T10:00:00-05:00")  # the first clinician's
    week = days(world, 7)
    everyone = (await api.data(SLOTS, week, client))["bookableSlots"]
    each: list[dict[str, Any]] = []
    for staff in (world.clinician, second, third):
        each += (await api.data(SLOTS, of(staff, week), client))["bookableSlots"]
    assert len(everyone) > 0
    assert everyone == in_order(each)
    assert {s["staffId"] for s in everyone} == {str(s.id) for s in (world.clinician, second, third)}
    # 10:00 Monday: the first clinician is booked, the second is free
    at_ten = [s["staffId"] for s in everyone if s["start"] == "2026-06-01T10:00:00-05:00"]
    assert at_ten == [str(second.id)]
    # the third clinician's day off lists none of theirs on Tuesday
    tuesday = [s for s in everyone if s["start"].startswith("2026-06-02")]
    assert str(third.id) not in {s["staffId"] for s in tuesday}


async def test_staff_off_the_team_elsewhere_hidden_or_inactive_are_left_out(api: Api) -> None:
    world, _, client = await ready(api)
    other_place = await Location.create(
        agency=world.agency, name="East", time_zone="America/Chicago"
    )
    await clinician(world, "stranger", on_team=False)
    await clinician(world, "east", location=other_place)
    await clinician(world, "hidden", shown=False)
    gone = await clinician(world, "gone")
    await Staff.filter(id=gone.id).update(is_active=False)
    found = (await api.data(SLOTS, days(world), client))["bookableSlots"]
    assert {s["staffId"] for s in found} == {str(world.clinician.id)}
    assert {s["locationId"] for s in found} == {str(world.location.id)}
    # East has a clinician on the team: their slots there, nobody else's
    east = {"input": {**days(world)["input"], "locationId": str(other_place.id)}}
    found = (await api.data(SLOTS, east, client))["bookableSlots"]
    assert len(found) == 3 and all(s["locationId"] == str(other_place.id) for s in found)
    assert str(world.clinician.id) not in {s["staffId"] for s in found}


async def test_location_wide_needs_a_location_of_the_agency(api: Api) -> None:
    world, staff, client = await ready(api)
    body = await api.post(SLOTS, {"input": {"from": "2026-06-01", "to": "2026-06-01"}}, client)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "locationId"}
    assert "location" in body["errors"][0]["message"]
    body = await api.post(SLOTS, days(world, locationId="not-an-id"), client)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "locationId"}
    # staff get no portal slots, location-wide or not; nor do strangers
    assert await api.error_code(SLOTS, days(world), staff) == "FORBIDDEN"
    assert await api.error_code(SLOTS, days(world)) == "UNAUTHENTICATED"
    too_long = days(world, 94)
    body = await api.post(SLOTS, too_long, client)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "to"}


async def test_a_representative_of_two_clients_names_the_client_location_wide(api: Api) -> None:
    world, _, _ = await ready(api)
    other = await Client.create(agency=world.agency, first_name="Sam", last_name="Sibling")
    await Representative.create(
        agency=world.agency,
        client=other,
        first_name="Gale",
        last_name="Guardian",
        email="guardian@c.test",
        account=world.representative_account,
    )
    rep = await api.portal_token(world.agency, "guardian")
    body = await api.post(SLOTS, days(world), rep)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "clientId"}
    robin = await api.data(SLOTS, days(world, clientId=str(world.client.id)), rep)
    assert len(robin["bookableSlots"]) == 3
    # Sam's care team is empty: nothing listed, nothing of Robin's clinician
    sam = (await api.data(SLOTS, days(world, clientId=str(other.id)), rep))["bookableSlots"]
    assert sam == []
    stranger = days(world, clientId=str(world.agency.id))
    assert await api.error_code(SLOTS, stranger, rep) == "FORBIDDEN"


async def statements(api: Api, variables: dict[str, Any], token: str) -> tuple[int, int]:
    """(SQL statements, slots) of one bookableSlots call, on a warm session."""
    seen, data = await statements_of(api, SLOTS, variables, token)
    return len(seen), len(data["bookableSlots"])


async def test_statements_do_not_grow_with_the_staff_or_the_range(api: Api) -> None:
    world, _, client = await ready(api)
    one_week = await statements(api, days(world, 7), client)
    one_month = await statements(api, days(world, 30), client)
    for name in ("second", "third"):
        staff = await clinician(world, name)
        await DateOff.create(agency=world.agency, staff=staff, day=MONDAY + timedelta(days=2))
    await book_at(api, world, client, "2026-06-08T09:00:00-05:00")
    assert await SlotHold.filter(staff_id=world.clinician.id).exists()
    three_week = await statements(api, days(world, 7), client)
    three_month = await statements(api, days(world, 30), client)
    assert one_week[1] < one_month[1] < three_month[1] and one_week[1] < three_week[1]
    assert one_week[0] == one_month[0] == three_week[0] == three_month[0]
