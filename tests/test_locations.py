from __future__ import annotations

from typing import Any

from models.agency import Location
from models.audit import AuditEvent
from tests.factories import Api, make_world

LOCATION_FIELDS = "id name address timeZone"

LOCATIONS = f"""
query ($first: Int, $after: String) {{
  locations(first: $first, after: $after) {{ items {{ {LOCATION_FIELDS} }} nextCursor }}
}}"""

LOCATION = f"query ($id: ID!) {{ location(id: $id) {{ {LOCATION_FIELDS} }} }}"

CREATE_LOCATION = f"""
mutation ($input: CreateLocationInput!) {{
  createLocation(input: $input) {{
    location {{ {LOCATION_FIELDS} }} errors {{ code field message }}
  }}
}}"""

UPDATE_LOCATION = f"""
mutation ($input: UpdateLocationInput!) {{
  updateLocation(input: $input) {{
    location {{ {LOCATION_FIELDS} }} errors {{ code field message }}
  }}
}}"""


def error_fields(payload: dict[str, Any]) -> dict[str | None, str]:
    return {e["field"]: e["code"] for e in payload["errors"]}


async def test_a_manager_creates_a_location_every_staff_member_can_see(api: Api) -> None:
    # given
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    new = {"name": " North Clinic ", "address": "1 Elm St", "timeZone": "America/New_York"}
    # when
    created = (await api.data(CREATE_LOCATION, {"input": new}, champion))["createLocation"]
    listed = (await api.data(LOCATIONS, token=clinician))["locations"]
    # then
    assert created["errors"] == []
    location = created["location"]
    assert location["name"] == "North Clinic"
    assert location["address"] == "1 Elm St"
    assert location["timeZone"] == "America/New_York"
    assert {item["name"] for item in listed["items"]} == {"Main", "North Clinic"}
    read = await api.data(LOCATION, {"id": location["id"]}, clinician)
    assert read["location"] == location


async def test_a_location_without_an_address_has_an_empty_one(api: Api) -> None:
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    new = {"name": "Annex", "timeZone": "America/Denver"}
    created = (await api.data(CREATE_LOCATION, {"input": new}, champion))["createLocation"]
    assert created["location"]["address"] == ""


async def test_update_location_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    changes = {"id": str(world.location.id), "name": "Downtown", "timeZone": "America/Phoenix"}
    # when
    updated = (await api.data(UPDATE_LOCATION, {"input": changes}, champion))["updateLocation"]
    # then
    assert updated["errors"] == []
    row = await Location.get(id=world.location.id)
    assert (row.name, row.time_zone, row.address) == ("Downtown", "America/Phoenix", "")
    read = await api.data(LOCATION, {"id": str(row.id)}, champion)
    assert read["location"]["name"] == "Downtown"


async def test_bad_time_zone_and_empty_name_are_refused_naming_each_field(api: Api) -> None:
    # given
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    bad = {"name": "   ", "timeZone": "Mars/Olympus_Mons"}
    # when
    result = (await api.data(CREATE_LOCATION, {"input": bad}, champion))["createLocation"]
    # then
    assert result["location"] is None
    assert error_fields(result) == {"name": "REQUIRED", "timeZone": "INVALID_TIME_ZONE"}
    assert await Location.filter(agency_id=world.agency.id).count() == 1


async def test_a_name_over_100_characters_is_too_long(api: Api) -> None:
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    bad = {"name": "x" * 101, "timeZone": "UTC"}
    result = (await api.data(CREATE_LOCATION, {"input": bad}, champion))["createLocation"]
    assert error_fields(result) == {"name": "TOO_LONG"}


async def test_a_rejected_update_leaves_the_location_unchanged(api: Api) -> None:
    # given
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    changes = {"id": str(world.location.id), "name": "Renamed", "timeZone": "Nowhere/Special"}
    # when
    result = (await api.data(UPDATE_LOCATION, {"input": changes}, champion))["updateLocation"]
    # then
    assert error_fields(result) == {"timeZone": "INVALID_TIME_ZONE"}
    row = await Location.get(id=world.location.id)
    assert (row.name, row.time_zone) == ("Main", "America/Chicago")


async def test_null_name_or_time_zone_on_update_is_refused(api: Api) -> None:
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    changes = {"id": str(world.location.id), "name": None, "timeZone": None}
    result = (await api.data(UPDATE_LOCATION, {"input": changes}, champion))["updateLocation"]
    assert error_fields(result) == {"name": "REQUIRED", "timeZone": "INVALID_TIME_ZONE"}
    assert (await Location.get(id=world.location.id)).name == "Main"


async def test_another_agencys_malformed_and_unknown_ids_look_the_same(api: Api) -> None:
    # given
    world, other = await make_world(), await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    ids = [str(other.location.id), "not-an-id", "00000000-0000-0000-0000-000000000000"]
    # when
    reads = [await api.data(LOCATION, {"id": i}, champion) for i in ids]
    updates = [
        (await api.data(UPDATE_LOCATION, {"input": {"id": i, "name": "Mine"}}, champion))
        for i in ids
    ]
    # then
    assert all(read["location"] is None for read in reads)
    assert updates[0] == updates[1] == updates[2]
    assert updates[0]["updateLocation"]["location"] is None
    assert error_fields(updates[0]["updateLocation"]) == {"id": "NOT_FOUND"}
    assert (await Location.get(id=other.location.id)).name == "Main"
    listed = (await api.data(LOCATIONS, token=champion))["locations"]["items"]
    assert [item["id"] for item in listed] == [str(world.location.id)]


async def test_only_managers_change_locations_and_only_staff_see_them(api: Api) -> None:
    # given
    world = await make_world()
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    client = await api.portal_token(world.agency, "robin")
    new = {"input": {"name": "Annex", "timeZone": "UTC"}}
    update = {"input": {"id": str(world.location.id), "name": "Taken over"}}
    # when / then
    assert await api.error_code(CREATE_LOCATION, new, clinician) == "FORBIDDEN"
    assert await api.error_code(UPDATE_LOCATION, update, clinician) == "FORBIDDEN"
    assert await api.error_code(LOCATIONS, token=client) == "FORBIDDEN"
    assert await api.error_code(LOCATION, {"id": str(world.location.id)}, client) == "FORBIDDEN"
    assert await api.error_code(LOCATIONS) == "UNAUTHENTICATED"
    assert (await Location.get(id=world.location.id)).name == "Main"
    assert await Location.filter(agency_id=world.agency.id).count() == 1


async def test_locations_are_paginated_with_a_next_cursor(api: Api) -> None:
    # given
    world = await make_world()
    for name in ("B", "C", "D", "E"):
        await Location.create(agency=world.agency, name=name, time_zone="UTC")
    token = await api.staff_token(world.agency, "clinician@a.test")
    # when
    first = (await api.data(LOCATIONS, {"first": 2}, token))["locations"]
    second = await api.data(LOCATIONS, {"first": 2, "after": first["nextCursor"]}, token)
    third = await api.data(
        LOCATIONS, {"first": 2, "after": second["locations"]["nextCursor"]}, token
    )
    # then
    pages = [first, second["locations"], third["locations"]]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert third["locations"]["nextCursor"] is None
    seen = [item["name"] for page in pages for item in page["items"]]
    assert sorted(seen) == ["B", "C", "D", "E", "Main"]


async def test_a_garbage_cursor_is_a_readable_error_not_a_server_error(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    body = await api.post(LOCATIONS, {"after": "!!not a cursor!!"}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_location_changes_are_audited_by_id_only(api: Api) -> None:
    # given
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    new = {"input": {"name": "Secret Annex", "address": "9 Hidden Rd", "timeZone": "UTC"}}
    # when
    created = (await api.data(CREATE_LOCATION, new, champion))["createLocation"]["location"]
    await api.data(UPDATE_LOCATION, {"input": {"id": created["id"], "name": "Annex 2"}}, champion)
    # then
    events = await AuditEvent.filter(
        agency_id=world.agency.id, action__startswith="location."
    ).order_by("id")
    assert [(e.action, e.object_id) for e in events] == [
        ("location.create", created["id"]),
        ("location.update", created["id"]),
    ]
    assert events[0].actor_id == str(world.champion.id)
    assert all("Secret" not in str(vars(e)) and "Hidden" not in str(vars(e)) for e in events)
