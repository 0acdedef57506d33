"""Staff set their password through a one-time e-mailed link: createStaff, a manager's re-send,
forgot-password. Through /graphql, the outbox and the real SMTP server."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest

from models.enums import Permission, TokenState
from models.invitations import StaffPasswordLink
from models.mail import OutboxMessage
from models.staff import Staff
from resolvers import staff_passwords
from resolvers.clock import now, set_clock
from resolvers.sessions import hash_token
from tests.factories import STAFF_LOGIN, Api, World, make_staff, make_world
from tests.mailbox import Mailbox, body_text

# Unique per run: rate limits count per (agency slug, name) in a Redis that the SQLite and
# PostgreSQL runs (and reruns within the hour) share.
NO_SUCH_AGENCY = f"no-such-agency-{secrets.token_hex(4)}"

RunJobs = Callable[[], Awaitable[None]]
NEW_PASSWORD = "violet lantern morning river"
_TOKEN = re.compile(r"https://portal\.test/staff/([a-z0-9-]+)/set-password#token=([A-Za-z0-9_-]+)")

CREATE_STAFF = """
mutation ($input: CreateStaffInput!) {
  createStaff(input: $input) { staff { id email } errors { code field message } }
}"""
SEND_LINK = """
mutation ($input: SendStaffPasswordLinkInput!) {
  sendStaffPasswordLink(input: $input) { staff { id } expiresAt errors { code field message } }
}"""
REQUEST_RESET = """
mutation ($input: RequestStaffPasswordResetInput!) {
  requestStaffPasswordReset(input: $input) { ok errors { code field message } }
}"""
RESET = """
mutation ($input: ResetStaffPasswordInput!) {
  resetStaffPassword(input: $input) { ok errors { code field message } }
}"""
VIEWER = "{ viewer { staffId } }"


def link_token(message: Message, slug: str) -> str:
    found = _TOKEN.search(body_text(message))
    assert found, body_text(message)
    assert found.group(1) == slug
    return found.group(2)


async def create(api: Api, world: World, email: str) -> dict[str, Any]:
    token = await api.staff_token(world.agency, "champion@a.test")
    new = {"firstName": "Wilhelmina", "lastName": "Threadgood", "email": email}
    result: dict[str, Any] = (await api.data(CREATE_STAFF, {"input": new}, token))["createStaff"]
    return result


async def reset(api: Api, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    variables = {"input": {"token": token, "newPassword": password}}
    result: dict[str, Any] = (await api.data(RESET, variables))["resetStaffPassword"]
    return result


async def login(api: Api, world: World, email: str, password: str) -> dict[str, Any]:
    variables = {"input": {"agencySlug": world.agency.slug, "email": email, "password": password}}
    result: dict[str, Any] = (await api.data(STAFF_LOGIN, variables))["staffLogin"]
    return result


async def test_a_new_staff_member_sets_a_password_through_the_emailed_link_and_signs_in(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a staff member created through the API
    world = await make_world()
    created = await create(api, world, "Wil@A.test")
    assert created["errors"] == []
    await run_jobs()
    # then they got a PHI-free e-mail with the agency's name, a link and its expiry
    [message] = mailbox.to("wil@a.test")
    assert message["Subject"] == "Set your Test Agency staff password"
    text = body_text(message)
    assert f"expires after {staff_passwords.SET_PASSWORD_DAYS} day(s)" in text
    for name in ("Wilhelmina", "Threadgood", "Robin", "Main"):
        assert name not in text
    token = link_token(message, world.agency.slug)
    # and cannot sign in before using it
    assert (await login(api, world, "wil@a.test", NEW_PASSWORD))["session"] is None
    # when they choose a password with it
    assert await reset(api, token) == {"ok": True, "errors": []}
    # then they sign in
    session = (await login(api, world, "wil@a.test", NEW_PASSWORD))["session"]
    viewer = (await api.data(VIEWER, token=session["token"]))["viewer"]
    assert viewer["staffId"] == created["staff"]["id"]


async def test_the_link_works_once(api: Api, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    world = await make_world()
    await create(api, world, "once@a.test")
    await run_jobs()
    token = link_token(mailbox.to("once@a.test")[0], world.agency.slug)
    assert (await reset(api, token))["ok"] is True
    again = await reset(api, token, "another fine long passphrase")
    assert again["ok"] is False
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("RESET_LINK_INVALID", "token")]
    assert (await login(api, world, "once@a.test", NEW_PASSWORD))["session"] is not None


async def test_the_link_expires(api: Api, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    world = await make_world()
    await create(api, world, "late@a.test")
    await run_jobs()
    token = link_token(mailbox.to("late@a.test")[0], world.agency.slug)
    start = now()
    set_clock(lambda: start + timedelta(days=staff_passwords.SET_PASSWORD_DAYS, minutes=1))
    refused = await reset(api, token)
    assert [e["code"] for e in refused["errors"]] == ["RESET_LINK_INVALID"]
    set_clock(None)
    assert (await login(api, world, "late@a.test", NEW_PASSWORD))["session"] is None
    assert (await Staff.get(email="late@a.test")).password_hash is None


async def test_a_weak_password_is_refused_and_keeps_the_link(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await create(api, world, "weak@a.test")
    await run_jobs()
    token = link_token(mailbox.to("weak@a.test")[0], world.agency.slug)
    weak = await reset(api, token, "password1234")
    assert [(e["code"], e["field"]) for e in weak["errors"]] == [("WEAK_PASSWORD", "newPassword")]
    assert (await reset(api, token))["ok"] is True


async def test_a_resent_link_voids_the_older_one_and_using_it_ends_other_sessions(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a clinician signed in somewhere
    world = await make_world()
    old_session = await api.staff_token(world.agency, "clinician@a.test")
    manager = await api.staff_token(world.agency, "champion@a.test")
    # when the manager sends two links
    variables = {"input": {"staffId": str(world.clinician.id)}}
    first = (await api.data(SEND_LINK, variables, manager))["sendStaffPasswordLink"]
    assert first["errors"] == [] and first["staff"]["id"] == str(world.clinician.id)
    assert first["expiresAt"]
    await api.data(SEND_LINK, variables, manager)
    await run_jobs()
    # mail may arrive in either order: tell the links apart by when each was issued
    sent = [link_token(m, world.agency.slug) for m in mailbox.to("clinician@a.test")]
    rows = await StaffPasswordLink.filter(staff_id=world.clinician.id).order_by("created_at")
    by_hash = {hash_token(token): token for token in sent}
    older, newer = (by_hash[row.token_hash] for row in rows)
    assert "Reset your Test Agency staff password" in [
        m["Subject"] for m in mailbox.to("clinician@a.test")
    ]
    # then only the newer link works, and using it ends the old session
    assert [e["code"] for e in (await reset(api, older))["errors"]] == ["RESET_LINK_INVALID"]
    assert (await reset(api, newer))["ok"] is True
    assert await api.error_code(VIEWER, token=old_session) == "UNAUTHENTICATED"
    assert (await login(api, world, "clinician@a.test", NEW_PASSWORD))["session"] is not None
    links = await StaffPasswordLink.filter(staff_id=world.clinician.id)
    assert sorted(link.state for link in links) == [TokenState.SUPERSEDED, TokenState.USED]


async def test_using_a_link_voids_the_staff_members_other_links(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await create(api, world, "two@a.test")
    await run_jobs()
    welcome = link_token(mailbox.to("two@a.test")[0], world.agency.slug)
    forgot = {"input": {"agencySlug": world.agency.slug, "email": "two@a.test"}}
    await api.data(REQUEST_RESET, forgot)
    await run_jobs()
    newest = link_token(mailbox.to("two@a.test")[-1], world.agency.slug)
    assert newest != welcome
    assert (await reset(api, newest))["ok"] is True
    assert (await reset(api, welcome))["ok"] is False


@pytest.mark.parametrize("who", ["clinician", "portal", "anonymous", "other_agency"])
async def test_only_a_staff_manager_of_the_agency_may_send_a_link(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs, who: str
) -> None:
    world = await make_world()
    tokens = {
        "clinician": lambda: api.staff_token(world.agency, "clinician@a.test"),
        "portal": lambda: api.portal_token(world.agency, "robin"),
    }
    variables = {"input": {"staffId": str(world.front_desk.id)}}
    if who == "other_agency":
        other = await make_world()
        token = await api.staff_token(other.agency, "champion@a.test")
        result = (await api.data(SEND_LINK, variables, token))["sendStaffPasswordLink"]
        assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_FOUND", "staffId")]
    elif who == "anonymous":
        assert await api.error_code(SEND_LINK, variables) == "UNAUTHENTICATED"
    else:
        token = await tokens[who]()
        assert await api.error_code(SEND_LINK, variables, token) == "FORBIDDEN"
    await run_jobs()
    assert mailbox.to("desk@a.test") == []
    assert await StaffPasswordLink.filter(staff_id=world.front_desk.id).count() == 0


async def test_a_link_is_not_sent_to_an_inactive_staff_member(api: Api) -> None:
    world = await make_world()
    gone = await make_staff(world.agency, "gone@a.test", [Permission.MANAGE_STAFF], is_active=False)
    manager = await api.staff_token(world.agency, "champion@a.test")
    variables = {"input": {"staffId": str(gone.id)}}
    result = (await api.data(SEND_LINK, variables, manager))["sendStaffPasswordLink"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "staffId")]
    forgot = {"input": {"agencySlug": world.agency.slug, "email": "gone@a.test"}}
    assert (await api.data(REQUEST_RESET, forgot))["requestStaffPasswordReset"]["ok"] is True
    assert await StaffPasswordLink.filter(staff_id=gone.id).count() == 0


async def test_forgot_password_answers_alike_for_known_and_unknown_staff(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given
    world = await make_world()
    asks = [
        {"agencySlug": world.agency.slug, "email": " Clinician@A.test "},
        {"agencySlug": world.agency.slug, "email": "nobody@a.test"},
        {"agencySlug": NO_SUCH_AGENCY, "email": "clinician@a.test"},
    ]
    # when
    answers = []
    for ask in asks:
        started = time.monotonic()
        response = await api.http.post(
            "/graphql", json={"query": REQUEST_RESET, "variables": {"input": ask}}
        )
        answers.append((response.status_code, response.content, time.monotonic() - started))
    await run_jobs()
    # then every answer is byte for byte the same, and none came before the floor
    assert len({(status, content) for status, content, _ in answers}) == 1
    assert answers[0][1] == b'{"data":{"requestStaffPasswordReset":{"ok":true,"errors":[]}}}'
    assert all(took >= staff_passwords.ANSWER_FLOOR_SECONDS for *_, took in answers)
    # and only the real staff member got mail, which works
    assert [m["To"] for m in mailbox.messages] == ["clinician@a.test"]
    [message] = mailbox.messages
    assert message["Subject"] == "Reset your Test Agency staff password"
    assert f"expires after {staff_passwords.RESET_DAYS} day(s)" in body_text(message)
    assert (await reset(api, link_token(message, world.agency.slug)))["ok"] is True
    assert (await login(api, world, "clinician@a.test", NEW_PASSWORD))["session"] is not None


async def test_forgot_password_mail_is_bounded_per_account_like_the_portals(api: Api) -> None:
    # (more in tests/test_recovery_limits.py)
    world = await make_world()
    ask = {"input": {"agencySlug": world.agency.slug, "email": "clinician@a.test"}}
    codes = []
    for _ in range(6):
        result = (await api.data(REQUEST_RESET, ask))["requestStaffPasswordReset"]
        codes.append([e["code"] for e in result["errors"]])
    assert codes == [[]] * 6
    assert await OutboxMessage.filter(agency_id=world.agency.id).count() == 5
