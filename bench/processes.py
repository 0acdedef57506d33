"""Throughput of one API process against two (`portal serve --workers 1` vs `--workers 2`) on
PostgreSQL and Redis; prints JSON.

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        .venv/bin/python -m bench.processes [--seconds 5 --rounds 5 --connections 32]

Seeds a fresh agency (its own slug, nothing else in the database is touched) with 20
locations, starts both servers once on free ports of 127.0.0.1 (the idle one costs nothing),
signs in through staffLogin and loads each with the signed-in `locations(first: 20)` page, the
two alternating and the order flipping every round so drift falls on both. The figure is
`ratio` = median req/s of two processes / median req/s of one. `cpu_rps` counts requests per
CPU-second of the server's whole process tree (uvicorn's supervisor and its workers).
Load: wrk (bench/run.py's script), else bench.load.
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

from app.db import migrate, tortoise_config
from bench import run as single
from models.agency import Location
from resolvers.agencies import create_agency

HOST = "127.0.0.1"
PASSWORD = "bench-password-not-secret"
ROWS = 20
ROOT = Path(__file__).resolve().parent.parent


def services() -> tuple[str, str]:
    database = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    if not database.startswith("postgres") or not redis:
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL: several processes need both")
    return database, redis


async def seed_agency(database_url: str, locations: int = ROWS) -> tuple[str, str]:
    """A new agency (slug, champion e-mail) with `locations` locations, after migrating."""
    await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        email = f"champion@{slug}.example"
        agency, _ = await create_agency("Bench Agency", slug, email, PASSWORD)
        for i in range(locations):
            await Location.create(
                agency=agency,
                name=f"Office {i:02d}",
                time_zone="America/Chicago",
                address=f"{100 + i} Main St",
            )
    finally:
        await Tortoise.close_connections()
    return slug, email


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "test",
        "WEB_CONCURRENCY": "",
    }


@contextmanager
def serving(
    env: dict[str, str], workers: int, folder: Path, name: str = "serve"
) -> Iterator[tuple[str, int]]:
    """`portal serve --workers N` on a free port; (base URL, pid) once every worker started."""
    port = single.free_port()
    log_path = folder / f"{name}-{workers}.log"
    log = log_path.open("wb")
    command = [sys.executable, "-c", "from app.cli import main; main()", "serve"]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [*command, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://{HOST}:{port}"
    try:
        single.wait_ready(base, server, folder)
        _all_workers_up(base, workers, log_path)
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _all_workers_up(base: str, workers: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while log.read_text().count("Application startup complete") < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"{base}: {workers} workers did not start:\n{log.read_text()}")
        time.sleep(0.2)


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU of a process and its children (uvicorn's workers), from /proc."""
    total = single.server_cpu_seconds(pid)
    if total is None:
        return None
    for child in _children(pid):
        total += single.server_cpu_seconds(child) or 0.0
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def login(base: str, slug: str, email: str) -> str:
    variables = {"input": {"agencySlug": slug, "email": email, "password": PASSWORD}}
    token: str = single.gql(base, single.LOGIN, variables)["staffLogin"]["session"]["token"]
    return token


def list_target(base: str, token: str) -> single.Target:
    query = single.locations_query(base, token)
    if query is None:
        raise SystemExit("the schema has no locations field")
    body = json.dumps({"query": query, "variables": {}}, separators=(",", ":"))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return single.Target("graphql_list", "POST", "/graphql", body, headers)


def check(base: str, target: single.Target) -> int:
    response = httpx.post(
        base + target.path, content=target.body, headers=target.extra_headers, timeout=10
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL errors: {body['errors']}")
    return len(body["data"]["locations"]["items"])


def measure(
    base: str, pid: int, target: single.Target, seconds: float, connections: int, folder: Path
) -> dict[str, Any]:
    before = tree_cpu_seconds(pid)
    result = single.load(base, target, seconds, connections, folder, pid)
    after = tree_cpu_seconds(pid)
    result.pop("cpu_rps", None)  # the supervisor's own CPU only; the tree's is below
    if before is not None and after is not None and after > before:
        result["cpu_rps"] = round(result["requests"] / (after - before), 1)
    return result


def run(seconds: float, rounds: int, connections: int) -> dict[str, Any]:
    database_url, redis_url = services()
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-processes-"))
    slug, email = asyncio.run(seed_agency(database_url))
    env = server_env(database_url, redis_url)
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    with serving(env, 1, folder) as one, serving(env, 2, folder) as two:
        servers = {1: one, 2: two}
        token = login(one[0], slug, email)
        target = list_target(one[0], token)
        rows = {n: check(base, target) for n, (base, _) in servers.items()}
        if set(rows.values()) != {ROWS}:
            raise SystemExit(f"expected {ROWS} rows from each server, got {rows}")
        for base, pid in servers.values():  # warm-up: connection pools, lazy imports
            measure(base, pid, target, 1, connections, folder)
        for round_no in range(rounds):
            order = (1, 2) if round_no % 2 == 0 else (2, 1)
            for n in order:
                base, pid = servers[n]
                runs[n].append(measure(base, pid, target, seconds, connections, folder))
    return report(runs, seconds, connections)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def report(
    runs: dict[int, list[dict[str, Any]]], seconds: float, connections: int
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for n, results in runs.items():
        summary[f"processes_{n}"] = {
            "rps": [r["rps"] for r in results],
            "median_rps": _median([r["rps"] for r in results]),
            "median_cpu_rps": _median([r.get("cpu_rps", 0.0) for r in results]),
            "median_p50_ms": _median([r["p50_us"] / 1000 for r in results if "p50_us" in r]),
            "median_p99_ms": _median([r["p99_us"] / 1000 for r in results if "p99_us" in r]),
            "errors": sum(r.get("socket_errors", 0) + r.get("status_errors", 0) for r in results),
        }
    one, two = summary["processes_1"]["median_rps"], summary["processes_2"]["median_rps"]
    return {
        "what": f"signed-in locations(first: {ROWS}) over POST /graphql, PostgreSQL + Redis, "
        f"`portal serve --workers 1` vs `--workers 2`",
        "cores": os.cpu_count(),
        "seconds_per_run": seconds,
        "connections": connections,
        "rounds": len(runs[1]),
        **summary,
        "ratio": round(two / one, 3) if one else None,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.processes", description=__doc__)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args(argv)
    seconds = min(max(args.seconds, 1.0), 60.0)
    rounds = min(max(args.rounds, 1), 20)
    connections = min(max(args.connections, 1), 256)
    print(json.dumps(run(seconds, rounds, connections), indent=2))


if __name__ == "__main__":
    main()
