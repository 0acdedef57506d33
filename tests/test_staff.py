from __future__ import annotations

import logging
from typing import Any

import pytest

from models.agency import Location
from models.audit import AuditEvent
from models.enums import AppointmentNotification
from models.staff import Staff, StaffLocation
from tests.factories import STAFF_LOGIN, Api, World, make_staff, make_world

STAFF_FIELDS = """
id firstName lastName email secondEmail permissions appointmentNotification isActive
locations { isDefault location { id name timeZone } }
"""

STAFF_MEMBERS = f"""
query ($first: Int, $after: String) {{
  staffMembers(first: $first, after: $after) {{ items {{ {STAFF_FIELDS} }} nextCursor }}
}}"""

STAFF = f"query ($id: ID!) {{ staff(id: $id) {{ {STAFF_FIELDS} }} }}"

PAYLOAD = f"{{ staff {{ {STAFF_FIELDS} }} errors {{ code field message }} }}"

CREATE_STAFF = f"""
mutation ($input: CreateStaffInput!) {{ createStaff(input: $input) {PAYLOAD} }}"""

UPDATE_STAFF = f"""
mutation ($input: UpdateStaffInput!) {{ updateStaff(input: $input) {PAYLOAD} }}"""

UPDATE_STAFF_CONTACT = f"""
mutation ($input: UpdateStaffContactInput!) {{ updateStaffContact(input: $input) {PAYLOAD} }}"""

SET_STAFF_LOCATIONS = f"""
mutation ($input: SetStaffLocationsInput!) {{ setStaffLocations(input: $input) {PAYLOAD} }}"""

UPDATE_STAFF_APPOINTMENT_NOTIFICATIONS = f"""
mutation ($input: UpdateStaffAppointmentNotificationsInput!) {{
  updateStaffAppointmentNotifications(input: $input) {PAYLOAD}
}}"""


def error_fields(payload: dict[str, Any]) -> dict[str | None, str]:
    return {e["field"]: e["code"] for e in payload["errors"]}


async def champion_token(api: Api, world: World) -> str:
    return await api.staff_token(world.agency, "champion@a.test")


async def clinician_token(api: Api, world: World) -> str:
    return await api.staff_token(world.agency, "clinician@a.test")


async def second_location(world: World, name: str = "North") -> Location:
    return await Location.create(agency=world.agency, name=name, time_zone="America/New_York")


# create / update


async def test_a_manager_adds_a_staff_member_who_has_no_password_yet(api: Api) -> None:
    # given
    world = await make_world()
    token = await champion_token(api, world)
    new = {
        "firstName": " Ada ",
        "lastName": "Lovelace",
        "email": " Ada.Lovelace@A.test ",
        "secondEmail": "5551234567@txt.test",
        "permissions": ["VIEW_ALL_CLIENTS", "MANAGE_STAFF"],
    }
    # when
    result = (await api.data(CREATE_STAFF, {"input": new}, token))["createStaff"]
    # then
    assert result["errors"] == []
    staff = result["staff"]
    assert (staff["firstName"], staff["lastName"]) == ("Ada", "Lovelace")
    assert staff["email"] == "ada.lovelace@a.test"
    assert staff["secondEmail"] == "5551234567@txt.test"
    assert staff["permissions"] == ["MANAGE_STAFF", "VIEW_ALL_CLIENTS"]
    assert staff["appointmentNotification"] == "NONE"
    assert staff["isActive"] is True
    assert staff["locations"] == []
    row = await Staff.get(id=staff["id"])
    assert row.agency_id == world.agency.id
    assert row.password_hash is None
    assert (await api.data(STAFF, {"id": staff["id"]}, token))["staff"] == staff
    login = {"agencySlug": world.agency.slug, "email": "ada.lovelace@a.test", "password": ""}
    answer = (await api.data(STAFF_LOGIN, {"input": login}))["staffLogin"]
    assert answer["session"] is None


async def test_an_e_mail_already_used_in_the_agency_is_a_duplicate_whatever_its_case(
    api: Api,
) -> None:
    # given
    world = await make_world()
    token = await champion_token(api, world)
    new = {"firstName": "Again", "lastName": "Clinician", "email": "CLINICIAN@a.TEST"}
    # when
    result = (await api.data(CREATE_STAFF, {"input": new}, token))["createStaff"]
    # then
    assert result["staff"] is None
    assert error_fields(result) == {"email": "DUPLICATE"}
    assert await Staff.filter(agency_id=world.agency.id).count() == 3


async def test_the_same_e_mail_may_serve_two_agencies(api: Api) -> None:
    world, other = await make_world(), await make_world()
    token = await champion_token(api, other)
    new = {"firstName": "Shared", "lastName": "Person", "email": "shared@b.test"}
    await make_staff(world.agency, "shared@b.test", [])
    result = (await api.data(CREATE_STAFF, {"input": new}, token))["createStaff"]
    assert result["errors"] == []


async def test_create_staff_refuses_missing_names_and_a_bad_e_mail(api: Api) -> None:
    world = await make_world()
    token = await champion_token(api, world)
    bad = {"firstName": "", "lastName": "x" * 101, "email": "not-mail", "secondEmail": "also bad"}
    result = (await api.data(CREATE_STAFF, {"input": bad}, token))["createStaff"]
    assert error_fields(result) == {
        "firstName": "REQUIRED",
        "lastName": "TOO_LONG",
        "email": "INVALID_EMAIL",
        "secondEmail": "INVALID_EMAIL",
    }


async def test_update_staff_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    token = await champion_token(api, world)
    changes = {
        "id": str(world.clinician.id),
        "firstName": "Casey",
        "email": "Casey@A.test",
        "permissions": ["MANAGE_ALL_APPOINTMENTS"],
        "isActive": False,
    }
    # when
    result = (await api.data(UPDATE_STAFF, {"input": changes}, token))["updateStaff"]
    # then
    assert result["errors"] == []
    row = await Staff.get(id=world.clinician.id)
    assert row.first_name == "Casey"
    assert row.last_name == world.clinician.last_name
    assert row.email == "casey@a.test"
    assert row.permissions == ["MANAGE_ALL_APPOINTMENTS"]
    assert row.is_active is False
    assert result["staff"]["locations"][0]["location"]["name"] == "Main"


async def test_a_rejected_update_changes_nothing(api: Api) -> None:
    # given
    world = await make_world()
    token = await champion_token(api, world)
    changes = {"id": str(world.clinician.id), "firstName": "Casey", "email": "desk@A.test"}
    # when
    result = (await api.data(UPDATE_STAFF, {"input": changes}, token))["updateStaff"]
    # then
    assert result["staff"] is None
    assert error_fields(result) == {"email": "DUPLICATE"}
    row = await Staff.get(id=world.clinician.id)
    assert (row.first_name, row.email) == ("Test", "clinician@a.test")


async def test_a_manager_cannot_lock_themselves_out(api: Api) -> None:
    world = await make_world()
    token = await champion_token(api, world)
    changes = {"id": str(world.champion.id), "permissions": [], "isActive": False}
    result = (await api.data(UPDATE_STAFF, {"input": changes}, token))["updateStaff"]
    assert error_fields(result) == {"permissions": "OWN_ACCESS", "isActive": "OWN_ACCESS"}
    row = await Staff.get(id=world.champion.id)
    assert row.is_active is True
    assert "MANAGE_STAFF" in row.permissions


# self-service and refusals


async def test_a_clinician_updates_their_own_contact_and_locations(api: Api) -> None:
    # given
    world = await make_world()
    north = await second_location(world)
    token = await clinician_token(api, world)
    contact = {"staffId": str(world.clinician.id), "secondEmail": "5550001111@sms.test"}
    places = {
        "staffId": str(world.clinician.id),
        "locationIds": [str(world.location.id), str(north.id)],
        "defaultLocationId": str(north.id),
    }
    # when
    updated = await api.data(UPDATE_STAFF_CONTACT, {"input": contact}, token)
    placed = await api.data(SET_STAFF_LOCATIONS, {"input": places}, token)
    # then
    assert updated["updateStaffContact"]["errors"] == []
    assert placed["setStaffLocations"]["errors"] == []
    me = (await api.data(STAFF, {"id": str(world.clinician.id)}, token))["staff"]
    assert me["email"] == "clinician@a.test"
    assert me["secondEmail"] == "5550001111@sms.test"
    assert [(x["location"]["name"], x["isDefault"]) for x in me["locations"]] == [
        ("North", True),
        ("Main", False),
    ]


async def test_a_clinician_cannot_touch_another_staff_member_or_their_own_permissions(
    api: Api,
) -> None:
    # given
    world = await make_world()
    token = await clinician_token(api, world)
    desk, me = str(world.front_desk.id), str(world.clinician.id)
    contact = {"input": {"staffId": desk, "email": "stolen@a.test"}}
    places = {"input": {"staffId": desk, "locationIds": []}}
    notify = {"input": {"staffId": desk, "notification": "FIRST_EMAIL"}}
    promote = {"input": {"id": me, "permissions": ["MANAGE_STAFF"]}}
    # when / then
    assert await api.error_code(UPDATE_STAFF_CONTACT, contact, token) == "FORBIDDEN"
    assert await api.error_code(SET_STAFF_LOCATIONS, places, token) == "FORBIDDEN"
    assert await api.error_code(UPDATE_STAFF_APPOINTMENT_NOTIFICATIONS, notify, token) == (
        "FORBIDDEN"
    )
    assert await api.error_code(UPDATE_STAFF, promote, token) == "FORBIDDEN"
    assert await api.error_code(STAFF, {"id": desk}, token) == "FORBIDDEN"
    assert (await Staff.get(id=world.front_desk.id)).email == "desk@a.test"
    assert (await Staff.get(id=world.clinician.id)).permissions == []
    denied = await AuditEvent.filter(agency_id=world.agency.id, outcome="DENIED").count()
    assert denied == 5


@pytest.mark.parametrize("who", ["clinician", "client"])
async def test_staff_management_is_refused_without_manage_staff(api: Api, who: str) -> None:
    # given
    world = await make_world()
    if who == "clinician":
        token = await clinician_token(api, world)
    else:
        token = await api.portal_token(world.agency, "robin")
    desk = str(world.front_desk.id)
    new = {"input": {"firstName": "A", "lastName": "B", "email": "ab@a.test"}}
    update = {"input": {"id": desk, "permissions": []}}
    places = {"input": {"staffId": desk, "locationIds": []}}
    # when / then
    assert await api.error_code(STAFF_MEMBERS, token=token) == "FORBIDDEN"
    assert await api.error_code(CREATE_STAFF, new, token) == "FORBIDDEN"
    assert await api.error_code(UPDATE_STAFF, update, token) == "FORBIDDEN"
    assert await api.error_code(SET_STAFF_LOCATIONS, places, token) == "FORBIDDEN"
    assert await Staff.filter(agency_id=world.agency.id).count() == 3
    assert (await Staff.get(id=world.front_desk.id)).permissions != []


async def test_a_portal_client_cannot_read_or_edit_any_staff_member(api: Api) -> None:
    world = await make_world()
    token = await api.portal_token(world.agency, "robin")
    staff_id = str(world.clinician.id)
    assert await api.error_code(STAFF, {"id": staff_id}, token) == "FORBIDDEN"
    contact = {"input": {"staffId": staff_id, "email": "x@a.test"}}
    assert await api.error_code(UPDATE_STAFF_CONTACT, contact, token) == "FORBIDDEN"
    assert await api.error_code(STAFF_MEMBERS) == "UNAUTHENTICATED"


async def test_another_agencys_champion_neither_sees_nor_changes_this_agencys_staff(
    api: Api,
) -> None:
    # given
    world, other = await make_world(), await make_world()
    token = await champion_token(api, other)
    ours = str(world.clinician.id)
    new = {"input": {"firstName": "A", "lastName": "B", "email": "ab@a.test"}}
    # when
    listed = (await api.data(STAFF_MEMBERS, token=token))["staffMembers"]["items"]
    read = (await api.data(STAFF, {"id": ours}, token))["staff"]
    update = {"input": {"id": ours, "permissions": ["MANAGE_STAFF"]}}
    updated = (await api.data(UPDATE_STAFF, update, token))["updateStaff"]
    places = {"input": {"staffId": ours, "locationIds": [str(other.location.id)]}}
    placed = (await api.data(SET_STAFF_LOCATIONS, places, token))["setStaffLocations"]
    created = (await api.data(CREATE_STAFF, new, token))["createStaff"]["staff"]
    # then
    world_ids = {str(world.champion.id), str(world.front_desk.id), ours}
    assert world_ids.isdisjoint(item["id"] for item in listed)
    assert read is None
    assert error_fields(updated) == {"id": "NOT_FOUND"}
    assert error_fields(placed) == {"staffId": "NOT_FOUND"}
    assert (await Staff.get(id=created["id"])).agency_id == other.agency.id
    assert (await Staff.get(id=world.clinician.id)).permissions == []
    links = await StaffLocation.filter(staff_id=world.clinician.id)
    assert [link.location_id for link in links] == [world.location.id]


async def test_staff_lookups_answer_null_for_foreign_malformed_and_unknown_ids(
    api: Api,
) -> None:
    world, other = await make_world(), await make_world()
    token = await champion_token(api, world)
    ids = [str(other.clinician.id), "nope", "00000000-0000-0000-0000-000000000000"]
    reads = [(await api.data(STAFF, {"id": i}, token))["staff"] for i in ids]
    contact = [
        await api.data(UPDATE_STAFF_CONTACT, {"input": {"staffId": i, "email": "z@a.test"}}, token)
        for i in ids
    ]
    assert reads == [None, None, None]
    assert contact[0] == contact[1] == contact[2]
    assert error_fields(contact[0]["updateStaffContact"]) == {"staffId": "NOT_FOUND"}


# locations


async def test_set_staff_locations_replaces_the_set_with_the_default_first(api: Api) -> None:
    # given
    world = await make_world()
    north = await second_location(world)
    token = await champion_token(api, world)
    places = {
        "staffId": str(world.clinician.id),
        "locationIds": [str(north.id), str(world.location.id), str(north.id)],
        "defaultLocationId": str(world.location.id),
    }
    # when
    result = (await api.data(SET_STAFF_LOCATIONS, {"input": places}, token))["setStaffLocations"]
    cleared = await api.data(
        SET_STAFF_LOCATIONS,
        {"input": {"staffId": str(world.clinician.id), "locationIds": []}},
        token,
    )
    # then
    assert [(x["location"]["name"], x["isDefault"]) for x in result["staff"]["locations"]] == [
        ("Main", True),
        ("North", False),
    ]
    assert cleared["setStaffLocations"]["staff"]["locations"] == []
    assert await StaffLocation.filter(staff_id=world.clinician.id).count() == 0


async def test_the_default_location_must_be_one_of_the_locations(api: Api) -> None:
    # given
    world = await make_world()
    north = await second_location(world)
    token = await champion_token(api, world)
    places = {
        "staffId": str(world.clinician.id),
        "locationIds": [str(north.id)],
        "defaultLocationId": str(world.location.id),
    }
    # when
    result = (await api.data(SET_STAFF_LOCATIONS, {"input": places}, token))["setStaffLocations"]
    missing = dict(places, defaultLocationId=None)
    no_default = await api.data(SET_STAFF_LOCATIONS, {"input": missing}, token)
    # then
    assert error_fields(result) == {"defaultLocationId": "DEFAULT_LOCATION_NOT_SELECTED"}
    assert error_fields(no_default["setStaffLocations"]) == {"defaultLocationId": "REQUIRED"}
    links = await StaffLocation.filter(staff_id=world.clinician.id)
    assert [(link.location_id, link.is_default) for link in links] == [(world.location.id, True)]


async def test_a_location_of_another_agency_is_not_found(api: Api) -> None:
    # given
    world, other = await make_world(), await make_world()
    token = await champion_token(api, world)
    places = {
        "staffId": str(world.clinician.id),
        "locationIds": [str(world.location.id), str(other.location.id)],
        "defaultLocationId": str(world.location.id),
    }
    # when
    result = (await api.data(SET_STAFF_LOCATIONS, {"input": places}, token))["setStaffLocations"]
    # then
    assert result["staff"] is None
    assert error_fields(result) == {"locationIds": "NOT_FOUND"}
    assert await StaffLocation.filter(location_id=other.location.id).count() == 1


# appointment notifications


async def test_second_email_notifications_need_a_second_address(api: Api) -> None:
    # given
    world = await make_world()
    token = await clinician_token(api, world)
    me = str(world.clinician.id)
    second = {"input": {"staffId": me, "notification": "SECOND_EMAIL"}}
    # when
    refused = await api.data(UPDATE_STAFF_APPOINTMENT_NOTIFICATIONS, second, token)
    contact = {"input": {"staffId": me, "secondEmail": "5550002222@sms.test"}}
    await api.data(UPDATE_STAFF_CONTACT, contact, token)
    accepted = await api.data(UPDATE_STAFF_APPOINTMENT_NOTIFICATIONS, second, token)
    # then
    payload = refused["updateStaffAppointmentNotifications"]
    assert error_fields(payload) == {"notification": "SECOND_EMAIL_REQUIRED"}
    payload = accepted["updateStaffAppointmentNotifications"]
    assert payload["errors"] == []
    assert payload["staff"]["appointmentNotification"] == "SECOND_EMAIL"
    row = await Staff.get(id=world.clinician.id)
    assert row.appointment_notification == AppointmentNotification.SECOND_EMAIL


async def test_the_second_address_cannot_be_cleared_while_it_gets_appointment_mail(
    api: Api,
) -> None:
    # given
    world = await make_world()
    world.clinician.second_email = "5550003333@sms.test"
    world.clinician.appointment_notification = AppointmentNotification.SECOND_EMAIL
    await world.clinician.save()
    token = await clinician_token(api, world)
    clear = {"input": {"staffId": str(world.clinician.id), "secondEmail": None}}
    # when
    result = (await api.data(UPDATE_STAFF_CONTACT, clear, token))["updateStaffContact"]
    # then
    assert error_fields(result) == {"secondEmail": "SECOND_EMAIL_REQUIRED"}
    assert (await Staff.get(id=world.clinician.id)).second_email == "5550003333@sms.test"


# listing


async def test_staff_members_are_paginated_with_a_next_cursor(api: Api) -> None:
    # given
    world = await make_world()
    for name in ("d", "e"):
        await make_staff(world.agency, f"{name}@a.test", [])
    token = await champion_token(api, world)
    # when
    pages = [(await api.data(STAFF_MEMBERS, {"first": 2}, token))["staffMembers"]]
    while pages[-1]["nextCursor"]:
        after = {"first": 2, "after": pages[-1]["nextCursor"]}
        pages.append((await api.data(STAFF_MEMBERS, after, token))["staffMembers"])
    # then
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    emails = sorted(item["email"] for page in pages for item in page["items"])
    assert emails == ["champion@a.test", "clinician@a.test", "d@a.test", "desk@a.test", "e@a.test"]
    clinician = next(i for p in pages for i in p["items"] if i["email"] == "clinician@a.test")
    assert clinician["locations"][0]["location"]["name"] == "Main"


async def test_a_page_of_staff_costs_the_same_queries_at_any_size(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    world = await make_world()
    north = await second_location(world)
    for n in range(4):
        staff = await make_staff(world.agency, f"s{n}@a.test", [])
        await StaffLocation.create(staff=staff, location=north, is_default=True)
    token = await champion_token(api, world)

    async def selects(first: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            page = (await api.data(STAFF_MEMBERS, {"first": first}, token))["staffMembers"]
        assert len(page["items"]) == first
        return sum(r.getMessage().lstrip().upper().startswith("SELECT") for r in caplog.records)

    # when
    small, large = await selects(2), await selects(7)
    # then
    assert small == large
    assert small > 0


async def test_staff_changes_are_audited_by_id_only(api: Api) -> None:
    # given
    world = await make_world()
    token = await champion_token(api, world)
    me = str(world.clinician.id)
    new = {"input": {"firstName": "Quinn", "lastName": "Private", "email": "quinn@a.test"}}
    # when
    created = (await api.data(CREATE_STAFF, new, token))["createStaff"]["staff"]
    await api.data(UPDATE_STAFF, {"input": {"id": me, "permissions": ["MANAGE_STAFF"]}}, token)
    await api.data(UPDATE_STAFF_CONTACT, {"input": {"staffId": me, "email": "c2@a.test"}}, token)
    places = {"input": {"staffId": me, "locationIds": []}}
    await api.data(SET_STAFF_LOCATIONS, places, token)
    notify = {"input": {"staffId": me, "notification": "FIRST_EMAIL"}}
    await api.data(UPDATE_STAFF_APPOINTMENT_NOTIFICATIONS, notify, token)
    # then
    events = (
        await AuditEvent.filter(agency_id=world.agency.id, object_type="Staff")
        .exclude(action="staff.login")
        .order_by("id")
    )
    assert [(e.action, e.object_id) for e in events] == [
        ("staff.create", created["id"]),
        ("staff.update", me),
        ("staff.permissions.update", me),
        ("staff.contact.update", me),
        ("staff.locations.set", me),
        ("staff.notifications.update", me),
    ]
    text = " ".join(str(vars(e)) for e in events)
    assert "quinn" not in text.lower() and "c2@" not in text and "Private" not in text
