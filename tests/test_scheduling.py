"""Scheduling through the API: availability, slots, booking and requests per mode, the staff
side, cancellation, the client's update mail, expiry, and who may do what."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models.accounts import PortalAccount
from models.agency import Location
from models.clients import CareTeamMember, Client, Representative
from models.enums import AppointmentMode, Permission, PortalAccountKind
from models.mail import OutboxMessage
from models.scheduling import Appointment, AppointmentRequest, RequestStatus, SlotHold
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers.clock import set_clock
from tests.factories import PASSWORD_HASH, Api, World, make_staff, make_world
from tests.mailbox import Mailbox
from workers.jobs import expire_appointment_requests

CHICAGO = ZoneInfo("America/Chicago")
# A fixed "now": Monday 1 June 2026, 08:00 in Chicago.
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=CHICAGO)
MONDAY = date(2026, 6, 1)

ERRORS = "errors { code field message }"
APPOINTMENT = "id clientId staffId locationId start end status source cancelledAt"
REQUEST = "id clientId staffId locationId start end status reason decidedAt appointmentId"

SET_AVAILABILITY = f"""
mutation ($input: SetStaffAvailabilityInput!) {{
  setStaffAvailability(input: $input) {{
    availability {{
      staffId shownInPortal appointmentMinutes breakMinutes effectiveAppointmentMinutes
      effectiveBreakMinutes datesOff windows {{ weekday start end location {{ id }} }}
    }}
    {ERRORS}
  }}
}}"""
STAFF_AVAILABILITY = """
query ($staffId: ID!) { staffAvailability(staffId: $staffId) {
  staffId shownInPortal windows { weekday start end } datesOff } }"""
SLOTS = """
query ($input: BookableSlotsInput!) {
  bookableSlots(input: $input) { start end staffId locationId } }"""
BOOK = f"""
mutation ($input: BookInput!) {{
  bookAppointment(input: $input) {{ appointment {{ {APPOINTMENT} }} {ERRORS} }} }}"""
REQUEST_APPOINTMENT = f"""
mutation ($input: BookInput!) {{
  requestAppointment(input: $input) {{ request {{ {REQUEST} }} {ERRORS} }} }}"""
APPROVE = f"""
mutation ($input: RequestIdInput!) {{
  approveAppointmentRequest(input: $input) {{ request {{ {REQUEST} }} {ERRORS} }} }}"""
DENY = f"""
mutation ($input: DenyAppointmentRequestInput!) {{
  denyAppointmentRequest(input: $input) {{ request {{ {REQUEST} }} {ERRORS} }} }}"""
CANCEL = f"""
mutation ($input: CancelAppointmentInput!) {{
  cancelAppointment(input: $input) {{ appointment {{ {APPOINTMENT} }} {ERRORS} }} }}"""
CREATE = f"""
mutation ($input: CreateAppointmentInput!) {{
  createAppointment(input: $input) {{ appointment {{ {APPOINTMENT} }} {ERRORS} }} }}"""
MY_APPOINTMENTS = f"""
query ($when: When!, $clientId: ID) {{
  myAppointments(when: $when, clientId: $clientId) {{ {APPOINTMENT} }} }}"""
MY_REQUESTS = f"query {{ myAppointmentRequests {{ {REQUEST} }} }}"
REQUESTS = (
    f"query ($status: RequestStatus) {{ appointmentRequests(status: $status) {{ {REQUEST} }} }}"
)
PORTAL_SCHEDULING = """
query { portalScheduling { clientId mode allowClientCancel cancellationMessage
  maxDaysInFuture minNoticeHours lateCancelHours } }"""


@pytest.fixture(autouse=True)
def _fixed_now() -> None:
    set_clock(lambda: NOW.astimezone(UTC))


async def configure(world: World, mode: AppointmentMode, **extra: Any) -> None:
    await PortalSettings.filter(agency_id=world.agency.id).update(appointment_mode=mode, **extra)


async def open_monday(api: Api, world: World, token: str, **extra: Any) -> dict[str, Any]:
    """The clinician offers Mondays 09:00-12:00 at Main: 50-minute slots, 10-minute breaks."""
    variables = {
        "input": {
            "staffId": str(world.clinician.id),
            "windows": [
                {
                    "locationId": str(world.location.id),
                    "weekday": "MONDAY",
                    "start": "09:00",
                    "end": "12:00",
                }
            ],
            "shownInPortal": True,
            **extra,
        }
    }
    result: dict[str, Any] = (await api.data(SET_AVAILABILITY, variables, token))[
        "setStaffAvailability"
    ]
    return result


async def ready(api: Api, mode: AppointmentMode = AppointmentMode.MAKE) -> tuple[World, str, str]:
    """A world whose clinician offers Monday slots; the clinician's and the client's tokens."""
    world = await make_world()
    await configure(world, mode)
    staff_token = await api.staff_token(world.agency, "clinician@a.test")
    assert (await open_monday(api, world, staff_token))["errors"] == []
    client_token = await api.portal_token(world.agency, "robin")
    return world, staff_token, client_token


def slot_input(world: World, start: str, **extra: Any) -> dict[str, Any]:
    return {"input": {"staffId": str(world.clinician.id), "start": start, **extra}}


def monday(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "staffId": str(world.clinician.id),
            "from": MONDAY.isoformat(),
            "to": MONDAY.isoformat(),
            **extra,
        }
    }


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


# --- availability ------------------------------------------------------------------------------


async def test_a_clinician_sets_and_reads_their_availability(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    result = await open_monday(
        api, world, token, datesOff=["2026-06-08"], appointmentMinutes=45, breakMinutes=None
    )
    assert result["errors"] == []
    shown = result["availability"]
    assert shown["shownInPortal"] is True
    assert shown["appointmentMinutes"] == 45
    assert shown["effectiveAppointmentMinutes"] == 45
    assert shown["breakMinutes"] is None
    assert shown["effectiveBreakMinutes"] == 10  # the agency default
    assert shown["windows"] == [
        {
            "weekday": "MONDAY",
            "start": "09:00",
            "end": "12:00",
            "location": {"id": str(world.location.id)},
        }
    ]
    read = await api.data(STAFF_AVAILABILITY, {"staffId": str(world.clinician.id)}, token)
    assert read["staffAvailability"]["datesOff"] == ["2026-06-08"]


@pytest.mark.parametrize(
    ("window", "extra", "expected"),
    [
        ({"start": "12:00", "end": "09:00"}, {}, ("INVALID_TIME_RANGE", "windows.0.end")),
        ({"start": "9am", "end": "12:00"}, {}, ("INVALID_TIME_RANGE", "windows.0.start")),
        ({"locationId": "elsewhere"}, {}, ("NOT_STAFF_LOCATION", "windows.0.locationId")),
        ({}, {"appointmentMinutes": 2}, ("OUT_OF_RANGE", "appointmentMinutes")),
        ({}, {"breakMinutes": 241}, ("OUT_OF_RANGE", "breakMinutes")),
    ],
)
async def test_bad_availability_is_refused_with_typed_errors(
    api: Api, window: dict[str, str], extra: dict[str, Any], expected: tuple[str, str]
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    base = {"locationId": str(world.location.id), "weekday": "MONDAY", "start": "09:00"}
    variables = {
        "input": {
            "staffId": str(world.clinician.id),
            "windows": [{**base, "end": "12:00", **window}],
            **extra,
        }
    }
    result = (await api.data(SET_AVAILABILITY, variables, token))["setStaffAvailability"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [expected]


async def test_overlapping_windows_across_locations_are_refused(api: Api) -> None:
    world = await make_world()
    north = await Location.create(agency=world.agency, name="North", time_zone="America/Chicago")
    await StaffLocation.create(staff=world.clinician, location=north)
    token = await api.staff_token(world.agency, "clinician@a.test")
    windows = [
        {
            "locationId": str(world.location.id),
            "weekday": "MONDAY",
            "start": "09:00",
            "end": "12:00",
        },
        {"locationId": str(north.id), "weekday": "MONDAY", "start": "11:00", "end": "13:00"},
    ]
    variables = {"input": {"staffId": str(world.clinician.id), "windows": windows}}
    result = (await api.data(SET_AVAILABILITY, variables, token))["setStaffAvailability"]
    assert codes(result) == ["OVERLAPPING_WINDOWS"]


async def test_only_the_staff_member_or_a_staff_manager_sets_availability(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")  # no MANAGE_STAFF
    variables = {"input": {"staffId": str(world.clinician.id), "windows": []}}
    assert await api.error_code(SET_AVAILABILITY, variables, desk) == "FORBIDDEN"
    champion = await api.staff_token(world.agency, "champion@a.test")  # MANAGE_STAFF
    assert (await api.data(SET_AVAILABILITY, variables, champion))["setStaffAvailability"][
        "errors"
    ] == []
    client = await api.portal_token(world.agency, "robin")
    assert await api.error_code(SET_AVAILABILITY, variables, client) == "FORBIDDEN"
    assert await api.error_code(SET_AVAILABILITY, variables) == "UNAUTHENTICATED"


# --- slots -------------------------------------------------------------------------------------


async def test_a_client_sees_their_clinicians_slots_with_offsets(api: Api) -> None:
    world, _, client = await ready(api)
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert [s["start"] for s in slots] == [
        "2026-06-01T09:00:00-05:00",
        "2026-06-01T10:00:00-05:00",
        "2026-06-01T11:00:00-05:00",
    ]
    assert slots[0]["end"] == "2026-06-01T09:50:00-05:00"
    assert slots[0]["locationId"] == str(world.location.id)
    # a representative sees the same for the client they represent
    rep = await api.portal_token(world.agency, "guardian")
    assert (await api.data(SLOTS, monday(world), rep))["bookableSlots"] == slots


async def test_minimum_notice_hides_the_nearest_slots(api: Api) -> None:
    world, _, client = await ready(api)
    await configure(world, AppointmentMode.MAKE, min_notice_hours=2)  # now 08:00 -> from 10:00
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert [s["start"][11:16] for s in slots] == ["10:00", "11:00"]


async def test_slots_of_staff_outside_the_care_team_are_forbidden(api: Api) -> None:
    world, _, client = await ready(api)
    await CareTeamMember.filter(client_id=world.client.id).delete()
    assert await api.error_code(SLOTS, monday(world), client) == "FORBIDDEN"


async def test_hidden_availability_offers_no_slots(api: Api) -> None:
    world, staff, client = await ready(api)
    await open_monday(api, world, staff, shownInPortal=False)
    assert (await api.data(SLOTS, monday(world), client))["bookableSlots"] == []


async def test_slot_ranges_are_bounded_and_view_only_lists_none(api: Api) -> None:
    world, _, client = await ready(api)
    too_long = monday(world)
    too_long["input"]["to"] = (MONDAY + timedelta(days=93)).isoformat()
    body = await api.post(SLOTS, too_long, client)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "to"}
    await configure(world, AppointmentMode.VIEW_ONLY)
    body = await api.post(SLOTS, monday(world), client)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "only view" in body["errors"][0]["message"]


async def test_staff_and_anonymous_callers_get_no_portal_slots(api: Api) -> None:
    world, staff, _ = await ready(api)
    assert await api.error_code(SLOTS, monday(world), staff) == "FORBIDDEN"
    assert await api.error_code(SLOTS, monday(world)) == "UNAUTHENTICATED"


async def test_a_representative_of_two_clients_names_the_client(api: Api) -> None:
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
    body = await api.post(SLOTS, monday(world), rep)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "clientId"}
    chosen = monday(world, clientId=str(world.client.id))
    assert len((await api.data(SLOTS, chosen, rep))["bookableSlots"]) == 3
    # the clinician is not on Sam's care team
    sam = monday(world, clientId=str(other.id))
    assert await api.error_code(SLOTS, sam, rep) == "FORBIDDEN"


# --- booking and requests per mode --------------------------------------------------------------


async def test_make_mode_books_a_listed_slot_which_then_disappears(api: Api) -> None:
    world, _, client = await ready(api)
    result = (await api.data(BOOK, slot_input(world, "2026-06-01T10:00:00-05:00"), client))[
        "bookAppointment"
    ]
    assert result["errors"] == []
    booked = result["appointment"]
    assert booked["status"] == "SCHEDULED"
    assert booked["source"] == "PORTAL"
    assert booked["start"] == "2026-06-01T15:00:00+00:00"
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert [s["start"][11:16] for s in slots] == ["09:00", "11:00"]
    again = (await api.data(BOOK, slot_input(world, "2026-06-01T10:00:00-05:00"), client))[
        "bookAppointment"
    ]
    assert codes(again) == ["SLOT_TAKEN"]
    future = await api.data(MY_APPOINTMENTS, {"when": "FUTURE"}, client)
    assert [a["id"] for a in future["myAppointments"]] == [booked["id"]]


async def test_a_time_that_is_not_a_listed_slot_is_refused(api: Api) -> None:
    world, _, client = await ready(api)
    for start in ("2026-06-01T09:30:00-05:00", "2026-06-01T07:00:00-05:00"):
        result = (await api.data(BOOK, slot_input(world, start), client))["bookAppointment"]
        assert codes(result) == ["SLOT_UNAVAILABLE"]


@pytest.mark.parametrize(
    ("mode", "query", "name"),
    [
        (AppointmentMode.VIEW_ONLY, BOOK, "bookAppointment"),
        (AppointmentMode.VIEW_ONLY, REQUEST_APPOINTMENT, "requestAppointment"),
        (AppointmentMode.REQUEST, BOOK, "bookAppointment"),
        (AppointmentMode.MAKE, REQUEST_APPOINTMENT, "requestAppointment"),
    ],
)
async def test_the_mode_decides_booking_or_requesting(
    api: Api, mode: AppointmentMode, query: str, name: str
) -> None:
    world, _, client = await ready(api, mode)
    result = (await api.data(query, slot_input(world, "2026-06-01T10:00:00-05:00"), client))[name]
    assert codes(result) == ["MODE_FORBIDS"]
    assert await SlotHold.filter(staff_id=world.clinician.id).count() == 0


async def request_ten(api: Api, world: World, client: str) -> dict[str, Any]:
    result: dict[str, Any] = (
        await api.data(REQUEST_APPOINTMENT, slot_input(world, "2026-06-01T10:00:00-05:00"), client)
    )["requestAppointment"]
    assert result["errors"] == [], result
    request: dict[str, Any] = result["request"]
    return request


async def test_request_mode_holds_the_slot_until_approved(
    api: Api, mailbox: Mailbox, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    world, staff, client = await ready(api, AppointmentMode.REQUEST)
    request = await request_ten(api, world, client)
    assert request["status"] == "PENDING"
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert [s["start"][11:16] for s in slots] == ["09:00", "11:00"]
    pending = (await api.data(REQUESTS, {"status": "PENDING"}, staff))["appointmentRequests"]
    assert [r["id"] for r in pending] == [request["id"]]

    approved = (await api.data(APPROVE, {"input": {"id": request["id"]}}, staff))[
        "approveAppointmentRequest"
    ]
    assert approved["errors"] == []
    assert approved["request"]["status"] == "APPROVED"
    assert approved["request"]["appointmentId"]
    future = (await api.data(MY_APPOINTMENTS, {"when": "FUTURE"}, client))["myAppointments"]
    assert [a["id"] for a in future] == [approved["request"]["appointmentId"]]
    # still held, now by the appointment
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert [s["start"][11:16] for s in slots] == ["09:00", "11:00"]
    # deciding twice is refused
    twice = await api.data(APPROVE, {"input": {"id": request["id"]}}, staff)
    assert codes(twice["approveAppointmentRequest"]) == ["REQUEST_DECIDED"]

    # the client and the representative are told there is an update, and nothing more
    await run_jobs()
    assert sorted(m["To"] for m in mailbox.messages) == ["guardian@c.test", "robin@c.test"]
    for message in mailbox.messages:
        text = str(message)
        assert "Test Agency" in text
        assert "https://portal.test/portal/" in text
        for secret in ("10:00", "15:00", "clinician", "Robin", "2026-06-01"):
            assert secret not in text


async def test_a_denied_request_frees_its_slot_and_shows_the_reason(
    api: Api, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    world, staff, client = await ready(api, AppointmentMode.REQUEST)
    request = await request_ten(api, world, client)
    variables = {"input": {"id": request["id"], "reason": "Out that day, please pick Tuesday"}}
    denied = (await api.data(DENY, variables, staff))["denyAppointmentRequest"]
    assert denied["errors"] == []
    mine = (await api.data(MY_REQUESTS, None, client))["myAppointmentRequests"]
    assert mine[0]["status"] == "DENIED"
    assert mine[0]["reason"] == "Out that day, please pick Tuesday"
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert len(slots) == 3
    outbox = await OutboxMessage.filter(agency_id=world.agency.id, kind="appointment_update")
    assert len(outbox) == 2
    assert all("Tuesday" not in m.text_body for m in outbox)
    await run_jobs()


async def test_a_clinician_cannot_decide_another_clinicians_request(api: Api) -> None:
    world, _, client = await ready(api, AppointmentMode.REQUEST)
    request = await request_ten(api, world, client)
    await make_staff(world.agency, "other@a.test", [])
    other = await api.staff_token(world.agency, "other@a.test")
    variables = {"input": {"id": request["id"]}}
    assert await api.error_code(APPROVE, variables, other) == "FORBIDDEN"
    assert await api.error_code(DENY, variables, other) == "FORBIDDEN"
    assert (await api.data(REQUESTS, {"status": None}, other))["appointmentRequests"] == []
    # the designated staff member may
    designated = await make_staff(world.agency, "designated@a.test", [])
    await PortalSettings.filter(agency_id=world.agency.id).update(notified_staff_id=designated.id)
    token = await api.staff_token(world.agency, "designated@a.test")
    listed = (await api.data(REQUESTS, {}, token))["appointmentRequests"]
    assert [r["id"] for r in listed] == [request["id"]]
    # and so may MANAGE_ALL_APPOINTMENTS
    await make_staff(world.agency, "boss@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    boss = await api.staff_token(world.agency, "boss@a.test")
    result = (await api.data(APPROVE, variables, boss))["approveAppointmentRequest"]
    assert result["errors"] == []


async def test_other_agencies_staff_and_clients_are_refused(api: Api) -> None:
    world, _, client = await ready(api, AppointmentMode.REQUEST)
    request = await request_ten(api, world, client)
    stranger_world = await make_world()
    await configure(stranger_world, AppointmentMode.REQUEST)
    stranger = await api.staff_token(stranger_world.agency, "champion@a.test")
    assert await api.error_code(APPROVE, {"input": {"id": request["id"]}}, stranger) == "FORBIDDEN"
    other_client = await api.portal_token(stranger_world.agency, "robin")
    assert await api.error_code(SLOTS, monday(world), other_client) == "FORBIDDEN"
    assert await api.error_code(APPROVE, {"input": {"id": request["id"]}}) == "UNAUTHENTICATED"


async def test_a_pending_request_expires_when_its_time_comes(api: Api) -> None:
    world, _, client = await ready(api, AppointmentMode.REQUEST)
    request = await request_ten(api, world, client)
    set_clock(lambda: datetime(2026, 6, 1, 15, 0, tzinfo=UTC))  # 10:00 in Chicago
    assert await expire_appointment_requests({"base_url": "https://portal.test"}) >= 1
    row = await AppointmentRequest.get(id=request["id"])
    assert row.status == RequestStatus.EXPIRED
    assert not await SlotHold.filter(request_id=row.id).exists()


# --- the staff side and cancellation ------------------------------------------------------------


async def test_staff_create_appointments_for_their_care_team_only(api: Api) -> None:
    world, staff, client = await ready(api)
    variables = {
        "input": {
            "clientId": str(world.client.id),
            "locationId": str(world.location.id),
            "start": "2026-06-02T13:00:00-05:00",
        }
    }
    made = (await api.data(CREATE, variables, staff))["createAppointment"]
    assert made["errors"] == []
    assert made["appointment"]["source"] == "STAFF"
    assert made["appointment"]["end"] == "2026-06-02T18:50:00+00:00"
    clash = {"input": {**variables["input"], "start": "2026-06-02T13:55:00-05:00"}}
    assert codes((await api.data(CREATE, clash, staff))["createAppointment"]) == ["SLOT_TAKEN"]
    stranger = await Client.create(agency=world.agency, first_name="Not", last_name="Mine")
    theirs = {"input": {**variables["input"], "clientId": str(stranger.id)}}
    assert await api.error_code(CREATE, theirs, staff) == "FORBIDDEN"
    assert await api.error_code(CREATE, variables, client) == "FORBIDDEN"


async def book_at(api: Api, world: World, client: str, start: str) -> dict[str, Any]:
    result: dict[str, Any] = (await api.data(BOOK, slot_input(world, start), client))[
        "bookAppointment"
    ]
    assert result["errors"] == [], result
    booked: dict[str, Any] = result["appointment"]
    return booked


async def test_a_client_cancels_on_time_or_late(api: Api) -> None:
    world, _, client = await ready(api)
    await configure(world, AppointmentMode.MAKE, late_cancel_hours=2)  # now is 08:00
    soon = await book_at(api, world, client, "2026-06-01T09:00:00-05:00")
    later = await book_at(api, world, client, "2026-06-01T11:00:00-05:00")
    late = await api.data(CANCEL, {"input": {"appointmentId": soon["id"]}}, client)
    assert late["cancelAppointment"]["appointment"]["status"] == "LATE_CANCELLED"
    on_time = await api.data(CANCEL, {"input": {"appointmentId": later["id"]}}, client)
    assert on_time["cancelAppointment"]["appointment"]["status"] == "CANCELLED"
    # the time is free again
    slots = (await api.data(SLOTS, monday(world), client))["bookableSlots"]
    assert len(slots) == 3
    again = await api.data(CANCEL, {"input": {"appointmentId": later["id"]}}, client)
    assert codes(again["cancelAppointment"]) == ["NOT_CANCELLABLE"]


async def test_client_cancellation_can_be_turned_off_and_the_message_shown(api: Api) -> None:
    world, _, client = await ready(api)
    shown = (await api.data(PORTAL_SCHEDULING, None, client))["portalScheduling"]
    assert shown["cancellationMessage"] == "Are you sure you want to cancel this appointment?"
    assert shown["mode"] == "MAKE"
    booked = await book_at(api, world, client, "2026-06-01T10:00:00-05:00")
    await configure(
        world, AppointmentMode.MAKE, allow_client_cancel=False, cancellation_message="Fee: $25"
    )
    shown = (await api.data(PORTAL_SCHEDULING, None, client))["portalScheduling"]
    assert shown["cancellationMessage"] == "Fee: $25"
    refused = await api.data(CANCEL, {"input": {"appointmentId": booked["id"]}}, client)
    assert codes(refused["cancelAppointment"]) == ["NOT_CANCELLABLE"]


async def test_no_one_sees_or_cancels_another_clients_appointments(api: Api) -> None:
    world, staff, client = await ready(api)
    booked = await book_at(api, world, client, "2026-06-01T10:00:00-05:00")
    other = await Client.create(agency=world.agency, first_name="Other", last_name="Client")
    await PortalAccount.create(
        agency=world.agency,
        kind=PortalAccountKind.CLIENT,
        username="other",
        email="other@c.test",
        client=other,
        password_hash=PASSWORD_HASH,
    )
    token = await api.portal_token(world.agency, "other")
    assert (await api.data(MY_APPOINTMENTS, {"when": "FUTURE"}, token))["myAppointments"] == []
    named = {"when": "FUTURE", "clientId": str(world.client.id)}
    assert await api.error_code(MY_APPOINTMENTS, named, token) == "FORBIDDEN"
    cancel = {"input": {"appointmentId": booked["id"]}}
    assert await api.error_code(CANCEL, cancel, token) == "FORBIDDEN"
    # another clinician cannot cancel it either; the clinician of the appointment can
    await make_staff(world.agency, "other@a.test", [])
    assert (
        await api.error_code(CANCEL, cancel, await api.staff_token(world.agency, "other@a.test"))
        == "FORBIDDEN"
    )
    done = (await api.data(CANCEL, cancel, staff))["cancelAppointment"]["appointment"]
    assert done["status"] == "CANCELLED"


async def test_past_and_future_appointments(api: Api) -> None:
    world, _, client = await ready(api)
    booked = await book_at(api, world, client, "2026-06-01T10:00:00-05:00")
    set_clock(lambda: datetime(2026, 6, 1, 17, 0, tzinfo=UTC))  # noon in Chicago
    client = await api.portal_token(world.agency, "robin")  # the old session lapsed
    past = (await api.data(MY_APPOINTMENTS, {"when": "PAST"}, client))["myAppointments"]
    assert [a["id"] for a in past] == [booked["id"]]
    assert (await api.data(MY_APPOINTMENTS, {"when": "FUTURE"}, client))["myAppointments"] == []


@pytest.mark.parametrize("day", ["0001-01-01", "0999-12-31", "3000-01-01", "9999-12-31"])
async def test_dates_at_the_edge_of_the_calendar_are_refused_not_crashed(
    api: Api, day: str
) -> None:
    # seen: 9999-12-31 overflowed day arithmetic inside the resolvers (a masked 500)
    world, _, client = await ready(api)
    staff = await api.staff_token(world.agency, "champion@a.test")
    asked = {"from": day, "to": day}
    slots = await api.post(SLOTS, monday(world, **asked), client)
    book = await api.post(BOOK, slot_input(world, f"{day}T00:00:00+14:00"), client)
    create = await api.post(
        CREATE,
        {
            "input": {
                "clientId": str(world.client.id),
                "staffId": str(world.clinician.id),
                "locationId": str(world.location.id),
                "start": f"{day}T23:59:00-12:00",
            }
        },
        staff,
    )
    for answer in (slots, book, create):
        assert answer["data"] is None, answer
        assert "years 1000 to 2999" in answer["errors"][0]["message"], answer


async def test_no_appointment_is_made_with_an_inactive_staff_member(api: Api) -> None:
    # seen: a manager booked a deactivated clinician through createAppointment
    world, _, _ = await ready(api)
    champion = await api.staff_token(world.agency, "champion@a.test")
    await Staff.filter(id=world.clinician.id).update(is_active=False)
    variables = {
        "input": {
            "clientId": str(world.client.id),
            "staffId": str(world.clinician.id),
            "locationId": str(world.location.id),
            "start": "2026-06-02T13:00:00-05:00",
        }
    }
    assert await api.error_code(CREATE, variables, champion) == "FORBIDDEN"
    assert not await Appointment.filter(staff_id=world.clinician.id).exists()
