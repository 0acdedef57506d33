"""bookableSlots under a busy calendar: server time and SQL statements per request; prints JSON.

    .venv/bin/python -m bench.slots [--database sqlite|postgres] [--rounds N] [--repeat M]

Starts bench.slots_server (a fresh SQLite file in a temp dir, or the PostgreSQL database of
--postgres-url, emptied first; one uvicorn worker) on a free port of 127.0.0.1, signs in through
portalLogin as the client whose care team holds all 50 clinicians, and asks, over HTTP:

  a  bookableSlots of the busiest clinician for 90 days (M times per round);
  b  bookableSlots of each of the 50 clinicians for 30 days at the location, one request per
     clinician, one after another (what the portal's location calendar loads);
  b6 the same 50 requests with 6 at a time (a browser's connections per host): wall time only,
     since requests interleave in the one worker;
  c  one location-wide bookableSlots (no staffId) for the same 50 clinicians over 30 days.

Server time is measured in the server process around the ASGI app call (bench.slots_server
.Measured): elapsed (perf_counter) and CPU of the process (process_time). Client time is the
round trip on loopback. SQL statements are counted per request in the server by wrapping the
execute_* methods of tortoise's client classes, and shown per range length (7, 30, 60, 90 days).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.run import HOST, free_port

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/portal_bench"
TARGET_A_MS = 30.0
TARGET_B_MS = 150.0
TARGET_C_MS = 150.0
RANGES = (7, 30, 60, 90)
BROWSER_CONNECTIONS = 6

LOGIN = """mutation ($input: PortalLoginInput!) {
  portalLogin(input: $input) { session { token } errors { code message } } }"""
SLOTS = """query BookableSlots($input: BookableSlotsInput!) {
  bookableSlots(input: $input) { start end staffId locationId } }"""


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 2),
        "p90": round(p90, 2),
        "min": round(ordered[0], 2),
        "n": len(ordered),
    }


class Bench:
    def __init__(self, http: httpx.AsyncClient, world: dict[str, Any], token: str) -> None:
        self.http = http
        self.world = world
        self.token = token
        self.first_day = datetime.now(ZoneInfo(world["time_zone"])).date() + timedelta(days=1)
        self.client_ms: dict[str, float] = {}

    async def slots(self, staff_index: int | None, days: int, tag: str) -> list[dict[str, Any]]:
        """One staff member's slots; staff_index None: the whole location's (case c)."""
        last = self.first_day + timedelta(days=days - 1)
        variables: dict[str, Any] = {
            "input": {
                "locationId": self.world["location_id"],
                "from": self.first_day.isoformat(),
                "to": last.isoformat(),
            }
        }
        if staff_index is not None:
            variables["input"]["staffId"] = self.world["staff_ids"][staff_index]
        headers = {"Authorization": f"Bearer {self.token}", "x-bench-id": tag}
        started = time.perf_counter()
        response = await self.http.post(
            "/graphql", json={"query": SLOTS, "variables": variables}, headers=headers
        )
        self.client_ms[tag] = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise SystemExit(f"GraphQL errors: {body['errors']}")
        found: list[dict[str, Any]] = body["data"]["bookableSlots"]
        return found

    async def records(self) -> dict[str, dict[str, Any]]:
        response = await self.http.get("/bench/records")
        return {r["id"]: r for r in response.json()}

    async def location_calendar(self, tag: str) -> float:
        """b: the 50 clinicians one after another; returns the client wall time in ms."""
        started = time.perf_counter()
        for index in range(len(self.world["staff_ids"])):
            await self.slots(index, 30, f"{tag}:{index}")
        return (time.perf_counter() - started) * 1000

    async def location_calendar_parallel(self, tag: str) -> float:
        """b6: the same with BROWSER_CONNECTIONS requests in flight; client wall time in ms."""
        gate = asyncio.Semaphore(BROWSER_CONNECTIONS)

        async def one(index: int) -> None:
            async with gate:
                await self.slots(index, 30, f"{tag}:{index}")

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(len(self.world["staff_ids"]))))
        return (time.perf_counter() - started) * 1000


def start_server(folder: Path, port: int, database_url: str) -> subprocess.Popen[bytes]:
    log = (folder / "server.log").open("wb")
    command = [sys.executable, "-m", "bench.slots_server", "--database-url", database_url]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [*command, "--folder", str(folder), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )


def wait_ready(base: str, server: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 600  # seeding ~18k appointments on a loaded machine
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("bench server died:\n" + (folder / "server.log").read_text())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("bench server did not start in 600 s")


async def statements_by_range(bench: Bench) -> dict[str, Any]:
    """Per range length, the statements of one request for the busiest and a lighter clinician
    and the whole location (c), twice each: a count that grew with the range would show here."""
    counts: dict[str, dict[str, list[int]]] = {}
    slot_counts: dict[str, dict[str, int]] = {}
    for days in RANGES:
        for who, index in (("busiest", 0), ("other", 1), ("location", None)):
            for attempt in range(2):
                found = await bench.slots(index, days, f"s:{days}:{who}:{attempt}")
                slot_counts.setdefault(str(days), {})[who] = len(found)
    records = await bench.records()
    for tag, record in records.items():
        _, length, who, _ = tag.split(":")
        counts.setdefault(length, {}).setdefault(who, []).append(record["statements"])
    sample = records["s:90:busiest:1"]["sql"]
    return {"statements": counts, "slots": slot_counts, "sql_of_one_request": sample}


async def measure(base: str, world: dict[str, Any], rounds: int, repeat: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = {
            "input": {
                "agencySlug": world["agency_slug"],
                "username": world["username"],
                "password": world["password"],
            }
        }
        response = await http.post("/graphql", json={"query": LOGIN, "variables": login})
        token = response.json()["data"]["portalLogin"]["session"]["token"]
        bench = Bench(http, world, token)
        # Warm-up: imports, caches, connection pools, prepared statements.
        for i in range(5):
            await bench.slots(0, 90, f"w:{i}")
        await bench.location_calendar("w:b")
        await bench.slots(None, 30, "w:c")
        await bench.records()
        by_range = await statements_by_range(bench)

        a: list[dict[str, Any]] = []
        b: list[dict[str, Any]] = []
        b_totals: list[float] = []
        b_cpu_totals: list[float] = []
        b_walls: list[float] = []
        b6_walls: list[float] = []
        c: list[dict[str, Any]] = []
        a_slots = b_slots = c_slots = 0
        for r in range(rounds):
            for i in range(repeat):
                a_slots = len(await bench.slots(0, 90, f"a:{r}:{i}"))
            b_walls.append(await bench.location_calendar(f"b:{r}"))
            b6_walls.append(await bench.location_calendar_parallel(f"b6:{r}"))
            for i in range(repeat):
                c_slots = len(await bench.slots(None, 30, f"c:{r}:{i}"))
            records = await bench.records()
            c += [v for k, v in records.items() if k.startswith("c:")]
            a += [v for k, v in records.items() if k.startswith("a:")]
            this_b = [v for k, v in records.items() if k.startswith("b:")]
            b += this_b
            b_totals.append(sum(v["ms"] for v in this_b))
            b_cpu_totals.append(sum(v["cpu_ms"] for v in this_b))
        for i in range(len(world["staff_ids"])):
            b_slots += len(await bench.slots(i, 30, f"x:{i}"))
        await bench.records()
        a_client = [v for k, v in bench.client_ms.items() if k.startswith("a:")]
        b_client = [v for k, v in bench.client_ms.items() if k.startswith("b:")]
        c_client = [v for k, v in bench.client_ms.items() if k.startswith("c:")]

    a_ms = summary([v["ms"] for v in a])
    b_total = summary(b_totals)
    c_ms = summary([v["ms"] for v in c])
    return {
        "a_one_clinician_90_days": {
            "slots_listed": a_slots,
            "server_ms": a_ms,
            "server_cpu_ms": summary([v["cpu_ms"] for v in a]),
            "client_round_trip_ms": summary(a_client),
            "statements": sorted({v["statements"] for v in a}),
            "target_ms": TARGET_A_MS,
            "target_met_by_median": a_ms["median"] < TARGET_A_MS,
        },
        "b_50_clinicians_30_days": {
            "slots_listed_total": b_slots,
            "per_request_server_ms": summary([v["ms"] for v in b]),
            "per_request_server_cpu_ms": summary([v["cpu_ms"] for v in b]),
            "per_request_client_round_trip_ms": summary(b_client),
            "total_server_ms_per_location": b_total,
            "total_server_cpu_ms_per_location": summary(b_cpu_totals),
            "total_client_wall_ms_sequential": summary(b_walls),
            f"total_client_wall_ms_{BROWSER_CONNECTIONS}_at_a_time": summary(b6_walls),
            "statements_per_request": sorted({v["statements"] for v in b}),
            "target_ms": TARGET_B_MS,
            "target_met_by_median_total": b_total["median"] < TARGET_B_MS,
        },
        "c_location_wide_50_clinicians_30_days": {
            "slots_listed": c_slots,
            "same_slots_as_b": c_slots == b_slots,
            "server_ms": c_ms,
            "server_cpu_ms": summary([v["cpu_ms"] for v in c]),
            "client_round_trip_ms": summary(c_client),
            "statements": sorted({v["statements"] for v in c}),
            "target_ms": TARGET_C_MS,
            "target_met_by_median": c_ms["median"] < TARGET_C_MS,
        },
        "by_range_length": by_range,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeat", type=int, default=5, help="(a) and (c) requests per round")
    args = p.parse_args(argv)
    rounds, repeat = max(1, min(args.rounds, 50)), max(1, min(args.repeat, 50))
    folder = Path(tempfile.mkdtemp(prefix="slots-bench-"))
    if args.database == "sqlite":
        database_url = f"sqlite://{folder / 'slots.sqlite3'}"
    else:
        database_url = args.postgres_url
    port = free_port()
    base = f"http://{HOST}:{port}"
    load_before = os.getloadavg()
    server = start_server(folder, port, database_url)
    try:
        wait_ready(base, server, folder)
        world = json.loads((folder / "world.json").read_text())
        results = asyncio.run(measure(base, world, rounds, repeat))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    report = {
        "what": "bookableSlots as the portal client whose care team holds all 50 clinicians",
        "database": args.database,
        "server": "bench.slots_server: the real app, one uvicorn worker (uvloop, httptools) "
        "on 127.0.0.1; requests over HTTP/1.1 keep-alive from httpx",
        "server_time": "measured in the server around the ASGI app call (elapsed and process "
        "CPU, which includes aiosqlite's thread); client_round_trip is the loopback round trip",
        "statements": "counted in the server per request by wrapping tortoise's execute_* "
        "methods (" + ", ".join(world["counted_methods"]) + ")",
        "rounds": rounds,
        "a_repeats_per_round": repeat,
        "first_day": (date.today() + timedelta(days=1)).isoformat(),
        "calendar": world["rows"],
        "seed_seconds": world["seed_seconds"],
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        **results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
