"""Rate limits on sign-in, recovery and reset, through /graphql.

Each test calls from its own address and makes its own agency, so counts never carry over.
The `limits` storage keeps its own time (time.time(), not resolvers.clock), so "the window
passes" is shown with a policy of one- or two-second windows and a short real wait.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from limits import RateLimitItemPerSecond
from starlette.applications import Starlette

from resolvers import ratelimit
from tests.factories import PASSWORD, PORTAL_LOGIN, Api, World, make_world
from tests.mailbox import Mailbox
from tests.test_recovery import (
    REQUEST_RESET,
    REQUEST_USERNAME,
    RESET,
    RunJobs,
    client_at,
    deliver,
    fresh_ip,
)

RETRY = re.compile(r"^Too many attempts\. Try again in \d+ minutes?\.$")


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_at(app, fresh_ip()) as client:
        yield client


@pytest.fixture
async def elsewhere(app: Starlette) -> AsyncIterator[Api]:
    """The same person (or anyone) calling from another address."""
    async with client_at(app, fresh_ip()) as client:
        yield Api(client)


@pytest.fixture
def short_limits() -> Iterator[Callable[..., None]]:
    """Installs a policy with the given limits (per second windows); restores the defaults."""

    def use(**limits: tuple[int, int]) -> None:
        items: dict[str, Any] = {
            name: RateLimitItemPerSecond(n, secs) for name, (n, secs) in limits.items()
        }
        ratelimit.use_policy(replace(ratelimit.Policy(), **items))

    yield use
    ratelimit.use_policy(None)


async def login(api: Api, world: World, username: str, password: str) -> dict[str, Any]:
    variables = {
        "input": {"agencySlug": world.agency.slug, "username": username, "password": password}
    }
    result: dict[str, Any] = (await api.data(PORTAL_LOGIN, variables))["portalLogin"]
    return result


def code(payload: dict[str, Any]) -> str | None:
    errors = payload["errors"]
    return errors[0]["code"] if errors else None


async def test_sign_in_failures_from_one_address_stop_there_and_the_owner_elsewhere_signs_in(
    api: Api, elsewhere: Api
) -> None:
    world = await make_world()
    for _ in range(10):
        assert code(await login(api, world, "robin", "wrong password")) == "INVALID_CREDENTIALS"
    # even the right password is not checked from that address now
    limited = await login(api, world, "robin", PASSWORD)
    assert limited["session"] is None
    [error] = limited["errors"]
    assert error["code"] == "RATE_LIMITED"
    assert RETRY.match(error["message"]), error["message"]
    # the owner, from another address, is not locked out
    assert code(await login(elsewhere, world, "robin", PASSWORD)) is None


async def test_only_failures_count(api: Api, short_limits: Callable[..., None]) -> None:
    # robin signs in from here first, so failures count in the (account, known address) bucket
    short_limits(login_per_known=(3, 60))
    world = await make_world()
    assert code(await login(api, world, "robin", PASSWORD)) is None
    for _ in range(2):
        assert code(await login(api, world, "robin", "wrong")) == "INVALID_CREDENTIALS"
    for _ in range(4):
        assert code(await login(api, world, "robin", PASSWORD)) is None
    assert code(await login(api, world, "robin", "wrong")) == "INVALID_CREDENTIALS"
    assert code(await login(api, world, "robin", PASSWORD)) == "RATE_LIMITED"


async def test_a_limited_sign_in_looks_the_same_for_existing_and_unknown_accounts(
    api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account_ip=(2, 60))
    world = await make_world()
    answers = []
    for username in ("robin", "nobody"):
        for _ in range(2):
            await login(api, world, username, "wrong password")
        answers.append(await login(api, world, username, "wrong password"))
    assert answers[0] == answers[1]
    assert code(answers[0]) == "RATE_LIMITED"


async def test_an_attack_from_many_addresses_limits_the_account_only_for_the_window(
    app: Starlette, api: Api, elsewhere: Api, short_limits: Callable[..., None]
) -> None:
    # per (account, address): 2 failures; per account: 3 failures; windows of 2 seconds
    short_limits(login_per_account_ip=(2, 2), login_per_account=(3, 2))
    world = await make_world()
    async with client_at(app, fresh_ip()) as other:
        attackers = [api, Api(other)]
        for attacker, tries in zip(attackers, (2, 1), strict=True):
            for _ in range(tries):
                assert code(await login(attacker, world, "robin", "guess")) == (
                    "INVALID_CREDENTIALS"
                )
        assert code(await login(api, world, "robin", "guess")) == "RATE_LIMITED"
    # the account limit is reached: the owner waits for the window, not forever
    assert code(await login(elsewhere, world, "robin", PASSWORD)) == "RATE_LIMITED"
    await asyncio.sleep(2.1)
    assert code(await login(elsewhere, world, "robin", PASSWORD)) is None


async def test_one_address_guessing_across_accounts_is_limited(
    api: Api, elsewhere: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_ip=(3, 60))
    world = await make_world()
    for username in ("robin", "guardian", "nobody"):
        assert code(await login(api, world, username, "guess")) == "INVALID_CREDENTIALS"
    assert code(await login(api, world, "someone-else", "guess")) == "RATE_LIMITED"
    assert code(await login(elsewhere, world, "guardian", PASSWORD)) is None


async def request_reset(api: Api, slug: str, username: str) -> dict[str, Any]:
    variables = {"input": {"agencySlug": slug, "username": username}}
    result: dict[str, Any] = (await api.data(REQUEST_RESET, variables))["requestPasswordReset"]
    return result


async def test_recovery_requests_are_limited_per_account_alike_for_unknown_accounts(
    api: Api, elsewhere: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    slug = world.agency.slug
    limited = []
    for username in ("robin", "nobody"):
        for _ in range(5):
            assert await request_reset(api, slug, username) == {"ok": True, "errors": []}
        limited.append(await request_reset(api, slug, username))
    assert limited[0] == limited[1]
    assert limited[0]["ok"] is False
    [error] = limited[0]["errors"]
    assert error["code"] == "RATE_LIMITED" and RETRY.match(error["message"])
    # the per-account limit holds from any address, and no mail went out for refused requests
    assert code(await request_reset(elsewhere, slug, "robin")) == "RATE_LIMITED"
    await deliver(run_jobs)
    assert len(mailbox.to("robin@c.test")) == 5


async def test_recovery_requests_are_limited_per_address(api: Api) -> None:
    world = await make_world()
    for i in range(20):
        variables = {"input": {"agencySlug": world.agency.slug, "email": f"p{i}@c.test"}}
        answer = (await api.data(REQUEST_USERNAME, variables))["requestUsernameRecovery"]
        assert answer["ok"] is True
    assert code(await request_reset(api, world.agency.slug, "robin")) == "RATE_LIMITED"


async def test_a_recovery_limit_lifts_when_its_window_passes(
    api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(recovery_per_account=(1, 1))
    world = await make_world()
    assert (await request_reset(api, world.agency.slug, "robin"))["ok"] is True
    assert code(await request_reset(api, world.agency.slug, "robin")) == "RATE_LIMITED"
    await asyncio.sleep(1.1)
    assert (await request_reset(api, world.agency.slug, "robin"))["ok"] is True


async def test_guessing_reset_tokens_is_limited_per_address(api: Api, elsewhere: Api) -> None:
    variables = {"input": {"token": "guess", "newPassword": "a long enough passphrase"}}
    for _ in range(20):
        answer = (await api.data(RESET, variables))["resetPassword"]
        assert code(answer) == "RESET_LINK_INVALID"
    assert code((await api.data(RESET, variables))["resetPassword"]) == "RATE_LIMITED"
    assert code((await elsewhere.data(RESET, variables))["resetPassword"]) == ("RESET_LINK_INVALID")


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
async def test_redis_holds_the_counts_under_hashed_keys(api: Api) -> None:
    from redis.asyncio import Redis

    world = await make_world()
    await login(api, world, "robin", "wrong password")
    await request_reset(api, world.agency.slug, "robin")
    client = Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = [k.decode() async for k in client.scan_iter(match="portal:ratelimit*")]
    finally:
        await client.aclose()
    assert keys
    assert not [k for k in keys if "robin" in k or world.agency.slug in k]
