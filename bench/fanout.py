"""Fan-out of one event to many open subscriptions across two API processes; prints JSON.

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        .venv/bin/python -m bench.fanout [--subscriptions 1000 --rounds 3]

Seeds a fresh agency (its own slug) with a client, a clinician and 100 staff dashboards (staff
with MANAGE_ALL_APPOINTMENTS, so each hears every booking), one session per subscription.
Starts two `portal serve` processes on PostgreSQL and Redis and opens the subscriptions
(graphql-transport-ws, `appointmentRequestEvents` with the client's name and the appointment),
half on each process. Warm-up bookings run until every subscription has heard one (the protocol
does not acknowledge a subscription). Then each round books one appointment through
`createAppointment` on one of the processes (alternating) and records, for every subscription,
when its `next` message for that appointment arrived. Delivery latency is counted from the
moment the mutation was sent, so it includes the mutation itself (its commit, then the publish
through Redis, then each subscriber's re-check of its session and the rows). Reports p50, p95,
p99 and max per round and over all rounds, in ms. Target: p99 < 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app.context import timeouts
from app.db import tortoise_config
from app.settings import Settings
from bench.processes import (
    PASSWORD,
    seed_agency,
    server_env,
    services,
    serving,
    tree_cpu_seconds,
)
from models.agency import Agency, Location
from models.clients import CareTeamMember, Client
from models.enums import Permission
from models.staff import Staff, StaffLocation
from resolvers.passwords import hash_password
from resolvers.sessions import open_session

PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIPTION = """subscription { appointmentRequestEvents {
  kind clientId clientName appointment { id status staffId start end } } }"""
CREATE = """mutation ($input: CreateAppointmentInput!) {
  createAppointment(input: $input) { appointment { id } errors { code message } } }"""
DASHBOARD_STAFF = 100
# Sockets opened at once while connecting (each signs in with connection_init).
CONNECT_AT_ONCE = 50
ROUND_TIMEOUT_SECONDS = 30.0
WARM_UP_TRIES = 20


@dataclass
class World:
    slug: str
    champion_token: str
    client_id: str
    clinician_id: str
    location_id: str
    tokens: list[str]


async def seed(database_url: str, subscriptions: int) -> World:
    slug, email = await seed_agency(database_url, locations=0)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        agency = await Agency.get(slug=slug)
        champion = await Staff.get(agency=agency, email=email)
        location = await Location.create(agency=agency, name="Main", time_zone="America/Chicago")
        clinician = await Staff.create(
            agency=agency, first_name="Casey", last_name="Clinician", email=f"c@{slug}.example"
        )
        await StaffLocation.create(staff=clinician, location=location, is_default=True)
        client = await Client.create(agency=agency, first_name="Robin", last_name="Client")
        await CareTeamMember.create(client=client, staff=clinician)
        password_hash = hash_password(PASSWORD)
        dashboards = [
            await Staff.create(
                agency=agency,
                first_name="Desk",
                last_name=f"{i:03d}",
                email=f"desk{i:03d}@{slug}.example",
                permissions=[Permission.MANAGE_ALL_APPOINTMENTS.value],
                password_hash=password_hash,
            )
            for i in range(DASHBOARD_STAFF)
        ]
        limits = timeouts(Settings(_env_file=None))  # type: ignore[call-arg]
        tokens = []
        for i in range(subscriptions):
            staff = dashboards[i % len(dashboards)]
            tokens.append((await open_session(agency.id, limits, staff_id=staff.id)).token)
        champion_token = (await open_session(agency.id, limits, staff_id=champion.id)).token
    finally:
        await Tortoise.close_connections()
    return World(slug, champion_token, str(client.id), str(clinician.id), str(location.id), tokens)


@dataclass
class Subscriber:
    ws: ClientConnection
    heard: dict[str, float] = field(default_factory=dict)  # appointment id -> arrival time
    task: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        async for raw in self.ws:
            arrived = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") != "next":
                continue
            event = message["payload"]["data"]["appointmentRequestEvents"]
            appointment = event.get("appointment") or {}
            self.heard.setdefault(str(appointment.get("id")), arrived)


async def subscribe(address: str, token: str) -> Subscriber:
    ws = await connect(
        f"ws://{address}/graphql", subprotocols=[PROTOCOL], open_timeout=60, max_queue=None
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if ack.get("type") != "connection_ack":
        raise SystemExit(f"connection refused: {ack}")
    payload = {"query": SUBSCRIPTION, "variables": {}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    subscriber = Subscriber(ws)
    subscriber.task = asyncio.create_task(subscriber.listen())
    return subscriber


@contextlib.asynccontextmanager
async def subscribers(addresses: list[str], tokens: list[str]) -> AsyncIterator[list[Subscriber]]:
    opened: list[Subscriber] = []
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(index: int, token: str) -> None:
        async with gate:
            opened.append(await subscribe(addresses[index % len(addresses)], token))

    try:
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
        yield opened
    finally:
        for sub in opened:
            if sub.task is not None:
                sub.task.cancel()
            with contextlib.suppress(Exception):
                await sub.ws.close()


class Booker:
    """createAppointment at a new hour each time, on the process named by the caller."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.next_day = 2
        self.first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    async def book(self, http: httpx.AsyncClient) -> str:
        self.next_day += 1
        start = self.first + timedelta(days=self.next_day)
        variables = {
            "input": {
                "clientId": self.world.client_id,
                "staffId": self.world.clinician_id,
                "locationId": self.world.location_id,
                "start": start.isoformat(),
            }
        }
        headers = {"Authorization": f"Bearer {self.world.champion_token}"}
        response = await http.post(
            "/graphql", json={"query": CREATE, "variables": variables}, headers=headers
        )
        result = response.json()["data"]["createAppointment"]
        if result["errors"]:
            raise SystemExit(f"createAppointment failed: {result['errors']}")
        appointment_id: str = result["appointment"]["id"]
        return appointment_id


async def _until_heard(
    subs: list[Subscriber], appointment_id: str, seconds: float, quiet: float | None = None
) -> int:
    """Until every subscription heard the booking, `seconds` passed, or (with `quiet`) nothing
    new arrived for that long; how many heard it."""
    deadline = time.perf_counter() + seconds
    last, progress_at = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        heard = sum(appointment_id in s.heard for s in subs)
        if heard == len(subs):
            return heard
        if heard != last:
            last, progress_at = heard, time.perf_counter()
        elif quiet is not None and heard and time.perf_counter() - progress_at > quiet:
            break
        await asyncio.sleep(0.01)
    return sum(appointment_id in s.heard for s in subs)


async def warm_up(subs: list[Subscriber], booker: Booker, http: httpx.AsyncClient) -> int:
    """Books until every subscription has heard something (each is registered); the tries."""
    for tries in range(1, WARM_UP_TRIES + 1):
        appointment_id = await booker.book(http)
        await _until_heard(subs, appointment_id, ROUND_TIMEOUT_SECONDS, quiet=2.0)
        if all(s.heard for s in subs):
            return tries
    missing = sum(not s.heard for s in subs)
    raise SystemExit(f"{missing} subscriptions heard nothing after {WARM_UP_TRIES} bookings")


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 1),
    }


async def measure(subscriptions: int, rounds: int) -> dict[str, Any]:
    database_url, redis_url = services()
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-fanout-"))
    world = await seed(database_url, subscriptions)
    env = server_env(database_url, redis_url)
    with serving(env, 1, folder, "one") as one, serving(env, 1, folder, "two") as two:
        bases = [one[0], two[0]]
        pids = [one[1], two[1]]
        addresses = [base.removeprefix("http://") for base in bases]
        booker = Booker(world)
        clients = [httpx.AsyncClient(base_url=base, timeout=30) for base in bases]
        try:
            opened_at = time.perf_counter()
            async with subscribers(addresses, world.tokens) as subs:
                open_seconds = time.perf_counter() - opened_at
                tries = await warm_up(subs, booker, clients[0])
                await asyncio.sleep(1.0)  # the warm-up's stragglers
                results = []
                every: list[float] = []
                for round_no in range(rounds):
                    http = clients[round_no % 2]
                    cpu_before = [tree_cpu_seconds(pid) or 0.0 for pid in pids]
                    sent = time.perf_counter()
                    appointment_id = await booker.book(http)
                    heard = await _until_heard(subs, appointment_id, ROUND_TIMEOUT_SECONDS)
                    cpu = [
                        (tree_cpu_seconds(pid) or 0.0) - before
                        for pid, before in zip(pids, cpu_before, strict=True)
                    ]
                    latencies = [
                        (s.heard[appointment_id] - sent) * 1000
                        for s in subs
                        if appointment_id in s.heard
                    ]
                    every += latencies
                    results.append(
                        {
                            "booked_on": f"process {round_no % 2 + 1}",
                            "heard": heard,
                            **percentiles(latencies),
                            # Both servers' CPU for the round (the mutation included), per
                            # subscription heard: what one delivery costs, load aside.
                            "server_cpu_ms_per_delivery": round(sum(cpu) * 1000 / max(heard, 1), 2),
                        }
                    )
                    await asyncio.sleep(1.0)
        finally:
            for http in clients:
                await http.aclose()
    overall = percentiles(every)
    everyone = all(r["heard"] == subscriptions for r in results)
    return {
        "what": "one createAppointment heard by every open appointmentRequestEvents "
        "subscription, half on each of two API processes (PostgreSQL + Redis pub/sub); "
        "latency from sending the mutation to each subscription's `next` message",
        "subscriptions": subscriptions,
        "per_process": subscriptions // 2,
        "open_seconds": round(open_seconds, 1),
        "warm_up_bookings": tries,
        "rounds": results,
        "overall": overall,
        "target_p99_ms": 500,
        "meets_target": overall["p99_ms"] < 500 and everyone,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    p.add_argument("--subscriptions", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    subscriptions = min(max(args.subscriptions, 2), 5000)
    rounds = min(max(args.rounds, 1), 20)
    print(json.dumps(asyncio.run(measure(subscriptions, rounds)), indent=2))


if __name__ == "__main__":
    main()
