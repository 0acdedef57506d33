"""This service against PostGraphile 4 and a plain asyncpg endpoint, on PostgreSQL; prints JSON.

    .venv/bin/python -m bench.run --database postgres [--postgres-url URL] [--seconds N]
        [--rounds R] [--connections C] [--levers | --lever NAME ...] [--no-portal-reads]
        (or: python -m bench.pg ...)

The runner empties the database of --postgres-url (created if missing; its name should say it is
a bench database), migrates it and seeds 1,000 `location` rows: 100 of the bench agency, 900 of
another. Then it starts, each as its own process on a free port of 127.0.0.1, pinned to CPU 0
(`taskset`, when there are two CPUs or more):
  service        this app (bench/pg_server.py, one uvicorn worker), `locations(first: 20)`,
                 signed in through staffLogin (a bearer token on every request)
  service_plain  the same process's /plain/locations: the same session check and ORM read, no
                 GraphQL (bench/server.py), to tell GraphQL's share from the rest
  postgraphile   PostGraphile 4 (bench/.node, `npm install` on first use; skipped with a note
                 where node or npm is missing): `allLocations(first: 20, condition: {agencyId})`,
                 no auth
  floor          plain Starlette + asyncpg (bench/pg_floor.py): one SQL, no auth
  portal_home, appointment_requests, bookable_slots
                 the portal's hot reads (bench/pg_portal.py) on the `service` process, signed
                 in as a client (portalLogin) or a clinician (staffLogin): service-only rows, no
                 ratios; each must answer without errors and with data before and after the
                 load. --no-portal-reads leaves them (and their data) out.
The four locations targets answer the same 20 rows (checked before and after the load). wrk
runs pinned to CPU 1; rounds interleave the targets, the order rotating each round. Reported per
target: req/s medians, latency, server CPU per request (/proc, the server process), PostgreSQL
backend CPU per request, and what each request sends to PostgreSQL (a counting pass of
sequential requests: round trips by statement, asyncpg's release reset and BEGIN/COMMIT
included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench import pg_portal
from bench.pg_portal import PortalWorld
from bench.pg_server import LEVERS
from bench.run import HOST, LOGIN, Target, free_port, gql, load, server_cpu_seconds
from bench.server import EMAIL, PASSWORD, ROWS, SLUG

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).resolve().parent / ".node"
POSTGRAPHILE = NODE_DIR / "node_modules" / ".bin" / "postgraphile"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/portal_bench"
BENCH_ROWS, OTHER_ROWS = 100, 900
COUNTING_REQUESTS = 50
IDLE_CPU_SECONDS = 0.01  # in 200 ms: a server below 5% of a CPU has no request left
PORTAL_READS = (
    f"service-only targets, the same process as `service`: {pg_portal.STAFF} staff with weekly "
    f"availability, {pg_portal.CLIENTS} clients with portal accounts, "
    f"{pg_portal.PENDING_FOR_CLINICIAN} pending requests for the clinician (bench/pg_portal.py)"
)

SERVICE_QUERY = (
    f"query LocationsBench {{ locations(first: {ROWS}) "
    "{ items { id name timeZone address } nextCursor } }"
)
POSTGRAPHILE_QUERY = (
    f"query LocationsBench($agency: UUID!) {{ allLocations(first: {ROWS}, "
    "condition: {agencyId: $agency}, orderBy: PRIMARY_KEY_ASC) "
    "{ nodes { id name timeZone address } pageInfo { hasNextPage endCursor } } }"
)


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    count_file: Path | None = None  # PostGraphile: counts arrive through a file

    def statements(self) -> dict[str, int]:
        """What it sent to PostgreSQL since the last call (and clears the count)."""
        if self.count_file is None:
            counts: dict[str, int] = httpx.get(f"{self.base}/bench/statements", timeout=10).json()
            return counts
        self.count_file.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR2)
        for _ in range(100):
            if self.count_file.exists() and self.count_file.stat().st_size:
                found: dict[str, int] = json.loads(self.count_file.read_text())
                return found
            time.sleep(0.05)
        raise SystemExit("PostGraphile did not write its counts")


@dataclass
class Bench:
    target: Target
    server: Server
    what: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    # The portal's hot reads (bench/pg_portal.py): no PostGraphile or floor twin, their own rows.
    service_only: bool = False
    answered: list[dict[str, int]] = field(default_factory=list)


# --- the database ------------------------------------------------------------------------------


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _fresh_database(url: str) -> None:
    """Creates the database if missing, then empties it."""
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(_asyncpg_url(_with_database(url, "postgres")))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(_asyncpg_url(url))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def seed(url: str, portal_reads: bool = True) -> tuple[str, PortalWorld | None]:
    """Migrations, the bench agency (its champion signs in) and another; 1,000 locations; with
    `portal_reads`, the data of the portal's hot reads in the bench agency (bench/pg_portal.py).
    Returns the bench agency's id and who the hot reads sign in as."""
    from tortoise import Tortoise

    from app.db import migrate, tortoise_config
    from models.agency import Location
    from resolvers.agencies import create_agency

    await _fresh_database(url)
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        agency, _ = await create_agency("Bench Agency", SLUG, EMAIL, PASSWORD)
        other, _ = await create_agency("Other Agency", "other", "other@bench.example", PASSWORD)
        rows = [
            Location(
                agency=agency,
                name=f"Office {i:03d}",
                time_zone="America/Chicago",
                address=f"{100 + i} Main St",
            )
            for i in range(BENCH_ROWS)
        ] + [
            Location(
                agency=other,
                name=f"Elsewhere {i:03d}",
                time_zone="Europe/Berlin",
                address=f"{i} Hauptstraße",
            )
            for i in range(OTHER_ROWS)
        ]
        await Location.bulk_create(rows)
        world = await pg_portal.seed_portal(agency, PASSWORD) if portal_reads else None
        conn = Tortoise.get_connection("default")
        await conn.execute_script("ANALYZE")
        return str(agency.id), world
    finally:
        await Tortoise.close_connections()


async def _backend_pids(url: str) -> list[int]:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_url(url))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def database_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend on the bench database (local server only)."""
    found = {}
    for pid in asyncio.run(_backend_pids(url)):
        seconds = server_cpu_seconds(pid)
        if seconds is not None:
            found[pid] = seconds
    return found


# --- the servers -------------------------------------------------------------------------------


def _pinned(cpu: int) -> tuple[str, ...]:
    taskset = shutil.which("taskset")
    return (taskset, "-c", str(cpu)) if taskset and (os.cpu_count() or 1) >= 2 else ()


def _start(
    name: str, command: list[str], folder: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    log = folder / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 - fixed commands built here
        [*_pinned(0), *command],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return process, log


def _wait(server: Server, path: str, method: str = "GET", body: str = "") -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} died:\n{server.log.read_text()[-4000:]}")
        try:
            headers = {"Content-Type": "application/json"}
            r = httpx.request(
                method, server.base + path, content=body or None, headers=headers, timeout=2
            )
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{server.name} did not start in 120 s")


def start_service(url: str, redis_url: str, folder: Path, without: str = "") -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.pg_server", "--database-url", url, "--port", str(port)]
    if redis_url:
        command += ["--redis-url", redis_url]
    name = f"service_without_{without.replace(',', '_')}" if without else "service"
    if without:
        command += ["--without", without]
    process, log = _start(name, command, folder)
    server = Server(name, f"http://{HOST}:{port}", process, log)
    _wait(server, "/healthz")
    return server


def start_floor(url: str, agency: str, folder: Path) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.pg_floor",
        "--database-url",
        url,
        "--agency",
        agency,
        "--port",
        str(port),
    ]
    process, log = _start("floor", command, folder)
    server = Server("floor", f"http://{HOST}:{port}", process, log)
    _wait(server, "/healthz")
    return server


def postgraphile_available() -> str | None:
    """None when PostGraphile can run, else why not. Installs it into bench/.node once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        return "node is not installed (Debian: apt-get install nodejs npm); PostGraphile skipped"
    if POSTGRAPHILE.exists():
        return None
    if npm is None:
        return "npm is not installed; PostGraphile skipped"
    NODE_DIR.mkdir(exist_ok=True)
    done = subprocess.run(  # noqa: S603 - npm with fixed arguments
        [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "postgraphile@4"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not POSTGRAPHILE.exists():
        return f"npm install postgraphile@4 failed; PostGraphile skipped: {done.stderr[-500:]}"
    return None


def start_postgraphile(url: str, folder: Path) -> Server:
    node = shutil.which("node")
    assert node is not None
    port = free_port()
    count_file = folder / "postgraphile-counts.json"
    command = [
        node,
        "-r",
        str(Path(__file__).resolve().parent / "postgraphile_count.js"),
        str(NODE_DIR / "node_modules" / "postgraphile" / "cli.js"),
        "-c",
        url,
        "-s",
        "public",
        "-n",
        HOST,
        "-p",
        str(port),
        "--disable-query-log",
        "-b",
    ]
    env = {"BENCH_COUNT_FILE": str(count_file), "NODE_ENV": "production"}
    process, log = _start("postgraphile", command, folder, env)
    server = Server("postgraphile", f"http://{HOST}:{port}", process, log, count_file)
    _wait(server, "/graphql", "POST", json.dumps({"query": "{ __typename }"}))
    return server


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# --- the targets -------------------------------------------------------------------------------


def _body(query: str, variables: dict[str, Any]) -> str:
    return json.dumps({"query": query, "variables": variables}, separators=(",", ":"))


def benches(
    service: Server,
    floor: Server,
    graphile: Server | None,
    agency: str,
    variants: list[Server] = [],  # noqa: B006 - never mutated
) -> list[Bench]:
    variables = {"input": {"agencySlug": SLUG, "email": EMAIL, "password": PASSWORD}}
    token = gql(service.base, LOGIN, variables)["staffLogin"]["session"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    json_type = {"Content-Type": "application/json"}
    found = [
        Bench(
            Target("service", "POST", "/graphql", _body(SERVICE_QUERY, {}), {**auth, **json_type}),
            service,
            f"this service, `locations(first: {ROWS})`, signed in (bearer token)",
        ),
        Bench(
            Target("service_plain", "GET", "/plain/locations", extra_headers=auth),
            service,
            "this service's /plain/locations: the same session check and ORM read, no GraphQL",
        ),
        Bench(
            Target("floor", "GET", "/locations"),
            floor,
            "plain Starlette + asyncpg, one SQL, no auth",
        ),
    ]
    for variant in variants:
        lever = variant.name.removeprefix("service_without_")
        found.append(
            Bench(
                Target(
                    variant.name, "POST", "/graphql", found[0].target.body, {**auth, **json_type}
                ),
                variant,
                f"this service with lever(s) `{lever}` turned off (bench/pg_server.py `without`)",
            )
        )
    if graphile is not None:
        body = _body(POSTGRAPHILE_QUERY, {"agency": agency})
        found.append(
            Bench(
                Target("postgraphile", "POST", "/graphql", body, json_type),
                graphile,
                f"PostGraphile 4, `allLocations(first: {ROWS}, condition: {{agencyId}})`, no auth",
            )
        )
    return found


def portal_benches(service: Server, world: PortalWorld) -> list[Bench]:
    """The portal's hot reads against the `service` process, each signed in as a real app is:
    the client through portalLogin, the clinician through staffLogin."""
    logins = pg_portal.login_variables(world, SLUG, PASSWORD)
    portal = gql(service.base, pg_portal.PORTAL_LOGIN, logins["portal"])
    staff = gql(service.base, pg_portal.STAFF_LOGIN, logins["staff"])
    tokens = {
        "portal": portal["portalLogin"]["session"]["token"],
        "staff": staff["staffLogin"]["session"]["token"],
    }
    what = {
        "portal_home": "a client's `portal(clientId)` home with every section on (portalLogin)",
        "appointment_requests": "a clinician's pending `appointmentRequests` (staffLogin)",
        "bookable_slots": "`bookableSlots` of the client's clinician at their location, "
        "the next 7 days (portalLogin)",
    }
    found = []
    for name, (query, variables, who) in pg_portal.requests(world).items():
        headers = {"Authorization": f"Bearer {tokens[who]}", "Content-Type": "application/json"}
        target = Target(name, "POST", "/graphql", _body(query, variables), headers)
        found.append(Bench(target, service, what[name], service_only=True))
    return found


def check_answers(found: list[Bench]) -> None:
    """Each hot read answers without errors and with something in every part it asks for."""
    for b in found:
        t = b.target
        r = httpx.post(b.server.base + t.path, content=t.body, headers=t.extra_headers, timeout=30)
        r.raise_for_status()
        body = r.json()
        if body.get("errors"):
            raise SystemExit(f"{t.name}: {body['errors']}")
        try:
            b.answered.append(pg_portal.answer_size(t.name, body["data"]))
        except ValueError as exc:
            raise SystemExit(str(exc)) from exc


def rows_of(bench: Bench) -> list[tuple[str, str, str]]:
    t = bench.target
    r = httpx.request(
        t.method,
        bench.server.base + t.path,
        content=t.body or None,
        headers=t.extra_headers,
        timeout=10,
    )
    r.raise_for_status()
    body = r.json()
    if "errors" in body:
        raise SystemExit(f"{t.name}: {body['errors']}")
    data = body.get("data", body)
    items = (
        data["locations"]["items"]
        if "locations" in data
        else data["allLocations"]["nodes"]
        if "allLocations" in data
        else data["items"]
    )
    return [(i["name"], i["timeZone"], i["address"]) for i in items]


def check_same(found: list[Bench]) -> None:
    want = rows_of(found[0])
    if len(want) != ROWS:
        raise SystemExit(f"{found[0].target.name}: {len(want)} rows, not {ROWS}")
    for b in found[1:]:
        if rows_of(b) != want:
            raise SystemExit(f"{b.target.name} answers other rows than {found[0].target.name}")


def count(bench: Bench) -> dict[str, Any]:
    """Round trips to PostgreSQL per request, by statement, over sequential requests."""
    t = bench.target
    settle(bench.server)
    with httpx.Client(base_url=bench.server.base, timeout=10) as client:
        client.request(t.method, t.path, content=t.body or None, headers=t.extra_headers)
        bench.server.statements()
        for _ in range(COUNTING_REQUESTS):
            client.request(t.method, t.path, content=t.body or None, headers=t.extra_headers)
        sent = bench.server.statements()
    per = {
        k: round(v / COUNTING_REQUESTS, 2) for k, v in sorted(sent.items(), key=lambda kv: -kv[1])
    }
    return {"round_trips_per_request": round(sum(per.values()), 2), "by_statement": per}


# --- the run -----------------------------------------------------------------------------------


def settle(server: Server, timeout: float = 20.0) -> None:
    """Waits until the server has finished the requests wrk left in flight: wrk stops counting
    at its deadline, but up to --connections requests are still being served, and the hot reads
    take up to a second or two under load. Several targets share the `service` process, so
    without this one target's tail would count as the next one's CPU and statements."""
    pid = server.process.pid
    deadline = time.monotonic() + timeout
    before = server_cpu_seconds(pid)
    while before is not None and time.monotonic() < deadline:
        time.sleep(0.2)
        after = server_cpu_seconds(pid)
        if after is None or after - before < IDLE_CPU_SECONDS:
            return
        before = after


def one_run(b: Bench, url: str, seconds: float, connections: int, folder: Path) -> dict[str, Any]:
    settle(b.server)
    db_before = database_cpu(url)
    cpu_before = server_cpu_seconds(b.server.process.pid)
    result = load(
        b.server.base, b.target, seconds, connections, folder, b.server.process.pid, _pinned(1)
    )
    cpu_after = server_cpu_seconds(b.server.process.pid)
    db_after = database_cpu(url)
    requests = max(result["requests"], 1)
    if cpu_before is not None and cpu_after is not None:
        result["cpu_ms_per_request"] = round((cpu_after - cpu_before) * 1e3 / requests, 3)
    db = sum(v - db_before.get(pid, 0.0) for pid, v in db_after.items())
    result["db_cpu_ms_per_request"] = round(db * 1e3 / requests, 3)
    return result


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def summary(b: Bench) -> dict[str, Any]:
    runs = b.runs
    found = {
        "what": b.what,
        "endpoint": f"{b.target.method} {b.server.name}{b.target.path}",
        "rps_per_round": [r["rps"] for r in runs],
        "rps_median": round(statistics.median(r["rps"] for r in runs), 1),
        "p50_ms_median": round(statistics.median(r["p50_us"] for r in runs) / 1e3, 2),
        "p99_ms_median": round(statistics.median(r["p99_us"] for r in runs) / 1e3, 2),
        "server_cpu_ms_per_request_median": _median(
            [r["cpu_ms_per_request"] for r in runs if "cpu_ms_per_request" in r] or [0.0]
        ),
        "db_cpu_ms_per_request_median": _median([r["db_cpu_ms_per_request"] for r in runs]),
        "errors": sum(r["socket_errors"] + r["status_errors"] for r in runs),
    }
    if b.service_only:
        found["service_only"] = True
        found["answered_before_after"] = b.answered
    return found


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    def ratio(a: str, b: str) -> float | None:
        if a not in results or b not in results:
            return None
        value: float = results[a]["rps_median"] / results[b]["rps_median"]
        return round(value, 3)

    def per_cpu(a: str, b: str) -> float | None:
        """Requests per server CPU-second of a over b: the same comparison, far less swayed by
        what else runs on the machine (a server that shares its CPU is not CPU-bound)."""
        if a not in results or b not in results:
            return None
        value: float = (
            results[b]["server_cpu_ms_per_request_median"]
            / results[a]["server_cpu_ms_per_request_median"]
        )
        return round(value, 3)

    levers = {
        name: ratio("service", name) for name in results if name.startswith("service_without_")
    }
    return {
        **{f"service_vs_{name}": value for name, value in levers.items()},
        "service_vs_postgraphile": ratio("service", "postgraphile"),
        "service_vs_postgraphile_per_cpu_second": per_cpu("service", "postgraphile"),
        "service_vs_floor_per_cpu_second": per_cpu("service", "floor"),
        "service_vs_floor": ratio("service", "floor"),
        "postgraphile_vs_floor": ratio("postgraphile", "floor"),
        "service_plain_vs_floor": ratio("service_plain", "floor"),
    }


def run(
    url: str,
    redis_url: str,
    seconds: float,
    rounds: int,
    connections: int,
    levers: bool | list[str] = False,
    portal_reads: bool = True,
) -> dict[str, Any]:
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="portal-pg-bench-"))
    agency, world = asyncio.run(seed(url, portal_reads))
    skipped = postgraphile_available()
    servers: list[Server] = []
    try:
        service = start_service(url, redis_url, folder)
        servers.append(service)
        floor = start_floor(url, agency, folder)
        servers.append(floor)
        graphile = None
        if skipped is None:
            graphile = start_postgraphile(url, folder)
            servers.append(graphile)
        variants = []
        if levers:
            chosen = levers if isinstance(levers, list) else [*LEVERS, ",".join(LEVERS)]
            for without in chosen:
                variants.append(start_service(url, redis_url, folder, without))
                servers.append(variants[-1])
        found = benches(service, floor, graphile, agency, variants)
        check_same(found)
        hot = portal_benches(service, world) if world is not None else []
        check_answers(hot)
        found += hot
        for b in found:  # warm-up: imports, caches, pools, prepared statements
            load(
                b.server.base,
                b.target,
                min(3.0, seconds),
                connections,
                folder,
                b.server.process.pid,
                _pinned(1),
            )
        statements = {b.target.name: count(b) for b in found}
        for r in range(rounds):
            order = found[r % len(found) :] + found[: r % len(found)]
            for b in order:
                b.runs.append(one_run(b, url, seconds, connections, folder))
        check_same([b for b in found if not b.service_only])
        check_answers(hot)
    finally:
        for s in servers:
            stop(s)
        shutil.rmtree(folder, ignore_errors=True)
    results = {b.target.name: {**summary(b), "postgres": statements[b.target.name]} for b in found}
    return {
        "database": "postgres",
        "load_generator": "wrk -t1" if shutil.which("wrk") else "bench.load (httpx)",
        "pinning": "servers on CPU 0, load on CPU 1" if _pinned(0) else "none (one CPU)",
        "cpus": os.cpu_count(),
        "seconds_per_run": seconds,
        "rounds": rounds,
        "connections": connections,
        "rows": f"{ROWS} of the bench agency's {BENCH_ROWS}, in a {BENCH_ROWS + OTHER_ROWS}-row "
        "location table",
        "postgraphile": skipped or "4 (bench/.node)",
        "portal_reads": PORTAL_READS if portal_reads else "off (--no-portal-reads)",
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "results": results,
        "ratios": ratios(results),
        "ratio_is": "req/s median over req/s median, same run, rounds interleaved; "
        "*_per_cpu_second: requests per server CPU-second, over the same of the other",
        "target": {"service_vs_postgraphile": 1.0},
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help=f"a database the bench may empty (default $BENCH_POSTGRES_URL or {DEFAULT_POSTGRES})",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="REDIS_URL for this service, as production runs (default "
        "$BENCH_REDIS_URL; empty: the in-process bus)",
    )
    p.add_argument("--seconds", type=float, default=5.0, help="length of one run (default 5)")
    p.add_argument("--rounds", type=int, default=5, help="runs per target (default 5)")
    p.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    p.add_argument(
        "--levers",
        action="store_true",
        help="also run this service with each lever of issue 9 off, and with all of them off",
    )
    p.add_argument(
        "--lever",
        action="append",
        choices=LEVERS,
        help="run this service with this one lever off too (repeatable; instead of --levers)",
    )
    p.add_argument(
        "--no-portal-reads",
        dest="portal_reads",
        action="store_false",
        help="leave out the portal's hot reads (portal home, appointmentRequests, "
        "bookableSlots), for a shorter run",
    )
    args = p.parse_args(argv)
    if not (0 < args.seconds <= 60 and 0 < args.rounds <= 20 and 0 < args.connections <= 256):
        raise SystemExit("keep --seconds in (0, 60], --rounds in (0, 20], --connections (0, 256]")
    if not args.postgres_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--postgres-url must be a postgres:// URL")
    print(
        json.dumps(
            run(
                args.postgres_url,
                args.redis_url,
                args.seconds,
                args.rounds,
                args.connections,
                args.lever or args.levers,
                args.portal_reads,
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
