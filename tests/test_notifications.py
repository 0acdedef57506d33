"""Staff appointment notices: who hears of a portal booking, a request or a change, by which
channel, and that no notice carries PHI. Rows are made directly (the booking resolvers call the
same functions inside their transactions); mail goes through the outbox to the real SMTP server.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from emails.render import SMS_MAX, MailContext, MailKind, render_text_message
from emails.wording import NOTICE_LINES
from models.agency import Agency
from models.enums import AppointmentNotification, NotifyMethod
from models.mail import OutboxMessage
from models.scheduling import (
    Appointment,
    AppointmentRequest,
    AppointmentSource,
    RequestStatus,
)
from models.settings import AgencySetup, PortalSettings
from models.staff import Staff
from models.tasks import Task, TaskKind
from resolvers import notifications
from resolvers.notifications import Change
from tests.factories import World, make_world
from tests.mailbox import Mailbox, body_text

RunJobs = Callable[[], Awaitable[None]]
BASE = "https://portal.test"
N = AppointmentNotification
DESK_SMS = "5550001111@sms.test"
CLINICIAN_SMS = "5550002222@sms.test"
# Words that must never reach a staff notice: the client's and clinician's names, the time.
PHI = ["Quillon", "Marchetti", "Thistlewood", "Evangelina", "2031", "15:30", "10:30", "09:30"]
START = datetime(2031, 3, 14, 15, 30, tzinfo=UTC)


@dataclass
class Scene:
    world: World
    desk: Staff  # the designated staff member
    clinician: Staff


async def scene(
    *,
    setup_yes: bool = True,
    method: NotifyMethod = NotifyMethod.EMAIL_AND_TASK,
    desk_choice: N = N.FIRST_EMAIL,
    clinician_choice: N = N.NONE,
) -> Scene:
    world = await make_world()
    world.client.first_name, world.client.last_name = "Quillon", "Marchetti"
    await world.client.save()
    desk, clinician = world.front_desk, world.clinician
    desk.second_email, desk.appointment_notification = DESK_SMS, desk_choice
    await desk.save()
    clinician.first_name, clinician.last_name = "Evangelina", "Thistlewood"
    clinician.second_email, clinician.appointment_notification = CLINICIAN_SMS, clinician_choice
    await clinician.save()
    await PortalSettings.filter(agency_id=world.agency.id).update(notified_staff_id=desk.id)
    await AgencySetup.filter(agency_id=world.agency.id).update(
        notify_email_on_new_appointment=setup_yes, notify_method=method
    )
    return Scene(world, desk, clinician)


def _slot(world: World) -> dict[str, Any]:
    """The client, their clinician, the place and the time: what both kinds of row hold."""
    return {
        "agency": world.agency,
        "client": world.client,
        "staff": world.clinician,
        "location": world.location,
        "starts_at": START,
        "ends_at": START + timedelta(minutes=50),
    }


async def appointment(
    world: World, source: AppointmentSource = AppointmentSource.PORTAL
) -> Appointment:
    return await Appointment.create(
        **_slot(world), source=source, created_by_account=world.client_account
    )


async def request(world: World) -> AppointmentRequest:
    return await AppointmentRequest.create(
        **_slot(world), requested_by_account=world.client_account
    )


async def deliver(notices: notifications.Notices, run_jobs: RunJobs) -> None:
    await notices.send()
    await run_jobs()


def assert_no_phi(message: Message) -> None:
    text = body_text(message)
    for word in PHI:
        assert word not in text, (word, text)


def sms_length(message: Message) -> int:
    """Subject, one separator and the body, as a gateway puts them in a text message."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return len(str(message["Subject"])) + 1 + len(payload.decode().rstrip("\n"))


def expected_addresses(
    setup_yes: bool, method: NotifyMethod, desk_choice: N, clinician_choice: N
) -> set[str]:
    """The rule, written plainly: with the Setup tab's YES and e-mail in the method, each of
    the two gets mail at the address of their own choice."""
    if not setup_yes or method == NotifyMethod.TASK:
        return set()
    where = {
        ("desk", N.FIRST_EMAIL): "desk@a.test",
        ("desk", N.SECOND_EMAIL): DESK_SMS,
        ("clinician", N.FIRST_EMAIL): "clinician@a.test",
        ("clinician", N.SECOND_EMAIL): CLINICIAN_SMS,
    }
    chosen = [("desk", desk_choice), ("clinician", clinician_choice)]
    return {where[c] for c in chosen if c in where}


@pytest.mark.parametrize(
    ("setup_yes", "method", "desk_choice"),
    list(itertools.product([True, False], list(NotifyMethod), list(N))),
)
async def test_every_combination_of_the_settings_for_a_portal_booking_and_request(
    mailbox: Mailbox,
    run_jobs: RunJobs,
    setup_yes: bool,
    method: NotifyMethod,
    desk_choice: N,
) -> None:
    # given the Setup tab, the designated staff member's choice and each clinician choice
    s = await scene(setup_yes=setup_yes, method=method, desk_choice=desk_choice)
    for clinician_choice, event in itertools.product(list(N), ["booked", "requested"]):
        mailbox.messages.clear()
        await Staff.filter(id=s.clinician.id).update(appointment_notification=clinician_choice)
        # when a portal user books or requests, the notices written in the same transaction
        async with in_transaction():
            if event == "booked":
                booked = await appointment(s.world)
                notices = await notifications.portal_appointment_booked(booked, BASE)
                item_id = booked.id
            else:
                requested = await request(s.world)
                notices = await notifications.portal_appointment_requested(requested, BASE)
                item_id = requested.id
        await deliver(notices, run_jobs)
        # then mail reaches exactly the addresses the rules name
        case = (setup_yes, method, desk_choice, clinician_choice, event)
        wanted = expected_addresses(setup_yes, method, desk_choice, clinician_choice)
        assert {m["To"] for m in mailbox.messages} == wanted, case
        assert len(mailbox.messages) == len(wanted), case
        line = NOTICE_LINES[
            MailKind.APPOINTMENT_BOOKED if event == "booked" else MailKind.APPOINTMENT_REQUESTED
        ]
        for message in mailbox.messages:
            assert_no_phi(message)
            assert message["Subject"] == line
            assert f"{BASE}/staff/{s.world.agency.slug}/appointments" in body_text(message)
            if message["To"].endswith("@sms.test"):
                # a text message: plain text only, subject and body within one SMS
                assert not message.is_multipart(), case
                assert sms_length(message) <= SMS_MAX, case
            else:
                assert message.is_multipart(), case
        # and a task for the designated staff member when the method says task
        tasks = await Task.filter(staff_id=s.desk.id, done_at__isnull=True)
        by_task = setup_yes and method != NotifyMethod.EMAIL
        assert [t.id for t in tasks] == ([tasks[0].id] if by_task else []), case
        if by_task:
            task = tasks[0]
            if event == "booked":
                assert (task.kind, task.appointment_id) == (
                    TaskKind.PORTAL_APPOINTMENT_BOOKED,
                    item_id,
                )
            else:
                assert (task.kind, task.request_id) == (
                    TaskKind.PORTAL_APPOINTMENT_REQUESTED,
                    item_id,
                )
            assert notices.task_ids == [task.id]
            await Task.filter(id=task.id).update(done_at=START)
        assert await Task.filter(staff_id=s.clinician.id).count() == 0


CHANGES = [
    Change.CREATED,
    Change.CANCELLED,
    Change.APPROVED,
    Change.DENIED,
    Change.WITHDRAWN,
    Change.EXPIRED,
]


@pytest.mark.parametrize("choice", [N.FIRST_EMAIL, N.SECOND_EMAIL, N.NONE])
async def test_the_clinician_hears_of_every_change_at_the_address_they_chose(
    mailbox: Mailbox, run_jobs: RunJobs, choice: N
) -> None:
    # given
    s = await scene(clinician_choice=choice)
    appt, req = await appointment(s.world, AppointmentSource.STAFF), await request(s.world)
    for change in CHANGES:
        mailbox.messages.clear()
        item = (
            req
            if change in {Change.APPROVED, Change.DENIED, Change.WITHDRAWN, Change.EXPIRED}
            else appt
        )
        # when a change is made by someone other than the clinician (the desk, or the system)
        async with in_transaction():
            notices = await notifications.appointment_changed(item, change, BASE, s.desk.id)
        await deliver(notices, run_jobs)
        # then only the clinician hears of it: the designated staff member hears of new
        # portal appointments only, and not of a change they made themselves
        address = {N.FIRST_EMAIL: "clinician@a.test", N.SECOND_EMAIL: CLINICIAN_SMS}.get(choice)
        assert [m["To"] for m in mailbox.messages] == ([address] if address else []), change
        for message in mailbox.messages:
            assert_no_phi(message)
            assert message["Subject"] == NOTICE_LINES[notifications._MAIL[change]]
        assert notices.task_ids == []


async def test_nobody_is_told_of_their_own_change(mailbox: Mailbox, run_jobs: RunJobs) -> None:
    # given a clinician who wants appointment e-mail
    s = await scene(clinician_choice=N.FIRST_EMAIL)
    appt = await appointment(s.world, AppointmentSource.STAFF)
    # when they cancel their own appointment
    async with in_transaction():
        notices = await notifications.appointment_changed(
            appt, Change.CANCELLED, BASE, s.clinician.id
        )
    await deliver(notices, run_jobs)
    # then
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("setup_yes", "method"), [(False, NotifyMethod.EMAIL_AND_TASK), (True, NotifyMethod.TASK)]
)
async def test_the_setup_tab_gates_the_clinicians_change_notices_too(
    mailbox: Mailbox, run_jobs: RunJobs, setup_yes: bool, method: NotifyMethod
) -> None:
    # given the Setup tab says NO, or notifies by task only
    s = await scene(setup_yes=setup_yes, method=method, clinician_choice=N.FIRST_EMAIL)
    appt = await appointment(s.world)
    # when
    async with in_transaction():
        notices = await notifications.appointment_changed(appt, Change.CANCELLED, BASE)
    await deliver(notices, run_jobs)
    # then
    assert mailbox.messages == []


async def test_a_designated_clinician_gets_one_notice_not_two(
    mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given the clinician is also the designated staff member
    s = await scene(clinician_choice=N.FIRST_EMAIL)
    await PortalSettings.filter(agency_id=s.world.agency.id).update(
        notified_staff_id=s.clinician.id
    )
    # when a client books with them
    async with in_transaction():
        notices = await notifications.portal_appointment_booked(await appointment(s.world), BASE)
    await deliver(notices, run_jobs)
    # then
    assert [m["To"] for m in mailbox.messages] == ["clinician@a.test"]
    assert await Task.filter(staff_id=s.clinician.id).count() == 1


async def test_an_inactive_designated_staff_member_hears_nothing(
    mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given the designation left on an inactive member (written directly)
    s = await scene()
    await Staff.filter(id=s.desk.id).update(is_active=False)
    # when
    async with in_transaction():
        notices = await notifications.portal_appointment_booked(await appointment(s.world), BASE)
    await deliver(notices, run_jobs)
    # then
    assert mailbox.messages == []
    assert await Task.filter(staff_id=s.desk.id).count() == 0


async def test_notices_are_kept_or_lost_with_the_change_that_caused_them() -> None:
    # given
    s = await scene(clinician_choice=N.FIRST_EMAIL)
    before = await OutboxMessage.filter(agency_id=s.world.agency.id).count()

    # when the booking's transaction fails after the notices were written
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with in_transaction():
            appt = await appointment(s.world)
            await notifications.portal_appointment_booked(appt, BASE)
            raise Boom
    # then neither the mail nor the task is left behind
    assert await OutboxMessage.filter(agency_id=s.world.agency.id).count() == before
    assert await Task.filter(agency_id=s.world.agency.id).count() == 0


async def test_settling_a_request_marks_its_open_task_done() -> None:
    # given a request with its task
    s = await scene(method=NotifyMethod.TASK)
    req = await request(s.world)
    async with in_transaction():
        await notifications.portal_appointment_requested(req, BASE)
    # when the clinician approves it
    async with in_transaction():
        req.status = RequestStatus.APPROVED
        await req.save()
        await notifications.appointment_changed(req, Change.APPROVED, BASE, s.clinician.id)
    # then nobody needs to act on it any more
    task = await Task.get(request_id=req.id)
    assert task.done_at is not None
    assert task.done_by_staff_id == s.clinician.id


def test_a_text_message_fits_in_160_characters_with_the_link_or_without_it() -> None:
    slug = "a" * 63  # the longest agency slug
    fits = notifications.appointments_link("https://portal.behavioral-agency.org", slug)
    assert len(fits) == 119
    too_long = notifications.appointments_link("https://" + "p" * 80 + ".example.org", slug)
    for kind, line in NOTICE_LINES.items():
        assert len(line) <= 40, line
        # with a link that fits it is the body
        mail = render_text_message(MailContext("Agency " * 40, fits), kind)
        assert len(mail.subject) + 1 + len(mail.text) <= SMS_MAX
        assert (mail.text, mail.html) == (fits, "")
        # a link that would not fit is left out, never cut
        mail = render_text_message(MailContext("Agency", too_long), kind)
        assert mail.text == ""
        assert len(mail.subject) <= SMS_MAX


async def test_the_agency_name_and_a_long_slug_still_make_a_short_text(
    mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given an agency with a long name and the longest slug, notices to a second address
    s = await scene(desk_choice=N.SECOND_EMAIL)
    await Agency.filter(id=s.world.agency.id).update(name="N" * 200, slug="s" * 63)
    # when
    async with in_transaction():
        notices = await notifications.portal_appointment_requested(await request(s.world), BASE)
    await deliver(notices, run_jobs)
    # then
    (message,) = mailbox.messages
    assert sms_length(message) <= SMS_MAX
    assert f"{BASE}/staff/{'s' * 63}/appointments" in body_text(message)
