"""GraphQL against plain Starlette, same rows, same server, side by side; prints JSON.

    .venv/bin/python -m bench.run [--seconds N --rounds R --connections C --variant V]

Starts bench.server (fresh SQLite in a temp dir, one uvicorn worker) on a free port of
127.0.0.1, signs in through staffLogin, checks that each GraphQL query and its plain twin return
the same data, then alternates plain and GraphQL runs for R rounds per query (the order flips
every round so drift hits both). The figure is graphql_median / plain_median per query.
Load: wrk when installed (time-bounded by -d, and by a process timeout), else bench.load
(asyncio + httpx in its own process, bounded in time and count).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.server import EMAIL, PASSWORD, ROWS, SLUG, VARIANTS

HOST = "127.0.0.1"
MAX_REQUESTS = 2_000_000  # per run, for the httpx fallback (wrk is bounded by time)

LOGIN = """mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token } errors { code message } }
}"""

QUERY_FIELDS = """{ __type(name: "Query") { fields { name args { name }
  type { kind name ofType { kind name ofType { kind name } } } } } }"""

TYPE_FIELDS = """query ($name: String!) { __type(name: $name) { fields { name
  type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }"""

SETTINGS_QUERY = """query PortalSettingsBench {
  portalSettings {
    branding { logoUrl logoWidth logoHeight recommendedLogoWidth recommendedLogoHeight color
      portalUrl }
    invitations { clientInvitationSubject clientInvitationMessage
      representativeInvitationSubject representativeInvitationMessage invitationExpiryDays }
    appointments { appointmentMode allowClientCancel notifiedStaffId maxDaysInFuture
      defaultAppointmentMinutes defaultBreakMinutes lateCancelHours cancellationMessage }
    messaging { messagingMode emailClientOnNewMessage messagingDisclaimer }
    modules { enabledModules }
    utilities { usernameRecoverySubject usernameRecoveryMessage passwordResetSubject
      passwordResetMessage passwordResetExpiryDays }
    forms { formCompletionChannel forms { formId name clientCanSee representativeCanSee } }
  }
}"""

FORMS_QUERY = """query FormsBench {
  portalSettings { forms { forms { formId name clientCanSee representativeCanSee } } }
}"""

WRK_SCRIPT = """wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {{"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,'
    .. '"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Target:
    name: str
    method: str
    path: str
    body: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Pair:
    query: str
    note: str
    plain: Target
    graphql: Target
    bare: Target

    def sides(self) -> tuple[tuple[str, Target], ...]:
        return (("plain", self.plain), ("graphql", self.graphql), ("bare", self.bare))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def start_server(folder: Path, port: int, variant: str) -> subprocess.Popen[bytes]:
    log = (folder / "server.log").open("wb")
    command = [sys.executable, "-m", "bench.server", "--folder", str(folder), "--port", str(port)]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [*command, "--variant", variant],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )


def wait_ready(base: str, server: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("bench server died:\n" + (folder / "server.log").read_text())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("bench server did not start in 90 s")


def gql(base: str, query: str, variables: dict[str, Any], token: str = "") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def login(base: str) -> str:
    variables = {"input": {"agencySlug": SLUG, "email": EMAIL, "password": PASSWORD}}
    token: str = gql(base, LOGIN, variables)["staffLogin"]["session"]["token"]
    return token


def _named(type_ref: dict[str, Any]) -> str:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    name: str = type_ref["name"]
    return name


def locations_query(base: str, token: str) -> str | None:
    """The 20-row list query over `locations` (a Page with items), if the schema has it."""
    fields = gql(base, QUERY_FIELDS, {}, token)["__type"]["fields"]
    found = next((f for f in fields if f["name"] == "locations"), None)
    if found is None:
        return None
    page = gql(base, TYPE_FIELDS, {"name": _named(found["type"])}, token)["__type"]["fields"]
    items = next((f for f in page if f["name"] == "items"), None)
    if items is None:
        return None
    row_type = _named(items["type"])
    row = gql(base, TYPE_FIELDS, {"name": row_type}, token)["__type"]["fields"]
    wanted = [n for n in ("id", "name", "timeZone", "address") if n in {f["name"] for f in row}]
    args = f"(first: {ROWS})" if "first" in {a["name"] for a in found["args"]} else ""
    selection = " ".join(wanted)
    return f"query LocationsBench {{ locations{args} {{ items {{ {selection} }} nextCursor }} }}"


def pairs(base: str, token: str) -> list[Pair]:
    auth = {"Authorization": f"Bearer {token}"}
    gql_headers = {**auth, "Content-Type": "application/json"}

    def graphql(name: str, query: str) -> Target:
        body = json.dumps({"query": query, "variables": {}}, separators=(",", ":"))
        return Target(name, "POST", "/graphql", body, gql_headers)

    listing = locations_query(base, token)
    if listing is not None:
        list_pair = Pair(
            "list",
            f"{ROWS} rows of a Page through `locations(first: {ROWS})`",
            Target("plain_list", "GET", "/plain/locations", extra_headers=auth),
            graphql("graphql_list", listing),
            Target("bare_list", "GET", "/bare/locations"),
        )
    else:
        list_pair = Pair(
            "list",
            f"no `locations` field in the schema yet: {ROWS} form templates through "
            "portalSettings.forms.forms (the resolver reads the whole settings view)",
            Target("plain_list", "GET", "/plain/forms", extra_headers=auth),
            graphql("graphql_list", FORMS_QUERY),
            Target("bare_list", "GET", "/bare/forms"),
        )
    settings_pair = Pair(
        "settings",
        "portalSettings, every section",
        Target("plain_settings", "GET", "/plain/settings", extra_headers=auth),
        graphql("graphql_settings", SETTINGS_QUERY),
        Target("bare_settings", "GET", "/bare/settings"),
    )
    return [list_pair, settings_pair]


def fetch(base: str, target: Target) -> Any:
    response = httpx.request(
        target.method,
        base + target.path,
        content=target.body or None,
        headers=target.extra_headers,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _normal(value: Any) -> Any:
    """Plain JSON in GraphQL's shape: camelCase keys, enum spellings compared without case."""
    if isinstance(value, dict):
        return {_camel(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str):
        return value.lower()
    return value


def check_same(base: str, pair: Pair) -> int:
    """All sides must return the same data; returns the number of list rows."""
    plain = _normal(fetch(base, pair.plain))
    if _normal(fetch(base, pair.bare)) != plain:
        raise SystemExit(f"{pair.query}: bare and plain differ")
    body = fetch(base, pair.graphql)
    if body.get("errors"):
        raise SystemExit(f"{pair.graphql.name}: {body['errors']}")
    data = _normal(body["data"])
    if "locations" in data:
        got, want = data["locations"], plain
    elif pair.query == "list":
        got, want = data["portalSettings"]["forms"], plain
    else:
        got, want = data["portalSettings"], plain
    if got != want:
        raise SystemExit(f"{pair.query}: GraphQL and plain differ\n{got}\n{want}")
    if pair.query == "settings":
        return len(got["forms"]["forms"])
    return len(got["items"] if "items" in got else got["forms"])


def _wrk_headers(headers: dict[str, str]) -> str:
    return "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of the server process (all its threads), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    base: str,
    target: Target,
    seconds: float,
    connections: int,
    folder: Path,
    pid: int,
    pin: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One run of the load generator against one target; `pin` prefixes its command (taskset)."""
    url = base + target.path
    wrk = shutil.which("wrk")
    if wrk:
        script = folder / f"{target.name}.lua"
        script.write_text(
            WRK_SCRIPT.format(
                method=target.method,
                body=target.body,
                headers=_wrk_headers(target.extra_headers),
            )
        )
        command = [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ]
    else:
        spec = {
            "url": url,
            "method": target.method,
            "headers": target.extra_headers,
            "body": target.body,
            "seconds": seconds,
            "connections": connections,
            "max_requests": MAX_REQUESTS,
        }
        command = [sys.executable, "-m", "bench.load", json.dumps(spec)]
    cpu_before = server_cpu_seconds(pid)
    # wrk or our own interpreter, with arguments built here: no outside input.
    out = subprocess.run(  # noqa: S603
        [*pin, *command], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    cpu_after = server_cpu_seconds(pid)
    match = re.search(r"^(?:BENCH_JSON )?(\{.*\})$", out.stdout, re.MULTILINE)
    if match is None:
        raise SystemExit(f"no result from the load generator:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(match.group(1))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        result["cpu_rps"] = round(result["requests"] / (cpu_after - cpu_before), 1)
    return result


def run(seconds: float, rounds: int, connections: int, variant: str) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    port = free_port()
    base = f"http://{HOST}:{port}"
    server = start_server(folder, port, variant)
    try:
        wait_ready(base, server, folder)
        token = login(base)
        bench_pairs = pairs(base, token)
        rows = {p.query: check_same(base, p) for p in bench_pairs}
        for p in bench_pairs:  # warm-up: imports, caches, SQLite pages
            for _, t in p.sides():
                load(base, t, min(2.0, seconds), connections, folder, server.pid)
        runs: dict[str, list[dict[str, Any]]] = {
            t.name: [] for p in bench_pairs for _, t in p.sides()
        }
        for r in range(rounds):
            for p in bench_pairs:
                # Rotate the order every round, so slow drift falls on every side alike.
                order = [t for _, t in p.sides()]
                order = order[r % 3 :] + order[: r % 3]
                for t in order:
                    runs[t.name].append(load(base, t, seconds, connections, folder, server.pid))
        for p in bench_pairs:  # still the same data after the load
            check_same(base, p)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return {"variant": variant, **report(bench_pairs, runs, rows, seconds, rounds, connections)}


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def report(
    bench_pairs: list[Pair],
    runs: dict[str, list[dict[str, Any]]],
    rows: dict[str, int],
    seconds: float,
    rounds: int,
    connections: int,
) -> dict[str, Any]:
    queries: dict[str, Any] = {}
    for p in bench_pairs:
        sides: dict[str, Any] = {}
        for side, t in p.sides():
            results = runs[t.name]
            sides[side] = {
                "endpoint": f"{t.method} {t.path}",
                "rps_per_round": [r["rps"] for r in results],
                "rps_median": _median([r["rps"] for r in results]),
                "p50_ms_median": round(statistics.median(r["p50_us"] for r in results) / 1e3, 2),
                "p99_ms_median": round(statistics.median(r["p99_us"] for r in results) / 1e3, 2),
                "errors": sum(r["socket_errors"] + r["status_errors"] for r in results),
            }
            cpu = [r["cpu_rps"] for r in results if "cpu_rps" in r]
            if len(cpu) == len(results):
                sides[side]["per_server_cpu_second_median"] = _median(cpu)
        queries[p.query] = {
            "what": p.note,
            "rows": rows[p.query],
            **sides,
            "ratio": round(sides["graphql"]["rps_median"] / sides["plain"]["rps_median"], 3),
            "ratio_vs_bare": round(sides["graphql"]["rps_median"] / sides["bare"]["rps_median"], 3),
        }
        if all("per_server_cpu_second_median" in sides[k] for k in ("plain", "graphql")):
            queries[p.query]["cpu_ratio"] = round(
                sides["graphql"]["per_server_cpu_second_median"]
                / sides["plain"]["per_server_cpu_second_median"],
                3,
            )
    return {
        "load_generator": "wrk -t1" if shutil.which("wrk") else "bench.load (httpx)",
        "server": "uvicorn, 1 worker, uvloop + httptools, SQLite, 127.0.0.1",
        "cpus": os.cpu_count(),
        "seconds_per_run": seconds,
        "rounds": rounds,
        "connections": connections,
        "queries": queries,
        "ratio_is": "graphql rps median / plain rps median (plain = same session check, same "
        "ORM reads, JSON); ratio_vs_bare: against an endpoint with no session lookup",
        "ratios": {q: v["ratio"] for q, v in queries.items()},
        "cpu_ratios": {q: v.get("cpu_ratio") for q, v in queries.items()},
        "target": 0.75,
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--database" in argv:
        # `--database postgres`: this service against PostGraphile and asyncpg (bench/pg.py).
        at = argv.index("--database")
        database = argv[at + 1] if at + 1 < len(argv) else ""
        rest = argv[:at] + argv[at + 2 :]
        if database == "postgres":
            from bench import pg

            pg.main(rest)
            return
        if database != "sqlite":
            raise SystemExit("--database is sqlite (the default) or postgres")
        argv = rest
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0, help="length of one run (default 5)")
    p.add_argument("--rounds", type=int, default=5, help="runs per endpoint (default 5)")
    p.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    p.add_argument(
        "--variant",
        choices=VARIANTS,
        default="current",
        help="GraphQL set-up to measure (see bench/server.py; default current)",
    )
    args = p.parse_args(argv)
    if not (0 < args.seconds <= 60 and 0 < args.rounds <= 20 and 0 < args.connections <= 256):
        raise SystemExit("keep --seconds in (0, 60], --rounds in (0, 20], --connections (0, 256]")
    print(json.dumps(run(args.seconds, args.rounds, args.connections, args.variant), indent=2))


if __name__ == "__main__":
    main()
