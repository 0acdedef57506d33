"""Two API processes on one database and one Redis are one service: what one process is told
(a logout, a deactivation, a permission taken away, a booking, a failed sign-in) holds on the
other at once. Both processes are real `uvicorn app.main:create_app` subprocesses
(tests/live.py `api_process`); "at once" is the very next request, with no wait in between, so
a cache of sessions or principals in either process would have to be invalidated through the
bus to pass."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.settings import Settings
from models.enums import Permission
from resolvers.ratelimit import Policy
from resolvers.scheduling import agency_channel
from tests.factories import PASSWORD, STAFF_LOGIN, Api, make_staff, make_world
from tests.live import GqlSocket, api_process
from tests.mailbox import free_port
from tests.test_appointment_events import STAFF_EVENTS, book, next_event

pytestmark = pytest.mark.multiprocess

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"
VIEWER = "{ viewer { staffId } }"
LOGOUT = "mutation { logout { ok } }"
PORTAL_SETTINGS = "{ portalSettings { branding { color } } }"
UPDATE_STAFF = """
mutation ($input: UpdateStaffInput!) { updateStaff(input: $input) { errors { code field } } }"""
# How long one try waits for the first event before booking again (see the subscription test).
FIRST_EVENT_WAIT = 1.0


@pytest.fixture(scope="module")
async def processes(app: Starlette, settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """Two API processes (host:port each) on the test database and Redis. They believe
    X-Forwarded-For from loopback, so each test signs in from its own address."""
    if not settings.redis_url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: several API processes need Redis")
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ENVIRONMENT": "test",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    async with api_process(env) as one, api_process(env) as two:
        yield one, two


def _client(address: str, client_ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://{address}", headers={"X-Forwarded-For": client_ip}, timeout=10
    )


@pytest.fixture
async def a(processes: tuple[str, str], client_ip: str) -> AsyncIterator[Api]:
    async with _client(processes[0], client_ip) as http:
        yield Api(http)


@pytest.fixture
async def b(processes: tuple[str, str], client_ip: str) -> AsyncIterator[Api]:
    async with _client(processes[1], client_ip) as http:
        yield Api(http)


# Revocation


async def test_a_logout_on_one_process_is_refused_on_the_other_at_once(a: Api, b: Api) -> None:
    world = await make_world()
    token = await a.staff_token(world.agency, "clinician@a.test")
    # Both processes have honoured the session (anything they keep about it is warm).
    assert (await a.data(VIEWER, token=token))["viewer"]["staffId"]
    assert (await b.data(VIEWER, token=token))["viewer"]["staffId"]
    assert (await a.data(LOGOUT, token=token))["logout"]["ok"] is True
    assert await b.error_code(VIEWER, token=token) == "UNAUTHENTICATED"
    assert await a.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_a_staff_member_deactivated_on_one_process_is_refused_on_the_other_at_once(
    a: Api, b: Api
) -> None:
    world = await make_world()
    token = await b.staff_token(world.agency, "clinician@a.test")
    champion = await a.staff_token(world.agency, "champion@a.test")
    assert (await b.data(VIEWER, token=token))["viewer"]["staffId"]
    variables = {"input": {"id": str(world.clinician.id), "isActive": False}}
    assert (await a.data(UPDATE_STAFF, variables, champion))["updateStaff"]["errors"] == []
    assert await b.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_a_permission_removed_on_one_process_is_refused_on_the_other_at_once(
    a: Api, b: Api
) -> None:
    world = await make_world()
    await make_staff(world.agency, "settings@a.test", [Permission.MANAGE_PORTAL_SETTINGS])
    token = await b.staff_token(world.agency, "settings@a.test")
    champion = await a.staff_token(world.agency, "champion@a.test")
    assert (await b.data(PORTAL_SETTINGS, token=token))["portalSettings"]["branding"]
    staff_id = (await b.data(VIEWER, token=token))["viewer"]["staffId"]
    variables = {"input": {"id": staff_id, "permissions": []}}
    assert (await a.data(UPDATE_STAFF, variables, champion))["updateStaff"]["errors"] == []
    assert await b.error_code(PORTAL_SETTINGS, token=token) == "FORBIDDEN"
    # Signed in still: only the permission went.
    assert (await b.data(VIEWER, token=token))["viewer"]["staffId"] == staff_id


# Events


async def test_a_subscription_on_one_process_hears_a_booking_made_on_the_other(
    processes: tuple[str, str], a: Api, b: Api
) -> None:
    world = await make_world()
    clinician = await a.staff_token(world.agency, "clinician@a.test")
    champion = await b.staff_token(world.agency, "champion@a.test")
    async with GqlSocket.opened(processes[0], {"authorization": f"Bearer {clinician}"}) as sock:
        await sock.acknowledged()
        op = await sock.send(STAFF_EVENTS)
        # graphql-transport-ws does not acknowledge a subscription, and the subscriber lives in
        # another process: book until the first event shows it is registered...
        for days in range(3, 13):
            await book(b, champion, world, days=days)
            try:
                first = await asyncio.wait_for(
                    next_event(sock, op, "appointmentRequestEvents"), FIRST_EVENT_WAIT
                )
            except TimeoutError:
                continue
            break
        else:
            raise AssertionError(f"no event on {agency_channel(world.agency.id)} reached A")
        assert first["kind"] == "APPOINTMENT_BOOKED"
        # ...then each booking on B is heard on A, this very one.
        booked = await book(b, champion, world, days=20)
        event = await next_event(sock, op, "appointmentRequestEvents")
    assert (event["kind"], event["appointment"]["id"]) == ("APPOINTMENT_BOOKED", booked)


# Rate limits


async def _failed_login(api: Api, slug: str) -> str:
    variables = {"input": {"agencySlug": slug, "email": "champion@a.test", "password": "no"}}
    errors = (await api.data(STAFF_LOGIN, variables))["staffLogin"]["errors"]
    code: str = errors[0]["code"]
    return code


async def test_failed_sign_ins_on_both_processes_count_in_one_limit(a: Api, b: Api) -> None:
    world = await make_world()
    allowed = Policy().login_per_account_ip.amount  # the processes run the default policy
    for attempt in range(allowed):
        api = a if attempt % 2 else b  # half on each: neither alone reaches the limit
        assert await _failed_login(api, world.agency.slug) == "INVALID_CREDENTIALS"
    assert await _failed_login(a, world.agency.slug) == "RATE_LIMITED"
    assert await _failed_login(b, world.agency.slug) == "RATE_LIMITED"
    # The right password from this address is refused too, on either process.
    variables = {"input": {"agencySlug": world.agency.slug, "email": "champion@a.test"}}
    variables["input"]["password"] = PASSWORD
    answer = (await b.data(STAFF_LOGIN, variables))["staffLogin"]
    assert [e["code"] for e in answer["errors"]] == ["RATE_LIMITED"]


# `portal serve --workers N`


def _portal(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


async def test_serve_with_several_workers_is_refused_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_CONCURRENCY")}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'none.sqlite3'}"
    refused = await asyncio.create_subprocess_exec(
        *_portal("serve", "--workers", "2"), env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(refused.communicate(), 60)
    assert refused.returncode == 2
    assert "--workers 2 needs REDIS_URL" in stderr.decode()


async def test_serve_with_two_workers_runs_a_lifespan_in_each_and_answers_from_both(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    if not settings.redis_url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: several API processes need Redis")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ENVIRONMENT": "test",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = await asyncio.create_subprocess_exec(
            *_portal("serve", "--port", str(port), "--workers", "2"), env=env, stderr=sink
        )
    try:
        started = await _startups(log, server, 2)
        # One parent and two workers, each with its own lifespan (pool, bus, queue).
        assert len(started) == 2 and server.pid not in started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            world = await make_world()
            token = await Api(http).staff_token(world.agency, "clinician@a.test")
            # Fresh connections land on either worker; every one of them answers as one service.
            for _ in range(10):
                fresh = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
                async with fresh:
                    ready = await fresh.get("/readyz")
                    checks = {"database": True, "redis": True}
                    assert ready.json() == {"ready": True, "checks": checks}
                    assert (await Api(fresh).data(VIEWER, token=token))["viewer"]["staffId"]
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert len(_startups_in(_text(log))) == 2


def _startups_in(text: str) -> set[int]:
    """The worker processes whose lifespan finished starting: uvicorn's "Started server
    process [pid]" lines, as many as there are "Application startup complete" lines (the
    workers' lines interleave, so a completion cannot be paired with its pid by position)."""
    pids = sorted({int(p) for p in re.findall(r"Started server process \[(\d+)\]", text)})
    return set(pids[: text.count("Application startup complete")])


async def _startups(log: Path, server: asyncio.subprocess.Process, count: int) -> set[int]:
    for _ in range(600):
        if server.returncode is not None:
            raise AssertionError(f"portal serve exited: {_text(log)}")
        started = _startups_in(_text(log))
        if len(started) >= count:
            return started
        await asyncio.sleep(0.1)
    raise AssertionError(f"portal serve did not start {count} workers: {_text(log)}")


def _text(log: Path) -> str:
    return log.read_text()
