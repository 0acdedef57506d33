"""User-name recovery and password reset, through /graphql and the real SMTP server."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from models.accounts import PortalAccount
from models.enums import PortalAccountKind, TokenState
from models.invitations import PasswordReset
from models.mail import OutboxMessage
from resolvers.clock import now, set_clock
from tests.factories import PASSWORD, PASSWORD_HASH, PORTAL_LOGIN, Api, World, make_world
from tests.mailbox import Mailbox, body_text

# Unique per run: rate limits count per (agency slug, name) in a Redis that the SQLite and
# PostgreSQL runs (and reruns within the hour) share.
NO_SUCH_AGENCY = f"no-such-agency-{secrets.token_hex(4)}"

RunJobs = Callable[[], Awaitable[None]]

REQUEST_RESET = """
mutation ($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) { ok errors { code field message } }
}"""

REQUEST_USERNAME = """
mutation ($input: RequestUsernameRecoveryInput!) {
  requestUsernameRecovery(input: $input) { ok errors { code field message } }
}"""

RESET = """
mutation ($input: ResetPasswordInput!) {
  resetPassword(input: $input) { ok errors { code field message } }
}"""

UPDATE_UTILITIES = """
mutation ($input: UpdateUtilitySettingsInput!) {
  updateUtilitySettings(input: $input) { errors { code field message } }
}"""

VIEWER = "{ viewer { portalAccountId } }"
NEW_PASSWORD = "a brand new long passphrase"
_TOKEN = re.compile(r"/reset-password#token=([A-Za-z0-9_-]+)")


def fresh_ip() -> str:
    """Each test signs in from its own address, so per-address counts never carry over."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@asynccontextmanager
async def client_at(app: Starlette, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_at(app, fresh_ip()) as client:
        yield client


async def deliver(run_jobs: RunJobs) -> None:
    """The request's job writes the mail, then the delivery jobs run."""
    await run_jobs()


def reset_token(message: Message) -> str:
    found = _TOKEN.search(body_text(message))
    assert found, body_text(message)
    return found.group(1)


async def request_reset(api: Api, slug: str, username: str) -> dict[str, Any]:
    variables = {"input": {"agencySlug": slug, "username": username}}
    result: dict[str, Any] = (await api.data(REQUEST_RESET, variables))["requestPasswordReset"]
    return result


async def reset(api: Api, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    variables = {"input": {"token": token, "newPassword": password}}
    result: dict[str, Any] = (await api.data(RESET, variables))["resetPassword"]
    return result


async def login(api: Api, world: World, username: str, password: str) -> dict[str, Any]:
    variables = {
        "input": {"agencySlug": world.agency.slug, "username": username, "password": password}
    }
    result: dict[str, Any] = (await api.data(PORTAL_LOGIN, variables))["portalLogin"]
    return result


def assert_no_phi(message: Message, world: World) -> None:
    text = body_text(message)
    client = world.client
    for value in (client.first_name, f"{client.first_name} {client.last_name}", "Gale"):
        assert value not in text
    if client.date_of_birth:
        birth = client.date_of_birth
        for shown in (birth.isoformat(), birth.strftime("%m/%d/%Y"), birth.strftime("%B")):
            assert shown not in text


async def phi_world() -> World:
    world = await make_world()
    world.client.date_of_birth = date(1987, 9, 23)
    await world.client.save()
    return world


OK = {"ok": True, "errors": []}


async def test_a_reset_link_from_the_agency_email_sets_the_password_and_ends_sessions(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given the agency's own wording and a signed-in client
    world = await phi_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    wording = {
        "passwordResetSubject": "{{ agency_name }}: your reset link",
        "passwordResetMessage": "Follow the link within {{ expiry_days }} days.",
        "passwordResetExpiryDays": 3,
    }
    changed = await api.data(UPDATE_UTILITIES, {"input": wording}, token=champion)
    assert changed["updateUtilitySettings"]["errors"] == []
    old_session = await api.portal_token(world.agency, "robin")
    # when
    assert await request_reset(api, world.agency.slug, " Robin ") == OK
    await deliver(run_jobs)
    # then the e-mail uses the agency's subject and message, and carries only a link
    [message] = mailbox.to("robin@c.test")
    assert message["Subject"] == "Test Agency: your reset link"
    text = body_text(message)
    assert "Follow the link within 3 days." in text
    link = f"https://portal.test/portal/{world.agency.slug}/reset-password#token="
    assert link in text
    assert_no_phi(message, world)
    token = reset_token(message)
    row = await PasswordReset.get(account_id=world.client_account.id)
    assert row.token_hash != token and len(row.token_hash) == 64
    assert row.expires_at - row.created_at == timedelta(days=3)
    # when the link is used
    assert await reset(api, token) == OK
    # then every old session has ended, and only the new password signs in
    assert await api.error_code(VIEWER, token=old_session) == "UNAUTHENTICATED"
    signed_in = await login(api, world, "robin", NEW_PASSWORD)
    assert signed_in["errors"] == [] and signed_in["session"]["token"]
    refused = await login(api, world, "robin", PASSWORD)
    assert refused["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # and the link works once
    again = await reset(api, token, "yet another long passphrase")
    assert again["ok"] is False
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("RESET_LINK_INVALID", "token")]


async def test_an_expired_link_is_refused_like_an_unknown_one(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await request_reset(api, world.agency.slug, "robin")
    await deliver(run_jobs)
    token = reset_token(mailbox.to("robin@c.test")[0])
    later = now() + timedelta(days=2, minutes=1)  # the default expiry is 2 days
    set_clock(lambda: later)
    expired = await reset(api, token)
    unknown = await reset(api, "not-a-real-token")
    assert expired == unknown
    assert expired["errors"][0]["code"] == "RESET_LINK_INVALID"
    account = await PortalAccount.get(id=world.client_account.id)
    assert account.password_hash == PASSWORD_HASH


async def test_a_new_request_voids_the_older_link(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await request_reset(api, world.agency.slug, "robin")
    await deliver(run_jobs)
    await request_reset(api, world.agency.slug, "robin")
    await deliver(run_jobs)
    first, second = (reset_token(m) for m in mailbox.to("robin@c.test"))
    assert (await reset(api, first))["errors"][0]["code"] == "RESET_LINK_INVALID"
    assert await reset(api, second) == OK
    states = await PasswordReset.filter(account_id=world.client_account.id).order_by("created_at")
    assert [r.state for r in states] == [TokenState.SUPERSEDED, TokenState.USED]


async def test_a_weak_password_is_refused_and_the_link_still_works(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await request_reset(api, world.agency.slug, "robin")
    await deliver(run_jobs)
    token = reset_token(mailbox.to("robin@c.test")[0])
    weak = await reset(api, token, "short")
    assert [(e["code"], e["field"]) for e in weak["errors"]] == [("WEAK_PASSWORD", "newPassword")]
    assert await reset(api, token) == OK


async def test_two_resets_racing_for_one_link_change_the_password_once(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await request_reset(api, world.agency.slug, "robin")
    await deliver(run_jobs)
    token = reset_token(mailbox.to("robin@c.test")[0])
    answers = await asyncio.gather(
        reset(api, token, "first racing passphrase"), reset(api, token, "second racing passphrase")
    )
    assert sorted(a["ok"] for a in answers) == [False, True]
    winner = "first" if answers[0]["ok"] else "second"
    signed_in = await login(api, world, "robin", f"{winner} racing passphrase")
    assert signed_in["errors"] == []


async def test_username_recovery_mails_each_account_of_the_address_its_user_name(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given the client's address also has a representative account
    world = await phi_world()
    await PortalAccount.create(
        agency=world.agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="robin-helper",
        email="robin@c.test",
        password_hash=PASSWORD_HASH,
    )
    champion = await api.staff_token(world.agency, "champion@a.test")
    wording = {
        "usernameRecoverySubject": "{{ agency_name }} user name",
        "usernameRecoveryMessage": "Your user name is {{ username }}.",
    }
    await api.data(UPDATE_UTILITIES, {"input": wording}, token=champion)
    # when
    variables = {"input": {"agencySlug": world.agency.slug, "email": " Robin@C.test"}}
    answer = (await api.data(REQUEST_USERNAME, variables))["requestUsernameRecovery"]
    await deliver(run_jobs)
    # then
    assert answer == OK
    messages = mailbox.to("robin@c.test")
    assert {m["Subject"] for m in messages} == {"Test Agency user name"}
    # one e-mail per account (each has a text and an HTML part)
    named = [set(re.findall(r"user name is ([a-z.-]+)\.", body_text(m))) for m in messages]
    assert sorted(named, key=sorted) == [{"robin"}, {"robin-helper"}]
    for message in messages:
        assert f"https://portal.test/portal/{world.agency.slug}" in body_text(message)
        assert "#token=" not in body_text(message)
        assert_no_phi(message, world)
    assert mailbox.to("guardian@c.test") == []


async def raw(api: Api, query: str, variables: dict[str, Any]) -> bytes:
    response = await api.http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    return response.content


async def test_recovery_answers_are_byte_identical_whether_or_not_the_account_exists(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await PortalAccount.filter(id=world.representative_account.id).update(is_active=False)
    slug = world.agency.slug
    resets = [
        {"agencySlug": slug, "username": "robin"},
        {"agencySlug": slug, "username": "nobody"},
        {"agencySlug": slug, "username": "guardian"},  # deactivated
        {"agencySlug": NO_SUCH_AGENCY, "username": "robin"},
    ]
    recoveries = [
        {"agencySlug": slug, "email": "robin@c.test"},
        {"agencySlug": slug, "email": "nobody@c.test"},
        {"agencySlug": slug, "email": "guardian@c.test"},
        {"agencySlug": NO_SUCH_AGENCY, "email": "robin@c.test"},
    ]
    reset_answers = {await raw(api, REQUEST_RESET, {"input": i}) for i in resets}
    recovery_answers = {await raw(api, REQUEST_USERNAME, {"input": i}) for i in recoveries}
    assert reset_answers == {b'{"data":{"requestPasswordReset":{"ok":true,"errors":[]}}}'}
    assert recovery_answers == {b'{"data":{"requestUsernameRecovery":{"ok":true,"errors":[]}}}'}
    # and only the real, active account got mail
    await deliver(run_jobs)
    assert len(mailbox.to("robin@c.test")) == 2
    assert mailbox.to("guardian@c.test") == []
    mail = OutboxMessage.filter(agency_id=world.agency.id, to_address="guardian@c.test")
    assert await mail.count() == 0


async def test_a_blank_request_is_refused_by_its_input_alone(api: Api) -> None:
    variables = {"input": {"agencySlug": " ", "username": ""}}
    answer = (await api.data(REQUEST_RESET, variables))["requestPasswordReset"]
    assert answer["ok"] is False
    assert {(e["code"], e["field"]) for e in answer["errors"]} == {
        ("REQUIRED", "agencySlug"),
        ("REQUIRED", "username"),
    }
