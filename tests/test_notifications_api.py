"""Staff appointment notices end to end: portal users book, request and cancel through /graphql,
staff decide; the designated staff member's and the clinician's mail arrives at the real SMTP
server and tasks appear in `tasks`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import pytest

from models.enums import AppointmentMode, AppointmentNotification, NotifyMethod
from models.settings import AgencySetup, PortalSettings
from models.staff import Staff
from resolvers.clock import set_clock
from tests.factories import Api, World
from tests.mailbox import Mailbox, body_text
from tests.test_scheduling import (
    APPROVE,
    BOOK,
    CANCEL,
    CREATE,
    NOW,
    book_at,
    ready,
    request_ten,
    slot_input,
)
from tests.test_tasks import TASKS

RunJobs = Callable[[], Awaitable[None]]
N = AppointmentNotification
SMS = "5550002222@sms.test"
# The client's name and the appointment's day and times (09:00 and 10:00 in Chicago, UTC too).
PHI = ["Quillon", "Marchetti", "2026", "June", "09:00", "10:00", "14:00", "15:00"]


@pytest.fixture(autouse=True)
def _fixed_now() -> None:
    set_clock(lambda: NOW.astimezone(UTC))


async def notify(
    world: World, *, setup_yes: bool = True, method: NotifyMethod = NotifyMethod.EMAIL_AND_TASK
) -> None:
    """The desk is designated (first address); the clinician wants texts at their second."""
    world.client.first_name, world.client.last_name = "Quillon", "Marchetti"
    await world.client.save()
    await Staff.filter(id=world.front_desk.id).update(appointment_notification=N.FIRST_EMAIL)
    await Staff.filter(id=world.clinician.id).update(
        second_email=SMS, appointment_notification=N.SECOND_EMAIL
    )
    await PortalSettings.filter(agency_id=world.agency.id).update(
        notified_staff_id=world.front_desk.id
    )
    await AgencySetup.filter(agency_id=world.agency.id).update(
        notify_email_on_new_appointment=setup_yes, notify_method=method
    )


def staff_mail(mailbox: Mailbox) -> dict[str, str]:
    """Subject by address of the mail staff received, each checked for PHI."""
    received = {}
    for message in mailbox.messages:
        text = body_text(message)
        for word in PHI:
            assert word not in text, (word, text)
        if not message["To"].endswith("@c.test"):  # the client's own update mail aside
            received[message["To"]] = str(message["Subject"])
    return received


async def desk_tasks(api: Api, world: World, **variables: Any) -> list[dict[str, Any]]:
    token = await api.staff_token(world.agency, "desk@a.test")
    items: list[dict[str, Any]] = (await api.data(TASKS, variables, token))["tasks"]["items"]
    return items


async def test_a_portal_booking_reaches_the_designated_staff_member_and_the_clinician(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given
    world, _, client = await ready(api, AppointmentMode.MAKE)
    await notify(world)
    # when the client books
    booked = await book_at(api, world, client, "2026-06-01T09:00:00-05:00")
    await run_jobs()
    # then the desk gets an e-mail and a task, the clinician a text, and none says more
    assert staff_mail(mailbox) == {
        "desk@a.test": "New portal appointment booked.",
        SMS: "New portal appointment booked.",
    }
    (task,) = await desk_tasks(api, world)
    assert (task["kind"], task["appointmentId"]) == ("PORTAL_APPOINTMENT_BOOKED", booked["id"])

    # when the client cancels it
    mailbox.messages.clear()
    cancelled = await api.data(CANCEL, {"input": {"appointmentId": booked["id"]}}, client)
    assert cancelled["cancelAppointment"]["errors"] == []
    await run_jobs()
    # then the clinician hears of it; the desk hears of new appointments only
    assert staff_mail(mailbox) == {SMS: "An appointment was cancelled."}


async def test_a_portal_request_makes_a_task_that_the_approval_closes(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given
    world, clinician, client = await ready(api, AppointmentMode.REQUEST)
    await notify(world)
    # when the client requests a time
    request = await request_ten(api, world, client)
    await run_jobs()
    # then
    assert staff_mail(mailbox) == {
        "desk@a.test": "New portal appointment request.",
        SMS: "New portal appointment request.",
    }
    (task,) = await desk_tasks(api, world, done=False)
    assert task["appointmentRequestId"] == request["id"]

    # when the clinician approves it
    mailbox.messages.clear()
    approved = await api.data(APPROVE, {"input": {"id": request["id"]}}, clinician)
    assert approved["approveAppointmentRequest"]["errors"] == []
    await run_jobs()
    # then the desk's task is done by the clinician, who is not told of their own decision
    assert staff_mail(mailbox) == {}
    (done,) = await desk_tasks(api, world, done=True)
    assert done["doneByStaffId"] == str(world.clinician.id)


async def test_an_appointment_made_by_someone_else_reaches_the_clinician(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given
    world, _, _ = await ready(api, AppointmentMode.MAKE)
    await notify(world)
    champion = await api.staff_token(world.agency, "champion@a.test")
    # when the champion puts an appointment on the clinician's calendar
    variables = {
        "input": {
            "clientId": str(world.client.id),
            "staffId": str(world.clinician.id),
            "locationId": str(world.location.id),
            "start": "2026-06-01T14:00:00-05:00",
        }
    }
    created = (await api.data(CREATE, variables, champion))["createAppointment"]
    assert created["errors"] == []
    await run_jobs()
    # then
    assert staff_mail(mailbox) == {SMS: "Appointment added to your calendar."}
    assert await desk_tasks(api, world) == []


@pytest.mark.parametrize(
    ("setup_yes", "method"), [(False, NotifyMethod.EMAIL_AND_TASK), (True, NotifyMethod.TASK)]
)
async def test_the_setup_tab_decides_whether_and_how_staff_hear(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs, setup_yes: bool, method: NotifyMethod
) -> None:
    # given
    world, _, client = await ready(api, AppointmentMode.MAKE)
    await notify(world, setup_yes=setup_yes, method=method)
    # when
    await book_at(api, world, client, "2026-06-01T09:00:00-05:00")
    await run_jobs()
    # then no staff e-mail either way; a task only when the Setup tab says YES
    assert staff_mail(mailbox) == {}
    assert len(await desk_tasks(api, world)) == (1 if setup_yes else 0)


async def test_a_refused_booking_notifies_nobody(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a slot already taken
    world, _, client = await ready(api, AppointmentMode.MAKE)
    await book_at(api, world, client, "2026-06-01T09:00:00-05:00")
    await notify(world)
    await run_jobs()
    mailbox.messages.clear()
    # when the client tries it again
    again = await api.data(BOOK, slot_input(world, "2026-06-01T09:00:00-05:00"), client)
    await run_jobs()
    # then
    assert again["bookAppointment"]["errors"]
    assert staff_mail(mailbox) == {}
    assert await desk_tasks(api, world) == []
