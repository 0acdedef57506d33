"""Tasks through /graphql: a staff member lists and completes their own; MANAGE_ALL_APPOINTMENTS
may act on a colleague's; everyone else is refused without learning whether a task exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from models.enums import AppointmentNotification, Permission
from models.scheduling import Appointment, AppointmentSource
from models.settings import PortalSettings
from models.tasks import Task
from resolvers import notifications
from tests.factories import Api, World, make_staff, make_world

TASKS = """
query ($done: Boolean, $staffId: ID, $first: Int, $after: String) {
  tasks(done: $done, staffId: $staffId, first: $first, after: $after) {
    items {
      id kind staffId appointmentId appointmentRequestId createdAt doneAt doneByStaffId
    }
    nextCursor
  }
}"""
COMPLETE = """
mutation ($id: ID!) {
  completeTask(input: {taskId: $id}) {
    task { id doneAt doneByStaffId }
    errors { code field message }
  }
}"""


async def booked_tasks(world: World, count: int = 1) -> list[Task]:
    """Portal bookings with the desk designated: one task each, assigned to the desk."""
    desk = world.front_desk
    desk.appointment_notification = AppointmentNotification.FIRST_EMAIL
    await desk.save()
    await PortalSettings.filter(agency_id=world.agency.id).update(notified_staff_id=desk.id)
    start = datetime(2031, 5, 1, 15, tzinfo=UTC)
    for n in range(count):
        async with in_transaction():
            appointment = await Appointment.create(
                agency=world.agency,
                client=world.client,
                staff=world.clinician,
                location=world.location,
                starts_at=start + timedelta(hours=n),
                ends_at=start + timedelta(hours=n, minutes=50),
                source=AppointmentSource.PORTAL,
            )
            await notifications.portal_appointment_booked(appointment, "https://portal.test")
    return await Task.filter(staff_id=desk.id).order_by("id")


async def tasks_of(api: Api, token: str, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await api.data(TASKS, variables, token))["tasks"]
    return page


async def test_a_staff_member_lists_and_completes_their_tasks(api: Api) -> None:
    # given three portal bookings, so three open tasks for the designated desk
    world = await make_world()
    rows = await booked_tasks(world, 3)
    token = await api.staff_token(world.agency, "desk@a.test")
    # when they list them two at a time
    first = await tasks_of(api, token, first=2)
    second = await tasks_of(api, token, first=2, after=first["nextCursor"])
    # then oldest first, with what they are about and nothing about the client
    listed = first["items"] + second["items"]
    assert [t["id"] for t in listed] == [str(r.id) for r in rows]
    assert second["nextCursor"] is None
    assert listed[0] == {
        "id": str(rows[0].id),
        "kind": "PORTAL_APPOINTMENT_BOOKED",
        "staffId": str(world.front_desk.id),
        "appointmentId": str(rows[0].appointment_id),
        "appointmentRequestId": None,
        "createdAt": listed[0]["createdAt"],
        "doneAt": None,
        "doneByStaffId": None,
    }
    # when they complete one
    done = (await api.data(COMPLETE, {"id": str(rows[0].id)}, token))["completeTask"]
    # then it is done by them, listed as done and no longer open
    assert done["errors"] == []
    assert done["task"]["doneByStaffId"] == str(world.front_desk.id)
    assert done["task"]["doneAt"] is not None
    open_ids = [t["id"] for t in (await tasks_of(api, token, done=False))["items"]]
    done_ids = [t["id"] for t in (await tasks_of(api, token, done=True))["items"]]
    assert (open_ids, done_ids) == ([str(rows[1].id), str(rows[2].id)], [str(rows[0].id)])
    # and completing it again changes nothing
    again = (await api.data(COMPLETE, {"id": str(rows[0].id)}, token))["completeTask"]
    assert again["task"] == done["task"]


async def test_another_staff_members_task_is_refused_without_the_permission(api: Api) -> None:
    # given the desk's task and a clinician without MANAGE_ALL_APPOINTMENTS
    world = await make_world()
    (task,) = await booked_tasks(world)
    token = await api.staff_token(world.agency, "clinician@a.test")
    # when the clinician completes it, or lists the desk's tasks
    complete = await api.error_code(COMPLETE, {"id": str(task.id)}, token)
    listing = await api.error_code(TASKS, {"staffId": str(world.front_desk.id)}, token)
    # then both are refused like a task that does not exist, and the task stays open
    unknown = await api.error_code(COMPLETE, {"id": "00000000-0000-7000-8000-000000000000"}, token)
    assert (complete, listing, unknown) == ("FORBIDDEN", "FORBIDDEN", "FORBIDDEN")
    assert (await Task.get(id=task.id)).done_at is None
    # and their own list is empty
    assert (await tasks_of(api, token))["items"] == []


async def test_manage_all_appointments_covers_for_a_colleague(api: Api) -> None:
    # given
    world = await make_world()
    (task,) = await booked_tasks(world)
    manager = await make_staff(world.agency, "lead@a.test", [Permission.MANAGE_ALL_APPOINTMENTS])
    token = await api.staff_token(world.agency, "lead@a.test")
    # when
    listed = await tasks_of(api, token, staffId=str(world.front_desk.id))
    done = (await api.data(COMPLETE, {"id": str(task.id)}, token))["completeTask"]
    # then
    assert [t["id"] for t in listed["items"]] == [str(task.id)]
    assert done["task"]["doneByStaffId"] == str(manager.id)


async def test_another_agency_cannot_see_or_complete_our_tasks(api: Api) -> None:
    # given our task, and another agency's champion with every permission
    world, other = await make_world(), await make_world()
    (task,) = await booked_tasks(world)
    token = await api.staff_token(other.agency, "champion@a.test")
    # when / then
    assert await api.error_code(COMPLETE, {"id": str(task.id)}, token) == "FORBIDDEN"
    staff = {"staffId": str(world.front_desk.id)}
    assert (await tasks_of(api, token, **staff))["items"] == []
    assert (await Task.get(id=task.id)).done_at is None


@pytest.mark.parametrize("who", ["client", "representative"])
async def test_portal_users_have_no_tasks(api: Api, who: str) -> None:
    # given
    world = await make_world()
    (task,) = await booked_tasks(world)
    username = "robin" if who == "client" else "guardian"
    token = await api.portal_token(world.agency, username)
    # when / then
    assert await api.error_code(TASKS, {}, token) == "FORBIDDEN"
    assert await api.error_code(COMPLETE, {"id": str(task.id)}, token) == "FORBIDDEN"


async def test_signed_out_callers_are_unauthenticated(api: Api) -> None:
    world = await make_world()
    (task,) = await booked_tasks(world)
    assert await api.error_code(TASKS, {}) == "UNAUTHENTICATED"
    assert await api.error_code(COMPLETE, {"id": str(task.id)}) == "UNAUTHENTICATED"
