"""Nobody can stop the owner of an account from recovering it, nobody can bomb its inbox, and
the answers say nothing: over an account's mail allowance a recovery request is answered as
usual and sends nothing, except from an address the account signed in from (its own small
allowance); an address spraying requests is RATE_LIMITED. Through /graphql and the real SMTP
server, for user-name recovery, portal password reset and staff password reset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette

from models.mail import OutboxMessage
from tests.factories import Api, World, make_world
from tests.mailbox import Mailbox
from tests.test_ratelimit import addresses, code
from tests.test_recovery import NO_SUCH_AGENCY, REQUEST_RESET, REQUEST_USERNAME, raw
from tests.test_staff_passwords import REQUEST_RESET as REQUEST_STAFF_RESET

RunJobs = Callable[[], Awaitable[None]]
# The default policy: mail per account per hour, and per (account, known address).
PER_ACCOUNT = 5
PER_KNOWN = 3


@dataclass(frozen=True)
class Door:
    """One kind of recovery: its mutation, how to ask for an account, where its mail goes."""

    name: str
    query: str
    field: str
    owner_mail: str

    def ask(self, slug: str, who: str) -> dict[str, Any]:
        return {"input": {"agencySlug": slug, self.field: who}}

    async def request(self, api: Api, slug: str, who: str) -> dict[str, Any]:
        answer: dict[str, Any] = (await api.data(self.query, self.ask(slug, who)))[self.name]
        return answer

    async def sign_in(self, api: Api, world: World) -> None:
        """The owner signs in from `api`'s address, making it known for the account."""
        if self.name == "requestStaffPasswordReset":
            await api.staff_token(world.agency, "clinician@a.test")
        else:
            await api.portal_token(world.agency, "robin")


PORTAL_RESET = Door("requestPasswordReset", REQUEST_RESET, "username", "robin@c.test")
USERNAME = Door("requestUsernameRecovery", REQUEST_USERNAME, "email", "robin@c.test")
STAFF_RESET = Door("requestStaffPasswordReset", REQUEST_STAFF_RESET, "email", "clinician@a.test")
DOORS = {"portal-reset": PORTAL_RESET, "username": USERNAME, "staff-reset": STAFF_RESET}
OWNER = {"portal-reset": "robin", "username": "robin@c.test", "staff-reset": "clinician@a.test"}
OK = {"ok": True, "errors": []}


@pytest.mark.parametrize("door_name", list(DOORS))
async def test_strangers_cannot_stop_the_owner_recovering_from_where_they_signed_in(
    app: Starlette, api: Api, mailbox: Mailbox, run_jobs: RunJobs, door_name: str
) -> None:
    # given the owner signed in from home (api) before
    door, who = DOORS[door_name], OWNER[door_name]
    world = await make_world()
    slug = world.agency.slug
    await door.sign_in(api, world)
    # when strangers from many addresses ask for the account, more than its allowance
    async with addresses(app, PER_ACCOUNT + 3) as strangers:
        for stranger in strangers:
            assert await door.request(stranger, slug, who) == OK
    await run_jobs()
    assert len(mailbox.to(door.owner_mail)) == PER_ACCOUNT
    # then the owner, asking from home, still gets mail
    assert await door.request(api, slug, who) == OK
    await run_jobs()
    assert len(mailbox.to(door.owner_mail)) == PER_ACCOUNT + 1


async def test_mail_per_account_per_hour_stays_bounded(
    app: Starlette, api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given robin known at home; strangers everywhere else
    world = await make_world()
    slug = world.agency.slug
    await PORTAL_RESET.sign_in(api, world)
    async with addresses(app, 12) as strangers:
        for stranger in strangers:
            assert await PORTAL_RESET.request(stranger, slug, "robin") == OK
    # and from home, more than the home allowance
    for _ in range(PER_KNOWN + 2):
        assert await PORTAL_RESET.request(api, slug, "robin") == OK
    await run_jobs()
    # then the mail is the account's allowance plus the home allowance, no more
    assert len(mailbox.to("robin@c.test")) == PER_ACCOUNT + PER_KNOWN
    sent = OutboxMessage.filter(agency_id=world.agency.id, to_address="robin@c.test")
    assert await sent.count() == PER_ACCOUNT + PER_KNOWN


@pytest.mark.parametrize("door_name", list(DOORS))
async def test_over_the_allowance_answers_are_byte_identical_for_known_and_unknown_accounts(
    app: Starlette, door_name: str
) -> None:
    door = DOORS[door_name]
    world = await make_world()
    real, made_up = OWNER[door_name], "nobody@a.test" if door.field == "email" else "nobody"
    asks = [(world.agency.slug, real), (world.agency.slug, made_up), (NO_SUCH_AGENCY, real)]
    answers = set()
    for slug, who in asks:
        async with addresses(app, PER_ACCOUNT + 2) as callers:
            for caller in callers:
                answers.add(await raw(caller, door.query, door.ask(slug, who)))
    assert answers == {b'{"data":{"%s":{"ok":true,"errors":[]}}}' % door.name.encode()}


@pytest.mark.parametrize("door_name", list(DOORS))
async def test_an_address_spraying_requests_is_limited(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs, door_name: str
) -> None:
    door = DOORS[door_name]
    world = await make_world()
    for i in range(20):
        assert await door.request(api, world.agency.slug, f"p{i}@c.test") == OK
    limited = await door.request(api, world.agency.slug, OWNER[door_name])
    assert code(limited) == "RATE_LIMITED"
    await run_jobs()
    assert mailbox.to(door.owner_mail) == []
