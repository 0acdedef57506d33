"""`portal`: serve, migrate, demo, create-agency, export-schema, release-schema, worker."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from strawberry.printer import print_schema
from tortoise import Tortoise

from app import db
from app.settings import Settings, get_settings
from resolvers.errors import UserErrors

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def schema_sdl() -> str:
    from schema import build_schema

    return print_schema(build_schema(get_settings())) + "\n"


async def _with_orm(work: Callable[[], Awaitable[Any]]) -> Any:
    settings = get_settings()
    db.ensure_sqlite_dir(settings.database_url)
    await Tortoise.init(config=db.tortoise_config(settings.database_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def cmd_migrate(args: argparse.Namespace) -> None:
    asyncio.run(db.migrate(get_settings().database_url))
    print("migrations applied")


def cmd_demo(args: argparse.Namespace) -> None:
    from app.demo import PASSWORD, SLUG, DemoRefused, check_allowed, seed_demo

    settings = get_settings()
    try:
        check_allowed(settings.is_production)  # before touching the database
    except DemoRefused as refused:
        print(refused, file=sys.stderr)
        raise SystemExit(2) from refused
    logins = asyncio.run(_with_orm(lambda: seed_demo(settings.is_production)))
    base = settings.public_base_url.rstrip("/")
    print(f"Demo agency '{SLUG}'. Every password: {PASSWORD}")
    for login in logins:
        how = "staffLogin email" if login.kind == "staff" else "portalLogin username"
        print(f"  {login.who:34} {how}: {login.name}")
    print(f"GraphiQL: {base}/graphql")


def cmd_create_agency(args: argparse.Namespace) -> None:
    from resolvers.agencies import create_agency

    password = args.password or getpass.getpass("Champion's password: ")

    async def work() -> None:
        agency, champion = await create_agency(args.name, args.slug, args.email, password)
        print(f"created agency {agency.slug} with champion {champion.email}")

    try:
        asyncio.run(_with_orm(work))
    except UserErrors as exc:
        for error in exc.errors:
            print(f"{error.field}: {error.message}", file=sys.stderr)
        raise SystemExit(2) from exc


def cmd_export_schema(args: argparse.Namespace) -> None:
    SCHEMA_FILE.write_text(schema_sdl())
    print(f"wrote {SCHEMA_FILE}")


def cmd_release_schema(args: argparse.Namespace) -> None:
    from schema.contract import RELEASED_FILE, breaking_changes, explain

    current = schema_sdl()
    if RELEASED_FILE.exists():
        changes = breaking_changes(RELEASED_FILE.read_text(), current)
        if changes:
            print(explain(changes), file=sys.stderr)
            raise SystemExit(2)
    RELEASED_FILE.write_text(current)
    print(f"wrote {RELEASED_FILE}")


def server_options(settings: Settings) -> dict[str, Any]:
    """What every uvicorn serving this app sets (the CLI and the live-server tests): a WebSocket
    message is held to the same limit as a request body (uvicorn's own default is 16 MiB), and
    X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS (uvicorn's own default believes
    anyone on 127.0.0.1, so any local caller could pick its address). WebSocket messages are not
    compressed (permessage-deflate refused): ours are a few hundred bytes of JSON, and one event
    reaching a thousand sockets was compressing it a thousand times, each socket keeping its
    own zlib state in memory (bench/PROCESSES.md)."""
    trusted = settings.forwarded_allow_ips.strip()
    return {
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_body_bytes,
        "ws_per_message_deflate": False,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
    }


class ServeRefused(Exception):
    """`portal serve` options that cannot work together with this configuration."""


def check_workers(workers: int, settings: Settings) -> None:
    """Several API processes are one service only through Redis: without it each would run its
    own cron and jobs, keep its own event bus (a logout or a booking on one process would not
    reach sockets and subscriptions on another) and its own rate-limit counts."""
    if workers < 1:
        raise ServeRefused("--workers must be 1 or more")
    if workers > 1 and not settings.redis_url:
        raise ServeRefused(
            f"--workers {workers} needs REDIS_URL: without Redis each API process would run its "
            "own jobs and cron, and events (logouts, appointment updates) and rate limits would "
            "not be shared between processes. Set REDIS_URL and run `portal worker`, or serve "
            "with one process."
        )


def served_app() -> Any:
    """The factory `portal serve` hands uvicorn: each worker process calls it, so each one
    configures its own logging and runs its own lifespan (database pool, bus, job queue)."""
    from app.logging import configure_logging
    from app.main import create_app

    configure_logging()
    return create_app()


def _workers(args: argparse.Namespace) -> int:
    if args.workers is not None:
        return int(args.workers)
    text = os.environ.get("WEB_CONCURRENCY", "").strip() or "1"
    if not text.isdigit():
        raise ServeRefused("WEB_CONCURRENCY must be a whole number of API processes")
    return int(text)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = get_settings()
    try:
        workers = _workers(args)
        check_workers(workers, settings)
    except ServeRefused as refused:
        print(refused, file=sys.stderr)
        raise SystemExit(2) from refused
    uvicorn.run(
        "app.cli:served_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        log_level="info",
        **server_options(settings),
    )


def cmd_worker(args: argparse.Namespace) -> None:
    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit(
            "REDIS_URL is not set: the embedded default runs jobs inside `portal serve`"
        )
    from app.logging import configure_logging
    from workers import supervisor

    configure_logging()
    # Rides out Redis outages: see workers/supervisor.py.
    supervisor.run(settings)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="portal", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (GraphiQL at /graphql)")
    serve.add_argument("--host", help="default: HOST, else 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: PORT, else 8000")
    serve.add_argument(
        "--workers",
        type=int,
        help="API processes sharing the port (default: WEB_CONCURRENCY, else 1); more than "
        "one needs REDIS_URL",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="seed the demo agency, print logins").set_defaults(func=cmd_demo)
    create = sub.add_parser("create-agency", help="create an agency and its first champion")
    create.add_argument("--name", required=True)
    create.add_argument("--slug", required=True)
    create.add_argument("--email", required=True, help="the champion's e-mail")
    create.add_argument("--password", help="the champion's password (prompted if absent)")
    create.set_defaults(func=cmd_create_agency)
    sub.add_parser("export-schema", help="write schema.graphql").set_defaults(
        func=cmd_export_schema
    )
    sub.add_parser(
        "release-schema",
        help="write schema.released.graphql, the contract apps build against (refused if it "
        "breaks the last one)",
    ).set_defaults(func=cmd_release_schema)
    sub.add_parser("worker", help="run the arq worker (needs REDIS_URL)").set_defaults(
        func=cmd_worker
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)
