"""py-spy profiles of the `service` process under wrk, PostgreSQL bench targets one at a time.

    .venv/bin/python -m bench.pg_profile [--target NAME ...] [--seconds 10] [--out DIR]

Seeds the database of --postgres-url as bench/pg.py does (emptied first), starts the service
(bench/pg_server.py, pinned to CPU 0) and, for each target in turn (default: the portal's three
hot reads), warms it up, then records `py-spy record -r 200 -f raw` of the server for --seconds
while wrk loads it (pinned to CPU 1). Writes DIR/<target>.raw (folded stacks and their sample
counts) and prints, per target, the share of samples by part of the request (`parts`: the
first rule, innermost frame first, that matches) and by layer (`layers`). `--summary FILE.raw`
prints the same for a recording made before. py-spy must be installed
(`.venv/bin/pip install py-spy`) and allowed to attach to the process (root, or
kernel.yama.ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench import pg
from bench.run import load

HOT_READS = ("portal_home", "appointment_requests", "bookable_slots")
TARGETS = ("service", "service_plain", *HOT_READS)

# Layers: the innermost frame that matches decides (frames are "function (file:line)").
LAYERS = (
    ("asyncpg", r"asyncpg/"),
    ("ORM: building SQL (pypika)", r"pypika_tortoise/"),
    ("ORM: querysets, rows to model instances", r"tortoise/"),
    ("JSON encoding", r"encode_json|orjson"),
    (
        "GraphQL: strawberry, graphql-core, schema/ execution",
        r"graphql/|strawberry/|schema/(execution|operation|text_rule|errors|compiled)\.py",
    ),
    ("our resolvers and schema/ types", r"resolvers/|schema/|app/context\.py"),
    ("HTTP: uvicorn, middleware, view", r"uvicorn/|starlette/|app/|bench/pg_count\.py"),
)
# Parts of one request, per target: the innermost frame that matches a rule decides; audit
# inserts first (they happen inside the portal's sections).
AUDIT = ("audit inserts (one per section read)", r"^record \(resolvers/audit\.py")
PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "portal_home": (
        ("section careTeam", r"^Portal\.care_team "),
        ("section documents", r"^Portal\.documents "),
        ("section payments (balance, charges, payments)", r"^Portal\.payments |^Payments\."),
        ("section socialHistory", r"^Portal\.social_history "),
        ("section clinical", r"^Portal\.clinical "),
        ("root: portal (viewer, settings row, client row)", r"^Query\.portal "),
    ),
    "appointment_requests": (
        ("settings row read (_is_designated)", r"^_is_designated "),
        ("the list read: SQL, rows to model instances", r"^appointment_requests \(resolvers"),
        ("rows to AppointmentRequest objects (to_request)", r"^to_request "),
        ("completing the list's fields", r"^Executor\.complete_value|^LeafFastPath"),
    ),
    "bookable_slots": (
        ("slot computation (resolvers/slots.py)", r"\(resolvers/slots\.py"),
        ("viewer + settings row", r"^portal_viewer "),
        ("staff, care team, locations checks", r"^_bookable_staff "),
        ("slot rules: schedule, windows, dates off", r"^slot_rules "),
        ("held ranges read", r"^_held "),
        ("completing the slots' fields", r"^Executor\.complete_value|^LeafFastPath"),
    ),
}
# Samples no rule of the target claims, by what they were doing.
FALLBACK = (
    ("GraphQL resolver plumbing, permission check", r"^(Executor\.with_abort_signal|Permission)"),
    ("event loop (uvloop: sockets, callbacks)", r"^Runner\.run \S+$"),
    ("asyncpg: connections back to the pool", r"^PoolConnectionHolder\.release"),
    ("HTTP, middleware, session, GraphQL parse and set-up, JSON", r"^RequestResponseCycle"),
    ("GraphQL: completing resolved values", r"^Executor\.complete"),
)


def _part(target: str, frames: list[str]) -> str:
    if target == "portal_home" and any(re.search(AUDIT[1], f) for f in frames):
        return AUDIT[0]
    rules = PARTS.get(target, ())
    for frame in reversed(frames):
        for name, pattern in rules:
            if re.search(pattern, frame):
                return name
    for name, pattern in FALLBACK:
        if name.startswith("event loop"):
            if frames[-1].startswith("Runner.run "):
                return name
        elif any(re.search(pattern, f) for f in frames):
            return name
    return "other"


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in LAYERS:
            if re.search(pattern, frame):
                return name
    return "other (stdlib, event loop)"


def summary(raw: Path, target: str) -> dict[str, dict[str, float]]:
    """Shares of the samples (percent) by part of the request and by layer."""
    parts: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        parts[_part(target, frames)] += int(count)
        layers[_layer(frames)] += int(count)
    total = sum(parts.values()) or 1
    return {
        "parts": {k: round(100 * v / total, 1) for k, v in parts.most_common()},
        "layers": {k: round(100 * v / total, 1) for k, v in layers.most_common()},
        "samples": {"total": total},
    }


def _print_summary(raw: Path, target: str) -> None:
    found = summary(raw, target)
    print(f"  {found['samples']['total']:.0f} samples")
    for title in ("parts", "layers"):
        print(f"  {title} (% of samples):")
        for name, share in found[title].items():
            print(f"    {share:6.1f}  {name}")


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def _record(py_spy: str, bench: pg.Bench, seconds: float, out: Path, folder: Path) -> Path:
    """The profile of one target's server while wrk loads that target."""
    server = bench.server
    pid = server.process.pid
    raw = out / f"{bench.target.name}.raw"
    result: dict[str, Any] = {}

    def run_load() -> None:
        # A second longer than the recording, so the profile sees load from end to end.
        result.update(load(server.base, bench.target, seconds + 1, 32, folder, pid, pg._pinned(1)))

    loader = threading.Thread(target=run_load)
    loader.start()
    command = [py_spy, "record", "-r", "200", "-f", "raw", "-d", f"{seconds:g}"]
    subprocess.run(  # noqa: S603 - py-spy with fixed arguments
        [*command, "-p", str(pid), "-o", str(raw)], check=True, capture_output=True
    )
    loader.join()
    print(f"{bench.target.name}: {result.get('rps')} req/s under the profiler, {raw}")
    return raw


def profile(url: str, redis_url: str, targets: list[str], seconds: float, out: Path) -> None:
    py_spy = _py_spy()
    agency, world = asyncio.run(pg.seed(url, any(t in HOT_READS for t in targets)))
    folder = Path(tempfile.mkdtemp(prefix="portal-pg-profile-"))
    service = pg.start_service(url, redis_url, folder)
    try:
        found = pg.benches(service, service, None, agency)
        if world is not None:
            found += pg.portal_benches(service, world)
        for bench in (b for b in found if b.target.name in targets):
            load(service.base, bench.target, 3.0, 32, folder, service.process.pid, pg._pinned(1))
            _print_summary(_record(py_spy, bench, seconds, out, folder), bench.target.name)
    finally:
        pg.stop(service)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", pg.DEFAULT_POSTGRES)
    )
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    p.add_argument("--target", action="append", choices=TARGETS, help="repeatable")
    p.add_argument("--seconds", type=float, default=10.0, help="recording per target")
    p.add_argument("--out", type=Path, default=Path("."), help="where the .raw files go")
    p.add_argument("--summary", type=Path, help="only summarise this recording (of --target)")
    args = p.parse_args(argv)
    if args.summary is not None:
        _print_summary(args.summary, (args.target or ["service"])[0])
        return
    if not 0 < args.seconds <= 60:
        raise SystemExit("keep --seconds in (0, 60]")
    args.out.mkdir(parents=True, exist_ok=True)
    profile(
        args.postgres_url, args.redis_url, args.target or list(HOT_READS), args.seconds, args.out
    )


if __name__ == "__main__":
    main()
