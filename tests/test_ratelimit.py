"""Rate limits on sign-in, recovery and reset, through /graphql.

Each test calls from its own address and makes its own agency, so counts never carry over.
The `limits` storage keeps its own time (time.time(), not resolvers.clock), so "the window
passes" is shown with a policy of one- or two-second windows and a short real wait.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from limits import RateLimitItemPerSecond
from starlette.applications import Starlette

from resolvers import ratelimit
from resolvers.clock import now, set_clock
from resolvers.passwords import hash_password
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
    # per (account, address): 2 failures; per account: 3 failures; windows of 8 seconds (the
    # four slow password checks must land in one window on a loaded machine)
    short_limits(login_per_account_ip=(2, 8), login_per_account=(3, 8))
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
    await asyncio.sleep(8.1)
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


async def test_over_an_accounts_allowance_recovery_answers_as_usual_and_sends_nothing(
    api: Api, elsewhere: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # (more in tests/test_recovery_limits.py)
    world = await make_world()
    slug = world.agency.slug
    for username in ("robin", "nobody"):
        for _ in range(6):
            assert await request_reset(api, slug, username) == {"ok": True, "errors": []}
    # the per-account allowance holds from any new address, and never refuses
    assert await request_reset(elsewhere, slug, "robin") == {"ok": True, "errors": []}
    await deliver(run_jobs)
    assert len(mailbox.to("robin@c.test")) == 5


async def test_recovery_requests_are_limited_per_address(api: Api) -> None:
    world = await make_world()
    for i in range(20):
        variables = {"input": {"agencySlug": world.agency.slug, "email": f"p{i}@c.test"}}
        answer = (await api.data(REQUEST_USERNAME, variables))["requestUsernameRecovery"]
        assert answer["ok"] is True
    assert code(await request_reset(api, world.agency.slug, "robin")) == "RATE_LIMITED"


async def test_a_recovery_allowance_comes_back_when_its_window_passes(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs, short_limits: Callable[..., None]
) -> None:
    short_limits(recovery_per_account=(1, 1))
    world = await make_world()
    for _ in range(2):
        assert (await request_reset(api, world.agency.slug, "robin"))["ok"] is True
    await deliver(run_jobs)
    assert len(mailbox.to("robin@c.test")) == 1
    await asyncio.sleep(1.1)
    assert (await request_reset(api, world.agency.slug, "robin"))["ok"] is True
    await deliver(run_jobs)
    assert len(mailbox.to("robin@c.test")) == 2


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


# --- known devices and addresses ---------------------------------------------------------------

PORTAL_LOGIN_DEVICE = """
mutation ($input: PortalLoginInput!) {
  portalLogin(input: $input) { session { token } deviceToken errors { code field message } }
}"""

STAFF_LOGIN_DEVICE = """
mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token } deviceToken errors { code field message } }
}"""


async def device_login(
    api: Api, world: World, username: str, password: str, device_token: str | None = None
) -> dict[str, Any]:
    fields = {"agencySlug": world.agency.slug, "username": username, "password": password}
    variables = {"input": {**fields, "deviceToken": device_token}}
    result: dict[str, Any] = (await api.data(PORTAL_LOGIN_DEVICE, variables))["portalLogin"]
    return result


async def staff_login(
    api: Api, world: World, email: str, password: str, device_token: str | None = None
) -> dict[str, Any]:
    fields = {"agencySlug": world.agency.slug, "email": email, "password": password}
    variables = {"input": {**fields, "deviceToken": device_token}}
    result: dict[str, Any] = (await api.data(STAFF_LOGIN_DEVICE, variables))["staffLogin"]
    return result


@asynccontextmanager
async def addresses(app: Starlette, count: int) -> AsyncIterator[list[Api]]:
    """`count` callers, each from its own fresh address."""
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(client_at(app, fresh_ip())) for _ in range(count)
        ]
        yield [Api(client) for client in clients]


async def spend_account_limit(app: Starlette, world: World, username: str) -> None:
    """A many-address attack on `username` until the per-account limit refuses everyone."""
    async with addresses(app, 4) as attackers:
        answers = [code(await login(a, world, username, "guess")) for a in attackers]
    assert answers[-1] == "RATE_LIMITED", answers


async def test_a_many_address_attack_does_not_lock_the_owner_out_where_they_signed_in_before(
    app: Starlette, api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account=(3, 60))
    world = await make_world()
    assert code(await login(api, world, "robin", PASSWORD)) is None  # robin at home
    await spend_account_limit(app, world, "robin")
    # anywhere new, even the right password is refused (the brute-force bound) ...
    async with client_at(app, fresh_ip()) as other:
        assert code(await login(Api(other), world, "robin", PASSWORD)) == "RATE_LIMITED"
    # ... but robin signs in from home, and a typo there is an ordinary wrong password
    assert code(await login(api, world, "robin", "typo")) == "INVALID_CREDENTIALS"
    assert code(await login(api, world, "robin", PASSWORD)) is None


async def test_a_device_token_signs_the_owner_in_from_a_new_address_during_an_attack(
    app: Starlette, api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account=(3, 60))
    world = await make_world()
    first = await device_login(api, world, "robin", PASSWORD)
    token = first["deviceToken"]
    assert token and first["session"]
    await spend_account_limit(app, world, "robin")
    async with client_at(app, fresh_ip()) as travelling:
        phone = Api(travelling)
        assert code(await device_login(phone, world, "robin", PASSWORD)) == "RATE_LIMITED"
        signed_in = await device_login(phone, world, "robin", PASSWORD, token)
        assert code(signed_in) is None and signed_in["session"]
        # the fresh token works as well as the old one
        assert (
            code(await device_login(phone, world, "robin", PASSWORD, signed_in["deviceToken"]))
            is None
        )


async def test_a_shared_address_full_of_made_up_names_still_lets_its_staff_sign_in(
    app: Starlette,
) -> None:
    world = await make_world()
    async with client_at(app, fresh_ip()) as clinic_client:
        clinic = Api(clinic_client)
        # the clinician signed in here before; the front desk signed in with a device token
        assert code(await staff_login(clinic, world, "clinician@a.test", PASSWORD)) is None
        async with client_at(app, fresh_ip()) as home:
            desk_token = (await staff_login(Api(home), world, "desk@a.test", PASSWORD))[
                "deviceToken"
            ]
        # someone behind the clinic's connection sprays made-up e-mails (default limits: 50)
        for i in range(50):
            answer = await staff_login(clinic, world, f"made-up-{i}@a.test", "guess")
            assert code(answer) == "INVALID_CREDENTIALS", i
        # strangers' further guesses from there are refused, for real accounts too
        for email in ("made-up-x@a.test", "champion@a.test", "desk@a.test"):
            assert code(await staff_login(clinic, world, email, "guess")) == "RATE_LIMITED"
        assert code(await staff_login(clinic, world, "champion@a.test", PASSWORD)) == (
            "RATE_LIMITED"
        )
        # staff with the right password, known from here or carrying their device token, sign in
        assert code(await staff_login(clinic, world, "clinician@a.test", PASSWORD)) is None
        desk = await staff_login(clinic, world, "desk@a.test", PASSWORD, desk_token)
        assert code(desk) is None and desk["session"]


async def test_the_brute_force_bound_holds_across_many_addresses(
    app: Starlette, short_limits: Callable[..., None]
) -> None:
    # per (account, address) 2, per account 5 a window, per account 7 a day: 4 addresses
    # x 3 guesses each get 5 password checks in the first window (8 s, so twelve password
    # checks on a loaded machine still fit inside it) ...
    short_limits(
        login_per_account_ip=(2, 60), login_per_account=(5, 8), login_per_account_day=(7, 60)
    )
    world = await make_world()
    async with addresses(app, 4) as attackers:
        answers = [
            code(await login(a, world, "robin", "guess")) for a in attackers for _ in range(3)
        ]
        assert answers.count("INVALID_CREDENTIALS") == 5
        assert answers.count("RATE_LIMITED") == 7
        # ... and after the short window passes, only what is left of the daily limit
        await asyncio.sleep(8.1)
        async with addresses(app, 3) as more:
            later = [code(await login(a, world, "robin", "guess")) for a in more for _ in range(2)]
        assert later.count("INVALID_CREDENTIALS") == 2
        # a made-up device token buys nothing, and the right password is refused too
        async with client_at(app, fresh_ip()) as other:
            forged = "d1.device.9999999999.AAAA"
            assert code(await device_login(Api(other), world, "robin", PASSWORD, forged)) == (
                "RATE_LIMITED"
            )


async def test_a_device_token_helps_only_its_own_account_in_its_own_agency(
    app: Starlette, api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account=(3, 60))
    world, other_agency = await make_world(), await make_world()
    token = (await device_login(api, world, "robin", PASSWORD))["deviceToken"]
    await spend_account_limit(app, world, "guardian")
    await spend_account_limit(app, other_agency, "robin")
    async with client_at(app, fresh_ip()) as somewhere:
        caller = Api(somewhere)
        # the same user name in another agency, and another account of the same agency
        assert code(await device_login(caller, other_agency, "robin", PASSWORD, token)) == (
            "RATE_LIMITED"
        )
        assert code(await device_login(caller, world, "guardian", PASSWORD, token)) == (
            "RATE_LIMITED"
        )
        # a tampered token is nobody's
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        await spend_account_limit(app, world, "robin")
        assert code(await device_login(caller, world, "robin", PASSWORD, tampered)) == (
            "RATE_LIMITED"
        )
        assert code(await device_login(caller, world, "robin", PASSWORD, token)) is None


async def test_a_device_token_lapses_after_90_days_and_with_a_password_change(
    app: Starlette, api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account=(3, 60))
    world = await make_world()
    token = (await device_login(api, world, "robin", PASSWORD))["deviceToken"]
    await spend_account_limit(app, world, "robin")
    start = now()

    async def with_token_from_a_new_address() -> str | None:
        async with client_at(app, fresh_ip()) as somewhere:
            return code(await device_login(Api(somewhere), world, "robin", PASSWORD, token))

    set_clock(lambda: start + timedelta(days=89))
    assert await with_token_from_a_new_address() is None
    set_clock(lambda: start + timedelta(days=90, minutes=1))
    assert await with_token_from_a_new_address() == "RATE_LIMITED"
    set_clock(None)
    assert await with_token_from_a_new_address() is None
    world.client_account.password_hash = hash_password(PASSWORD)  # a new hash, as a reset makes
    await world.client_account.save()
    assert await with_token_from_a_new_address() == "RATE_LIMITED"


async def test_a_limited_answer_is_the_same_for_real_and_made_up_accounts_with_a_token(
    app: Starlette, api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account=(3, 60))
    world = await make_world()
    token = (await device_login(api, world, "robin", PASSWORD))["deviceToken"]
    await spend_account_limit(app, world, "guardian")
    await spend_account_limit(app, world, "nobody")
    async with client_at(app, fresh_ip()) as somewhere:
        caller = Api(somewhere)
        answers = [
            await device_login(caller, world, n, "guess", token) for n in ("guardian", "nobody")
        ]
    assert answers[0] == answers[1]
    assert code(answers[0]) == "RATE_LIMITED" and answers[0]["deviceToken"] is None


# --- Redis away --------------------------------------------------------------------------------

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


class PrivateRedis:
    """A redis-server of this test's own on a free port; never the shared one."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if REQUIRED:
                pytest.fail("redis-server is needed for the Redis outage test")
            pytest.skip("redis-server not installed")
        self.binary = binary
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no"]
        self.process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL
        )
        for _ in range(100):
            if await self.keys() is not None:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)
            self.process = None

    async def keys(self) -> list[bytes] | None:
        """The rate-limit keys it holds; None when it does not answer."""
        from redis.asyncio import Redis
        from redis.exceptions import ConnectionError as RedisConnectionError

        client = Redis.from_url(self.url)
        try:
            return [k async for k in client.scan_iter(match="portal:ratelimit*")]
        except RedisConnectionError:
            return None
        finally:
            await client.aclose()


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_limits_count_in_memory_while_redis_is_down_and_in_redis_again_after(
    api: Api,
    private_redis: PrivateRedis,
    short_limits: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    short_limits(login_per_account_ip=(2, 60))
    world = await make_world()
    caplog.set_level(logging.WARNING, logger="portal.ratelimit")
    async with ratelimit.installed(private_redis.url, retry_after=0.3):
        assert code(await login(api, world, "robin", "guess")) == "INVALID_CREDENTIALS"
        assert await private_redis.keys()  # counted in Redis
        await private_redis.stop()
        # Redis is gone: the limit still applies, counted in this process's memory
        for _ in range(2):
            assert code(await login(api, world, "guardian", "guess")) == "INVALID_CREDENTIALS"
        assert code(await login(api, world, "guardian", PASSWORD)) == "RATE_LIMITED"
        await private_redis.start()
        assert await private_redis.keys() == []  # it keeps nothing across a restart
        await asyncio.sleep(0.4)  # the back-off before Redis is tried again
        assert code(await login(api, world, "nobody", "guess")) == "INVALID_CREDENTIALS"
        assert await private_redis.keys()  # counted in Redis again, with no restart of ours
    warnings = [r.getMessage() for r in caplog.records if r.name == "portal.ratelimit"]
    assert len([w for w in warnings if "unreachable" in w]) == 1, warnings  # once per outage
    assert len([w for w in warnings if "back" in w]) == 1, warnings


async def test_limits_apply_when_redis_is_configured_but_never_reachable(
    api: Api, short_limits: Callable[..., None]
) -> None:
    short_limits(login_per_account_ip=(2, 60))
    world = await make_world()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ratelimit.installed(f"redis://127.0.0.1:{port}/0", retry_after=0.3):
        for _ in range(2):
            assert code(await login(api, world, "robin", "guess")) == "INVALID_CREDENTIALS"
        assert code(await login(api, world, "robin", PASSWORD)) == "RATE_LIMITED"
