"""MANAGE_STAFF does not lift its holder above what they were given: nobody grants or removes a
permission they lack, nor changes the sign-in e-mail, permissions or active state of, nor sends a
password link to, someone who holds a permission they lack. A changed sign-in e-mail is
announced to the old address. Through /graphql, the outbox and the real SMTP server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models.audit import AuditEvent
from models.enums import Permission
from models.invitations import StaffPasswordLink
from models.mail import OutboxMessage
from models.staff import Staff
from tests.factories import PASSWORD, Api, World, make_staff, make_world
from tests.mailbox import Mailbox, body_text
from tests.test_recovery import assert_no_phi, phi_world
from tests.test_staff import CREATE_STAFF, UPDATE_STAFF, UPDATE_STAFF_CONTACT
from tests.test_staff_passwords import RESET, SEND_LINK, VIEWER, link_token, login

RunJobs = Callable[[], Awaitable[None]]
EVERYTHING = [p.value for p in Permission]
MANAGING = Permission.MANAGE_STAFF.value
NOTICE_SUBJECT = "Your Test Agency sign-in e-mail address was changed"
NOTICE = (
    "The e-mail address you sign in with at Test Agency was changed; "
    "if this wasn't expected, contact your agency."
)


async def manager(api: Api, world: World, *extra: Permission) -> tuple[Staff, str]:
    """A staff manager holding MANAGE_STAFF (and `extra`), signed in."""
    row = await make_staff(world.agency, "sm@a.test", [Permission.MANAGE_STAFF, *extra])
    return row, await api.staff_token(world.agency, "sm@a.test")


def update(staff: Staff, **fields: Any) -> dict[str, Any]:
    return {"input": {"id": str(staff.id), **fields}}


async def denied(world: World) -> int:
    return await AuditEvent.filter(agency_id=world.agency.id, outcome="DENIED").count()


# escalation refused (each path of the attack)


async def test_a_staff_manager_cannot_grant_themselves_permissions_they_lack(api: Api) -> None:
    # given a staff member holding only MANAGE_STAFF
    world = await make_world()
    me, token = await manager(api, world)
    # when they give themselves everything
    code = await api.error_code(UPDATE_STAFF, update(me, permissions=EVERYTHING), token)
    # then it is refused, audited, and they hold what they held
    assert code == "FORBIDDEN"
    assert (await Staff.get(id=me.id)).permissions == ["MANAGE_STAFF"]
    assert await denied(world) == 1


async def test_a_staff_manager_cannot_create_staff_with_permissions_they_lack(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    _, token = await manager(api, world)
    new = {"firstName": "Side", "lastName": "Door", "email": "side@evil.test"}
    assert await api.error_code(
        CREATE_STAFF, {"input": {**new, "permissions": ["VIEW_ALL_CLIENTS"]}}, token
    ) == ("FORBIDDEN")
    await run_jobs()
    assert await Staff.filter(agency_id=world.agency.id, email="side@evil.test").count() == 0
    assert mailbox.to("side@evil.test") == []
    # what they hold themselves they may give
    both = {**new, "permissions": ["MANAGE_STAFF"]}
    created = (await api.data(CREATE_STAFF, {"input": both}, token))["createStaff"]
    assert created["errors"] == []
    assert created["staff"]["permissions"] == ["MANAGE_STAFF"]


async def test_a_staff_manager_cannot_take_over_the_champion(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given the champion signed in, and a manager holding only MANAGE_STAFF
    world = await make_world()
    champion = world.champion
    champion_session = await api.staff_token(world.agency, "champion@a.test")
    _, token = await manager(api, world)
    attempts = [
        (UPDATE_STAFF, update(champion, email="attacker@evil.test")),
        (UPDATE_STAFF_CONTACT, {"input": {"staffId": str(champion.id), "email": "a@evil.test"}}),
        (SEND_LINK, {"input": {"staffId": str(champion.id)}}),
        (UPDATE_STAFF, update(champion, isActive=False)),
        # even taking away only what the manager holds too
        (UPDATE_STAFF, update(champion, permissions=[p for p in EVERYTHING if p != MANAGING])),
    ]
    # when / then every step of the take-over is refused
    for query, variables in attempts:
        assert await api.error_code(query, variables, token) == "FORBIDDEN", variables
    assert await denied(world) == len(attempts)
    await run_jobs()
    row = await Staff.get(id=champion.id)
    assert (row.email, row.is_active) == ("champion@a.test", True)
    assert sorted(row.permissions) == sorted(EVERYTHING)
    assert await StaffPasswordLink.filter(staff_id=champion.id).count() == 0
    assert mailbox.messages == []
    # and the champion is still signed in, and signs in again
    assert (await api.data(VIEWER, token=champion_session))["viewer"]["staffId"] == str(champion.id)
    assert (await login(api, world, "champion@a.test", PASSWORD))["session"] is not None


async def test_a_manager_cannot_remove_a_permission_they_lack_nor_act_on_its_holder(
    api: Api,
) -> None:
    # front desk holds MANAGE_PORTAL_ACCESS and VIEW_ALL_CLIENTS; the manager only one of them
    world = await make_world()
    _, token = await manager(api, world, Permission.MANAGE_PORTAL_ACCESS)
    desk = world.front_desk
    for variables in (
        update(desk, permissions=["MANAGE_PORTAL_ACCESS"]),  # removes VIEW_ALL_CLIENTS
        update(desk, permissions=["MANAGE_PORTAL_ACCESS", "VIEW_ALL_CLIENTS", "MANAGE_STAFF"]),
        update(desk, email="desk2@a.test"),
    ):
        assert await api.error_code(UPDATE_STAFF, variables, token) == "FORBIDDEN"
    row = await Staff.get(id=desk.id)
    assert (row.email, row.permissions) == (
        "desk@a.test",
        ["MANAGE_PORTAL_ACCESS", "VIEW_ALL_CLIENTS"],
    )
    # names of someone more privileged stay editable: they grant nothing
    renamed = (await api.data(UPDATE_STAFF, update(desk, firstName="Dana"), token))["updateStaff"]
    assert renamed["errors"] == []


# what stays possible


async def test_the_champion_manages_everyone(api: Api, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    other = await make_staff(world.agency, "champ2@a.test", [Permission(p) for p in EVERYTHING])
    for staff in (world.front_desk, other):
        changes = update(staff, email=f"new-{staff.email}", permissions=["VIEW_ALL_CLIENTS"])
        assert (await api.data(UPDATE_STAFF, changes, token))["updateStaff"]["errors"] == []
        sent = await api.data(SEND_LINK, {"input": {"staffId": str(staff.id)}}, token)
        assert sent["sendStaffPasswordLink"]["errors"] == []
        off = await api.data(UPDATE_STAFF, update(staff, isActive=False), token)
        assert off["updateStaff"]["staff"]["isActive"] is False
    await run_jobs()
    assert len(mailbox.to("new-champ2@a.test")) == 1


async def test_a_manager_manages_staff_whose_permissions_are_a_subset_of_theirs(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a manager with MANAGE_STAFF and MANAGE_PORTAL_ACCESS, a clinician with nothing and
    # a member with MANAGE_PORTAL_ACCESS
    world = await make_world()
    _, token = await manager(api, world, Permission.MANAGE_PORTAL_ACCESS)
    member = await make_staff(world.agency, "member@a.test", [Permission.MANAGE_PORTAL_ACCESS])
    clinician = world.clinician
    # when they grant, move e-mail, send a link, take away and deactivate
    steps = [
        update(clinician, permissions=["MANAGE_PORTAL_ACCESS"]),
        update(clinician, email="clin2@a.test"),
        update(member, permissions=[]),
        update(member, isActive=False),
    ]
    for variables in steps:
        result = (await api.data(UPDATE_STAFF, variables, token))["updateStaff"]
        assert result["errors"] == [], variables
    link = await api.data(SEND_LINK, {"input": {"staffId": str(clinician.id)}}, token)
    # then all of it happened
    assert link["sendStaffPasswordLink"]["errors"] == []
    row = await Staff.get(id=clinician.id)
    assert (row.email, row.permissions) == ("clin2@a.test", ["MANAGE_PORTAL_ACCESS"])
    gone = await Staff.get(id=member.id)
    assert (gone.permissions, gone.is_active) == ([], False)
    await run_jobs()
    assert len(mailbox.to("clin2@a.test")) == 1


async def test_without_manage_staff_one_still_edits_ones_own_contact(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    me = {"input": {"staffId": str(world.clinician.id), "email": "clinician2@a.test"}}
    result = (await api.data(UPDATE_STAFF_CONTACT, me, token))["updateStaffContact"]
    assert result["errors"] == []
    assert result["staff"]["email"] == "clinician2@a.test"


# the old address hears of a change


async def test_a_changed_sign_in_e_mail_is_announced_to_the_old_address_without_phi(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a manager moving a clinician's sign-in e-mail
    world = await phi_world()
    _, token = await manager(api, world)
    # when
    changed = await api.data(UPDATE_STAFF, update(world.clinician, email="x@elsewhere.test"), token)
    await run_jobs()
    # then the old address is told, in the fixed wording, and nothing more
    assert changed["updateStaff"]["errors"] == []
    [notice] = mailbox.to("clinician@a.test")
    assert notice["Subject"] == NOTICE_SUBJECT
    text = body_text(notice)
    assert NOTICE in text
    assert_no_phi(notice, world)
    for detail in ("x@elsewhere.test", world.clinician.last_name, "http"):
        assert detail not in text
    # the new address gets nothing until someone sends it a link
    assert mailbox.to("x@elsewhere.test") == []


async def test_a_change_of_ones_own_e_mail_is_announced_to_the_old_address(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    me = {"input": {"staffId": str(world.clinician.id), "email": "Mine@A.test"}}
    await api.data(UPDATE_STAFF_CONTACT, me, token)
    # the same address again (any case) is no change: no second notice
    again = {"input": {"staffId": str(world.clinician.id), "email": "mine@a.test"}}
    await api.data(UPDATE_STAFF_CONTACT, again, token)
    await run_jobs()
    assert [m["Subject"] for m in mailbox.to("clinician@a.test")] == [NOTICE_SUBJECT]
    assert mailbox.to("mine@a.test") == []


async def test_no_notice_when_the_e_mail_is_not_changed(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    await api.data(UPDATE_STAFF, update(world.clinician, firstName="Casey"), token)
    await api.data(UPDATE_STAFF, update(world.clinician, email="clinician@a.test"), token)
    await run_jobs()
    assert mailbox.messages == []
    kinds = OutboxMessage.filter(agency_id=world.agency.id, kind="staff_email_changed")
    assert await kinds.count() == 0


async def test_a_link_to_a_peer_still_sets_a_password(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # a manager's link to someone with no more than they hold works end to end
    world = await make_world()
    _, token = await manager(api, world)
    sent = await api.data(SEND_LINK, {"input": {"staffId": str(world.clinician.id)}}, token)
    assert sent["sendStaffPasswordLink"]["errors"] == []
    await run_jobs()
    [message] = mailbox.to("clinician@a.test")
    token = link_token(message, world.agency.slug)
    variables = {"input": {"token": token, "newPassword": PASSWORD}}
    assert (await api.data(RESET, variables))["resetStaffPassword"]["ok"] is True
