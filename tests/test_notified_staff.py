"""The staff member notified of portal appointments must keep an appointment e-mail address;
deactivating them clears the designation, and portalSettings warns when nobody is notified."""

from __future__ import annotations

from typing import Any

import pytest

from models.audit import AuditEvent
from models.enums import AppointmentNotification, NotifyMethod
from models.settings import AgencySetup, PortalSettings
from models.staff import Staff
from resolvers import notifications
from tests.factories import Api, World, make_world

N = AppointmentNotification
UPDATE_APPOINTMENTS = """
mutation ($input: UpdateAppointmentSettingsInput!) {
  updateAppointmentSettings(input: $input) {
    settings { appointments { notifiedStaffId notificationWarning } }
    errors { code field message }
  }
}"""
APPOINTMENTS = "{ portalSettings { appointments { notifiedStaffId notificationWarning } } }"
STAFF_PAYLOAD = (
    "{ staff { id appointmentNotification secondEmail isActive } errors { code field } }"
)
UPDATE_NOTIFICATIONS = (
    "mutation ($input: UpdateStaffAppointmentNotificationsInput!) "
    "{ updateStaffAppointmentNotifications(input: $input) " + STAFF_PAYLOAD + " }"
)
UPDATE_CONTACT = (
    "mutation ($input: UpdateStaffContactInput!) { updateStaffContact(input: $input) "
    + STAFF_PAYLOAD
    + " }"
)
UPDATE_STAFF = (
    "mutation ($input: UpdateStaffInput!) { updateStaff(input: $input) " + STAFF_PAYLOAD + " }"
)


async def with_choice(
    world: World, choice: N, second_email: str | None = "5550001111@sms.test"
) -> Staff:
    desk = world.front_desk
    desk.appointment_notification, desk.second_email = choice, second_email
    await desk.save()
    return desk


async def designate(world: World, staff: Staff) -> None:
    await PortalSettings.filter(agency_id=world.agency.id).update(notified_staff_id=staff.id)


async def appointments(api: Api, token: str) -> dict[str, Any]:
    section: dict[str, Any] = (await api.data(APPOINTMENTS, token=token))["portalSettings"][
        "appointments"
    ]
    return section


async def choose(api: Api, token: str, staff_id: str | None) -> dict[str, Any]:
    variables = {"input": {"notifiedStaffId": staff_id, "maxDaysInFuture": 60}}
    payload: dict[str, Any] = (await api.data(UPDATE_APPOINTMENTS, variables, token))[
        "updateAppointmentSettings"
    ]
    return payload


@pytest.mark.parametrize(
    ("choice", "second_email"), [(N.NONE, "5550001111@sms.test"), (N.SECOND_EMAIL, None)]
)
async def test_choosing_someone_without_an_appointment_email_address_is_refused(
    api: Api, choice: N, second_email: str | None
) -> None:
    # given a staff member whose choice is none, or the second address they do not have
    # (written directly: the API no longer lets anyone into that state)
    world = await make_world()
    desk = await with_choice(world, choice, second_email)
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    payload = await choose(api, token, str(desk.id))
    # then refused, naming the field, and nothing of the update saved
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOTIFICATION_ADDRESS_REQUIRED", "notifiedStaffId")
    ]
    settings = await PortalSettings.get(agency_id=world.agency.id)
    assert (settings.notified_staff_id, settings.max_days_in_future) == (None, 30)


@pytest.mark.parametrize("choice", [N.FIRST_EMAIL, N.SECOND_EMAIL])
async def test_choosing_someone_with_an_address_is_saved_and_warns_of_nothing(
    api: Api, choice: N
) -> None:
    # given
    world = await make_world()
    desk = await with_choice(world, choice)
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    payload = await choose(api, token, str(desk.id))
    # then
    assert payload["errors"] == []
    assert payload["settings"]["appointments"] == {
        "notifiedStaffId": str(desk.id),
        "notificationWarning": None,
    }


@pytest.mark.parametrize("as_who", ["themselves", "a manager"])
async def test_the_designated_staff_member_cannot_turn_appointment_email_off(
    api: Api, as_who: str
) -> None:
    # given
    world = await make_world()
    desk = await with_choice(world, N.FIRST_EMAIL)
    await designate(world, desk)
    email = "desk@a.test" if as_who == "themselves" else "champion@a.test"
    token = await api.staff_token(world.agency, email)
    # when
    variables = {"input": {"staffId": str(desk.id), "notification": "NONE"}}
    payload = (await api.data(UPDATE_NOTIFICATIONS, variables, token))[
        "updateStaffAppointmentNotifications"
    ]
    # then
    assert payload["errors"] == [{"code": "NOTIFICATION_ADDRESS_REQUIRED", "field": "notification"}]
    assert (await Staff.get(id=desk.id)).appointment_notification == N.FIRST_EMAIL
    # and switching to the second address they have is fine
    variables["input"]["notification"] = "SECOND_EMAIL"
    payload = (await api.data(UPDATE_NOTIFICATIONS, variables, token))[
        "updateStaffAppointmentNotifications"
    ]
    assert payload["errors"] == []


async def test_anyone_else_may_turn_appointment_email_off(api: Api) -> None:
    world = await make_world()
    desk = await with_choice(world, N.FIRST_EMAIL)
    token = await api.staff_token(world.agency, "desk@a.test")
    variables = {"input": {"staffId": str(desk.id), "notification": "NONE"}}
    payload = (await api.data(UPDATE_NOTIFICATIONS, variables, token))[
        "updateStaffAppointmentNotifications"
    ]
    assert payload["errors"] == []
    assert payload["staff"]["appointmentNotification"] == "NONE"


@pytest.mark.parametrize("mutation", ["updateStaffContact", "updateStaff"])
async def test_the_designated_staff_member_keeps_the_address_their_email_goes_to(
    api: Api, mutation: str
) -> None:
    # given the designated member's e-mail goes to their second address
    world = await make_world()
    desk = await with_choice(world, N.SECOND_EMAIL)
    await designate(world, desk)
    token = await api.staff_token(world.agency, "champion@a.test")
    # when that address is cleared
    if mutation == "updateStaffContact":
        query, variables = UPDATE_CONTACT, {"staffId": str(desk.id), "secondEmail": None}
    else:
        query, variables = UPDATE_STAFF, {"id": str(desk.id), "secondEmail": None}
    payload = (await api.data(query, {"input": variables}, token))[mutation]
    # then
    assert payload["errors"] == [{"code": "SECOND_EMAIL_REQUIRED", "field": "secondEmail"}]
    assert (await Staff.get(id=desk.id)).second_email == "5550001111@sms.test"


async def test_deactivating_the_designated_staff_member_clears_the_designation(
    api: Api,
) -> None:
    # given
    world = await make_world()
    desk = await with_choice(world, N.FIRST_EMAIL)
    await designate(world, desk)
    token = await api.staff_token(world.agency, "champion@a.test")
    assert (await appointments(api, token))["notificationWarning"] is None
    # when
    variables = {"input": {"id": str(desk.id), "isActive": False}}
    payload = (await api.data(UPDATE_STAFF, variables, token))["updateStaff"]
    # then nobody is designated and the settings page says so
    assert payload["errors"] == []
    assert await appointments(api, token) == {
        "notifiedStaffId": None,
        "notificationWarning": notifications.WARNING_NOBODY,
    }
    assert await AuditEvent.filter(
        action="settings.notified_staff.clear", object_id=str(desk.id)
    ).exists()
    # and reactivating them does not designate them again
    variables = {"input": {"id": str(desk.id), "isActive": True}}
    await api.data(UPDATE_STAFF, variables, token)
    assert (await appointments(api, token))["notifiedStaffId"] is None


async def test_deactivating_someone_else_keeps_the_designation(api: Api) -> None:
    world = await make_world()
    desk = await with_choice(world, N.FIRST_EMAIL)
    await designate(world, desk)
    token = await api.staff_token(world.agency, "champion@a.test")
    variables = {"input": {"id": str(world.clinician.id), "isActive": False}}
    await api.data(UPDATE_STAFF, variables, token)
    assert (await appointments(api, token))["notifiedStaffId"] == str(desk.id)


@pytest.mark.parametrize(
    ("setup_yes", "method", "choice", "warning"),
    [
        (False, NotifyMethod.EMAIL_AND_TASK, N.FIRST_EMAIL, notifications.WARNING_SETUP_NO),
        (True, NotifyMethod.EMAIL, N.NONE, notifications.WARNING_NO_EMAIL),
        (True, NotifyMethod.EMAIL_AND_TASK, N.NONE, notifications.WARNING_NO_EMAIL),
        (True, NotifyMethod.TASK, N.NONE, None),
        (True, NotifyMethod.EMAIL, N.SECOND_EMAIL, None),
    ],
)
async def test_the_warning_says_when_not_everyone_asked_for_is_notified(
    api: Api, setup_yes: bool, method: NotifyMethod, choice: N, warning: str | None
) -> None:
    # given (a choice of none written directly, as data from before the rule)
    world = await make_world()
    desk = await with_choice(world, choice)
    await designate(world, desk)
    await AgencySetup.filter(agency_id=world.agency.id).update(
        notify_email_on_new_appointment=setup_yes, notify_method=method
    )
    token = await api.staff_token(world.agency, "champion@a.test")
    # when / then
    assert (await appointments(api, token))["notificationWarning"] == warning


async def test_a_new_agency_is_warned_that_nobody_is_notified(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    assert (await appointments(api, token))["notificationWarning"] == notifications.WARNING_NOBODY


async def test_viewers_without_the_permission_are_refused(api: Api) -> None:
    # given the desk designated, and a clinician with no settings or staff permissions
    world = await make_world()
    desk = await with_choice(world, N.FIRST_EMAIL)
    await designate(world, desk)
    token = await api.staff_token(world.agency, "clinician@a.test")
    # when / then: no warning, no designation, no change of the desk's choice
    assert await api.error_code(APPOINTMENTS, token=token) == "FORBIDDEN"
    payload = {"input": {"notifiedStaffId": str(world.clinician.id)}}
    assert await api.error_code(UPDATE_APPOINTMENTS, payload, token) == "FORBIDDEN"
    variables = {"input": {"staffId": str(desk.id), "notification": "NONE"}}
    assert await api.error_code(UPDATE_NOTIFICATIONS, variables, token) == "FORBIDDEN"
    assert await api.error_code(APPOINTMENTS) == "UNAUTHENTICATED"
    assert (await PortalSettings.get(agency_id=world.agency.id)).notified_staff_id == desk.id
